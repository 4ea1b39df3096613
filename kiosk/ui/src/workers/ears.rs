//! The speech-recognition worker: holds the Whisper model of the language in use (another
//! language's replaces it) and transcribes answers in the background while the candidate goes
//! on to the next question.

use std::collections::HashMap;
use std::path::PathBuf;

use kiosk_config::SpeechSettings;
use kiosk_perception::Ears;
use kiosk_perception::listen::Heard;
use kiosk_screening::Prompt;

use super::Link;

/// A transcription job.
#[derive(Debug, Clone)]
pub enum EarsCmd {
    /// Load a language's models now (at start-up and when the candidate picks a language), so
    /// the first answer does not wait for it.
    Preload(String),
    /// Transcribe one answer.
    Transcribe {
        /// Which question and attempt it answers.
        prompt: Prompt,
        /// `zh-CN` or `en`.
        locale: String,
        /// The role's domain prompt for Whisper.
        hint: Option<String>,
        /// The audio, 16 kHz mono.
        samples: Vec<f32>,
    },
}

/// A transcription result.
#[derive(Debug, Clone)]
pub enum EarsEvent {
    /// The answer, transcribed.
    Heard {
        /// Which question and attempt.
        prompt: Prompt,
        /// What was heard.
        heard: Heard,
    },
    /// It could not be transcribed (a model is missing or broken): the answer is kept as audio
    /// and the result goes to review.
    Failed {
        /// Which question and attempt.
        prompt: Prompt,
        /// Why.
        error: String,
    },
    /// A language's models failed to load.
    LoadFailed(String),
}

/// Starts the worker.
pub fn start(models_dir: PathBuf, speech: SpeechSettings) -> Link<EarsCmd, EarsEvent> {
    super::spawn("ears", move |cmds, events| {
        super::yield_to_frames();
        let mut loaded: HashMap<String, Ears> = HashMap::new();
        for cmd in cmds {
            match cmd {
                EarsCmd::Preload(locale) => {
                    if let Err(e) = get(&mut loaded, &models_dir, &speech, &locale).map(|_| ()) {
                        tracing::error!(%locale, "speech models: {e}");
                        let _ = events.send(EarsEvent::LoadFailed(e));
                    }
                }
                EarsCmd::Transcribe {
                    prompt,
                    locale,
                    hint,
                    samples,
                } => {
                    let out = get(&mut loaded, &models_dir, &speech, &locale).and_then(|ears| {
                        ears.set_prompt(hint);
                        ears.hear_samples(&samples).map_err(|e| e.to_string())
                    });
                    let _ = events.send(match out {
                        Ok(heard) => EarsEvent::Heard { prompt, heard },
                        Err(error) => {
                            tracing::error!(?prompt, "transcription failed: {error}");
                            EarsEvent::Failed { prompt, error }
                        }
                    });
                }
            }
        }
    })
}

/// The loaded models of `locale`, loading them the first time.
fn get<'a>(
    loaded: &'a mut HashMap<String, Ears>,
    models_dir: &std::path::Path,
    speech: &SpeechSettings,
    locale: &str,
) -> Result<&'a mut Ears, String> {
    // Only the language in use stays loaded: the next candidate's language replaces it (the
    // jobs of the previous visit were all before this one on the channel).
    loaded.retain(|l, _| l == locale);
    if !loaded.contains_key(locale) {
        let t = std::time::Instant::now();
        let ears = Ears::load(models_dir, speech, locale, None).map_err(|e| e.to_string())?;
        tracing::info!(
            locale,
            ms = t.elapsed().as_millis() as u64,
            "speech models loaded"
        );
        loaded.insert(locale.to_string(), ears);
    }
    Ok(loaded.get_mut(locale).expect("just inserted"))
}

//! One answer from audio to a scoreable response: VAD end-points it, Whisper transcribes the
//! speech, metrics are measured. Blocking: run it on a worker thread.

use kiosk_screening::{Response, SpeechMetrics};

use crate::asr::{Asr, AsrOptions};
use crate::audio::{RATE, dbfs};
use crate::models::ModelError;
use crate::vad::{EndpointConfig, Endpointer, FRAME, FRAME_MS, Vad};

/// A heard answer: the response for scoring and what the VAD found.
#[derive(Debug, Clone)]
pub struct Heard {
    /// The response (spoken, with segments and metrics).
    pub response: Response,
    /// Milliseconds of audio considered (up to the end-point or the end of the recording).
    pub audio_ms: u32,
    /// Milliseconds spent in speech recognition.
    pub asr_ms: u32,
}

/// Runs VAD then ASR on one recorded answer. `question_end_ms` is where, in `samples`, the
/// question finished (0 when the recording starts after it).
pub fn hear(
    vad: &mut Vad,
    asr: &mut Asr,
    samples: &[f32],
    question_end_ms: u32,
    endpoint: &EndpointConfig,
    opts: &AsrOptions,
) -> Result<Heard, ModelError> {
    vad.reset();
    let mut ep = Endpointer::new(endpoint.clone());
    let mut used = samples.len();
    for (i, frame) in samples.chunks(FRAME).enumerate() {
        if ep.push(vad.frame(frame)?) {
            used = ((i + 1) * FRAME).min(samples.len());
            break;
        }
    }
    let span = ep.finish();
    let audio_ms = (used as u64 * 1000 / u64::from(RATE)) as u32;
    let Some(start) = span.start_ms else {
        // Nothing but silence or noise: nothing to transcribe, and scoring sends it to review.
        return Ok(Heard {
            response: Response::Spoken {
                segments: Vec::new(),
                metrics: SpeechMetrics::default(),
            },
            audio_ms,
            asr_ms: 0,
        });
    };
    let end = span.end_ms.unwrap_or(audio_ms);
    // Transcribe the speech with a little margin either side.
    let from = ((start.saturating_sub(200)) as usize * RATE as usize / 1000).min(used);
    let to = (((end + 300) as usize * RATE as usize) / 1000).min(used);
    let t = std::time::Instant::now();
    let mut segments = asr.transcribe(&samples[from..to], opts)?;
    let asr_ms = t.elapsed().as_millis() as u32;
    let offset = (from as u64 * 1000 / u64::from(RATE)) as u32;
    for s in &mut segments {
        s.start_ms += offset;
        s.end_ms += offset;
    }
    let speech = &samples[from..to];
    Ok(Heard {
        response: Response::Spoken {
            segments,
            metrics: SpeechMetrics {
                latency_ms: Some(start.saturating_sub(question_end_ms)),
                speech_ms: span.speech_ms.max(FRAME_MS),
                pause_ratio: span.pause_ratio,
                loudness_dbfs: Some(dbfs(speech)),
            },
        },
        audio_ms,
        asr_ms,
    })
}

//! Speech-to-text with whisper-rs: loaded once, greedy by default, language from the locale, a
//! domain prompt from the role, per-segment timings and a confidence. Call it from a worker
//! thread: inference blocks for hundreds of milliseconds.

use std::path::Path;

use kiosk_screening::Segment;
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use crate::audio::RATE;
use crate::models::{ModelError, verified};

/// How to transcribe.
#[derive(Debug, Clone, PartialEq)]
pub struct AsrOptions {
    /// Whisper language code: `en`, `zh`.
    pub language: String,
    /// CPU threads.
    pub threads: usize,
    /// Domain words that help recognition (from the role's `asr_prompt`).
    pub prompt: Option<String>,
    /// Encode only as much of Whisper's 30 s window as the answer needs: much faster on short
    /// answers and accurate with tiny.en, but it garbles Chinese with the multilingual base model
    /// (measured), so it is off by default and enabled per model.
    pub trim_audio_ctx: bool,
    /// Decode again at higher temperatures when the first pass looks wrong. Costly (it re-decodes
    /// often with trimmed windows); English tiny.en keeps the same WER without it, Chinese needs it.
    pub temperature_fallback: bool,
}

impl Default for AsrOptions {
    fn default() -> Self {
        Self {
            language: "en".into(),
            threads: 2,
            prompt: None,
            trim_audio_ctx: false,
            temperature_fallback: true,
        }
    }
}

/// A loaded Whisper model.
pub struct Asr {
    name: String,
    state: WhisperState,
    ctx: WhisperContext,
}

impl std::fmt::Debug for Asr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Asr")
            .field("model", &self.name)
            .finish_non_exhaustive()
    }
}

/// Whisper's audio window: 1500 encoder positions for 30 s, 50 per second.
const CTX_PER_SECOND: f32 = 50.0;
const MAX_CTX: i32 = 1500;

/// The encoder positions to use for `seconds` of audio: the answer plus a second of margin,
/// rounded up to a multiple of 64, never more than the full window.
pub fn audio_ctx_for(seconds: f32) -> i32 {
    let needed = ((seconds + 1.0) * CTX_PER_SECOND).ceil() as i32;
    (((needed + 63) / 64) * 64).clamp(64, MAX_CTX)
}

impl Asr {
    /// Loads model `name` (a manifest name such as `whisper-base`), verified first. Flash
    /// attention is faster on CPU but degraded transcripts in our tests; stations keep it off.
    pub fn load(models_dir: &Path, name: &str, flash_attn: bool) -> Result<Self, ModelError> {
        static HOOKS: std::sync::Once = std::sync::Once::new();
        HOOKS.call_once(whisper_rs::install_logging_hooks);
        let path = verified(models_dir, name)?;
        let load = |detail: String| ModelError::Load {
            name: name.to_string(),
            path: path.clone(),
            detail,
        };
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        params.flash_attn(flash_attn);
        let ctx =
            WhisperContext::new_with_params(&path, params).map_err(|e| load(e.to_string()))?;
        let state = ctx.create_state().map_err(|e| load(e.to_string()))?;
        Ok(Self {
            name: name.to_string(),
            state,
            ctx,
        })
    }

    /// Transcribes 16 kHz mono audio into segments (timings in ms from the start of `samples`).
    pub fn transcribe(
        &mut self,
        samples: &[f32],
        opts: &AsrOptions,
    ) -> Result<Vec<Segment>, ModelError> {
        if samples.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        p.set_language(Some(&opts.language));
        p.set_n_threads(opts.threads as i32);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_special(false);
        p.set_print_timestamps(false);
        p.set_no_context(true);
        if !opts.temperature_fallback {
            p.set_temperature_inc(0.0);
        }
        p.set_suppress_blank(true);
        if let Some(prompt) = &opts.prompt {
            p.set_initial_prompt(prompt);
        }
        let seconds = samples.len() as f32 / RATE as f32;
        if opts.trim_audio_ctx && seconds < 29.0 {
            p.set_audio_ctx(audio_ctx_for(seconds));
        }
        // Whisper needs at least a second of audio; pad short answers with silence.
        let mut padded;
        let audio = if samples.len() < RATE as usize + RATE as usize / 4 {
            padded = samples.to_vec();
            padded.resize(RATE as usize + RATE as usize / 4, 0.0);
            &padded[..]
        } else {
            samples
        };
        self.state.full(p, audio).map_err(|e| ModelError::Load {
            name: self.name.clone(),
            path: self.name.clone().into(),
            detail: format!("transcription failed: {e}"),
        })?;
        let eot = self.ctx.token_eot();
        let mut out = Vec::new();
        for seg in self.state.as_iter() {
            let text = seg
                .to_str_lossy()
                .map(|t| t.trim().to_string())
                .unwrap_or_default();
            if text.is_empty() {
                continue;
            }
            // Confidence: mean probability of the tokens that carry words (not timestamps,
            // special tokens or punctuation, whose probabilities say little about what was heard).
            let probs: Vec<f32> = (0..seg.n_tokens())
                .filter_map(|i| seg.get_token(i))
                .filter(|t| t.token_id() < eot)
                .filter(|t| {
                    t.to_str_lossy()
                        .is_ok_and(|s| s.chars().any(char::is_alphanumeric))
                })
                .map(|t| t.token_probability())
                .collect();
            let confidence =
                (!probs.is_empty()).then(|| probs.iter().sum::<f32>() / probs.len() as f32);
            let to_ms = |cs: i64| u32::try_from(cs.max(0) * 10).unwrap_or(u32::MAX);
            out.push(Segment {
                start_ms: to_ms(seg.start_timestamp()),
                end_ms: to_ms(seg.end_timestamp()),
                text,
                confidence,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_ctx_covers_the_answer_with_margin() {
        for (s, ctx) in [
            (0.5, 128),
            (3.0, 256),
            (8.0, 512),
            (20.0, 1088),
            (29.0, 1500),
            (60.0, 1500),
        ] {
            assert_eq!(audio_ctx_for(s), ctx, "{s} s");
            assert!(audio_ctx_for(s) as f32 >= (s.min(30.0)) * CTX_PER_SECOND);
        }
    }
}

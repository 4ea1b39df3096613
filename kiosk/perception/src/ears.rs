//! The station's speech pipeline for one language: VAD and that language's Whisper model, loaded
//! once with the station's settings. Blocking: use it from a worker thread.

use std::path::Path;
use std::time::Duration;

use kiosk_config::SpeechSettings;

use crate::listen::{Heard, hear};
use crate::mic::{CaptureError, Microphone, capture};
use crate::{Asr, AsrOptions, EndpointConfig, ModelError, Vad};

/// Loading or using the speech pipeline failed.
#[derive(Debug, thiserror::Error)]
pub enum EarsError {
    /// The station asked for a language it has no model for.
    #[error("locale `{0}` is not supported: use zh-CN or en")]
    Locale(String),
    /// A model.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Capture.
    #[error(transparent)]
    Capture(#[from] CaptureError),
}

/// The end-pointing the station configures.
pub fn endpoint(settings: &SpeechSettings) -> EndpointConfig {
    EndpointConfig {
        trailing_silence_ms: settings.trailing_silence_ms,
        ..EndpointConfig::default()
    }
}

/// Loaded models for one language.
#[derive(Debug)]
pub struct Ears {
    vad: Vad,
    asr: Asr,
    opts: AsrOptions,
    endpoint: EndpointConfig,
}

impl Ears {
    /// Loads VAD and the Whisper model the station uses for `locale` (`zh-CN` or `en`).
    pub fn load(
        models_dir: &Path,
        s: &SpeechSettings,
        locale: &str,
        prompt: Option<String>,
    ) -> Result<Self, EarsError> {
        let (language, model, (trim, fallback), (beam, nst)) = match locale {
            "zh-CN" => (
                "zh",
                &s.model_zh,
                (s.trim_audio_ctx_zh, s.temperature_fallback_zh),
                (s.beam_size_zh, s.suppress_non_speech_zh),
            ),
            "en" => (
                "en",
                &s.model_en,
                (s.trim_audio_ctx_en, s.temperature_fallback_en),
                (1, false),
            ),
            other => return Err(EarsError::Locale(other.to_string())),
        };
        Ok(Self {
            vad: Vad::load(models_dir)?,
            asr: Asr::load(models_dir, model, s.flash_attn)?,
            opts: AsrOptions {
                language: language.into(),
                threads: s.threads,
                prompt,
                trim_audio_ctx: trim,
                temperature_fallback: fallback,
                split_long_answers: s.split_long_answers,
                beam_size: beam,
                suppress_non_speech: nst,
            },
            endpoint: endpoint(s),
        })
    }

    /// Changes the domain prompt (each role has its own).
    pub fn set_prompt(&mut self, prompt: Option<String>) {
        self.opts.prompt = prompt.filter(|p| !p.is_empty());
    }

    /// Captures one answer from a microphone (until `end_silence_ms` of silence after speech,
    /// or `limit`), then transcribes all of it.
    pub fn hear_mic(
        &mut self,
        mic: &mut dyn Microphone,
        limit: Duration,
        end_silence_ms: u32,
    ) -> Result<(Vec<f32>, Heard), EarsError> {
        let live = EndpointConfig {
            trailing_silence_ms: end_silence_ms,
            ..self.endpoint.clone()
        };
        let samples = capture(mic, &mut self.vad, &live, limit)?;
        let heard = self.hear_samples(&samples)?;
        Ok((samples, heard))
    }

    /// Transcribes one recorded answer's audio (16 kHz mono): every stretch of speech in it.
    pub fn hear_samples(&mut self, samples: &[f32]) -> Result<Heard, EarsError> {
        Ok(hear(
            &mut self.vad,
            &mut self.asr,
            samples,
            0,
            &self.endpoint,
            &self.opts,
        )?)
    }
}

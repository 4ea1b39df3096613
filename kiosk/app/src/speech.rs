//! The station's speech pipeline for command-line use: VAD and the Whisper model of a language,
//! loaded once, with the station's settings.

use std::path::Path;

use anyhow::Context as _;
use kiosk_config::Station;
use kiosk_perception::listen::{Heard, hear};
use kiosk_perception::{Asr, AsrOptions, EndpointConfig, Vad};

use crate::UsageError;

/// Loaded models for one language.
pub struct Ears {
    vad: Vad,
    asr: Asr,
    opts: AsrOptions,
    endpoint: EndpointConfig,
}

impl Ears {
    /// Loads VAD and the Whisper model the station uses for `locale`.
    pub fn load(station: &Station, locale: &str, prompt: Option<String>) -> anyhow::Result<Self> {
        let s = &station.config.speech;
        let (language, model, (trim, fallback)) = match locale {
            "zh-CN" => (
                "zh",
                &s.model_zh,
                (s.trim_audio_ctx_zh, s.temperature_fallback_zh),
            ),
            "en" => (
                "en",
                &s.model_en,
                (s.trim_audio_ctx_en, s.temperature_fallback_en),
            ),
            other => {
                return Err(UsageError(format!(
                    "locale `{other}` is not supported: use zh-CN or en"
                ))
                .into());
            }
        };
        let dir = &station.models_dir;
        Ok(Self {
            vad: Vad::load(dir).context("loading voice activity detection")?,
            asr: Asr::load(dir, model, s.flash_attn).context("loading speech recognition")?,
            opts: AsrOptions {
                language: language.into(),
                threads: s.threads,
                prompt,
                trim_audio_ctx: trim,
                temperature_fallback: fallback,
            },
            endpoint: EndpointConfig {
                trailing_silence_ms: s.trailing_silence_ms,
                ..EndpointConfig::default()
            },
        })
    }

    /// Captures one answer from a microphone (until it ends or `limit`), then transcribes it.
    pub fn hear_mic(
        &mut self,
        mic: &mut dyn kiosk_perception::mic::Microphone,
        limit: std::time::Duration,
    ) -> anyhow::Result<Heard> {
        let samples = kiosk_perception::mic::capture(mic, &mut self.vad, &self.endpoint, limit)?;
        self.hear_samples(&samples)
    }

    /// End-points and transcribes one answer's audio (16 kHz mono).
    fn hear_samples(&mut self, samples: &[f32]) -> anyhow::Result<Heard> {
        Ok(hear(
            &mut self.vad,
            &mut self.asr,
            samples,
            0,
            &self.endpoint,
            &self.opts,
        )?)
    }

    /// End-points and transcribes one recorded answer.
    pub fn hear_file(&mut self, file: &Path) -> anyhow::Result<Heard> {
        let samples =
            kiosk_perception::audio::read_wav(file).map_err(|e| UsageError(e.to_string()))?;
        self.hear_samples(&samples)
    }
}

//! The station's speech pipeline for command-line use: [`Ears`] with command-line errors.

use std::path::Path;

use anyhow::Context as _;
use kiosk_config::Station;
use kiosk_perception::listen::Heard;
use kiosk_perception::{Ears, EarsError};

use crate::UsageError;

/// Loads VAD and the Whisper model the station uses for `locale`; an unknown locale is a usage error.
pub fn load(station: &Station, locale: &str, prompt: Option<String>) -> anyhow::Result<Ears> {
    match Ears::load(&station.models_dir, &station.config.speech, locale, prompt) {
        Err(EarsError::Locale(l)) => {
            Err(UsageError(format!("locale `{l}` is not supported: use zh-CN or en")).into())
        }
        other => other.context("loading speech models"),
    }
}

/// End-points and transcribes one recorded answer; an unreadable file is a usage error.
pub fn hear_file(ears: &mut Ears, file: &Path) -> anyhow::Result<Heard> {
    let samples = kiosk_perception::audio::read_wav(file).map_err(|e| UsageError(e.to_string()))?;
    Ok(ears.hear_samples(&samples)?)
}

//! `kiosk transcribe`: VAD + speech recognition on WAV files, with the time spent in recognition.

use std::path::{Path, PathBuf};

use kiosk_config::Station;
use serde::Serialize;

use crate::UsageError;
use crate::speech::Ears;

#[derive(Debug, Serialize)]
struct Row {
    file: String,
    transcript: String,
    asr_ms: u32,
    audio_ms: u32,
}

/// Runs the command.
pub fn run(
    station: &Path,
    locale: Option<&str>,
    files: &[PathBuf],
    json: bool,
) -> anyhow::Result<()> {
    let st =
        Station::load(station).map_err(|e| UsageError(format!("invalid configuration:\n{e}")))?;
    let locale = locale.unwrap_or(&st.config.station.locale).to_string();
    let mut ears = Ears::load(&st, &locale, None)?;
    let mut rows = Vec::new();
    for f in files {
        let heard = ears.hear_file(f)?;
        rows.push(Row {
            file: f.display().to_string(),
            transcript: heard.response.transcript(),
            asr_ms: heard.asr_ms,
            audio_ms: heard.audio_ms,
        });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for r in &rows {
            println!(
                "{} ({} ms of audio, {} ms ASR): {}",
                r.file, r.audio_ms, r.asr_ms, r.transcript
            );
        }
    }
    Ok(())
}

//! `kiosk transcribe`: VAD + speech recognition on WAV files (or one answer from the microphone),
//! with the time spent in recognition.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kiosk_config::Station;
use kiosk_perception::mic::CpalMic;
use serde::Serialize;

use crate::UsageError;
use crate::speech;

#[derive(Debug, Serialize)]
struct Row {
    file: String,
    transcript: String,
    asr_ms: u32,
    audio_ms: u32,
}

/// Capture from a microphone instead of files.
#[derive(Debug)]
pub struct MicChoice {
    /// Device name part.
    pub device: Option<String>,
    /// Longest capture.
    pub max_seconds: u64,
}

/// Runs the command.
pub fn run(
    station: &Path,
    locale: Option<&str>,
    files: &[PathBuf],
    mic: Option<MicChoice>,
    prompt: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let st =
        Station::load(station).map_err(|e| UsageError(format!("invalid configuration:\n{e}")))?;
    let locale = locale.unwrap_or(&st.config.station.locale).to_string();
    let mut ears = speech::load(&st, &locale, prompt)?;
    let mut rows = Vec::new();
    if let Some(m) = mic {
        let mut device = CpalMic::new(m.device);
        // An answer to an open question: the station's longer end-of-answer silence.
        let (_, heard) = ears.hear_mic(
            &mut device,
            Duration::from_secs(m.max_seconds),
            st.config.speech.trailing_silence_open_ms,
        )?;
        rows.push(Row {
            file: "microphone".into(),
            transcript: heard.response.transcript(),
            asr_ms: heard.asr_ms,
            audio_ms: heard.audio_ms,
        });
    }
    for f in files {
        let heard = speech::hear_file(&mut ears, f)?;
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

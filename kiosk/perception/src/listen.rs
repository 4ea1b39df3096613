//! One answer from audio to a scoreable response: VAD finds every stretch of speech in the
//! recording, Whisper transcribes all of them (long pauses shortened), metrics are measured.
//! Blocking: run it on a worker thread.

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
    /// Milliseconds of audio in the recording.
    pub audio_ms: u32,
    /// Milliseconds spent in speech recognition.
    pub asr_ms: u32,
}

/// Audio kept before each stretch of speech.
const LEAD_MS: u32 = 200;
/// Audio kept after each stretch of speech.
const TAIL_MS: u32 = 300;

/// Runs VAD then ASR on one recorded answer. `question_end_ms` is where, in `samples`, the
/// question finished (0 when the recording starts after it).
///
/// The recording is a whole answer: end-pointing decided only when live recording stopped.
/// Every stretch of speech the VAD finds is transcribed, however long the pauses between them;
/// the pauses are shortened to about half a second first (less audio to encode, nothing for
/// Whisper to hallucinate into), and segment times are mapped back onto the recording.
pub fn hear(
    vad: &mut Vad,
    asr: &mut Asr,
    samples: &[f32],
    question_end_ms: u32,
    endpoint: &EndpointConfig,
    opts: &AsrOptions,
) -> Result<Heard, ModelError> {
    vad.reset();
    let mut ep = Endpointer::new(endpoint.whole());
    for frame in samples.chunks(FRAME) {
        ep.push(vad.frame(frame)?);
    }
    let span = ep.finish();
    let audio_ms = ms_of(samples.len());
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
    let kept = pieces(&span.regions, samples.len());
    let mut speech = Vec::with_capacity(kept.iter().map(|(a, b)| b - a).sum());
    for (from, to) in &kept {
        speech.extend_from_slice(&samples[*from..*to]);
    }
    let t = std::time::Instant::now();
    let mut segments = asr.transcribe(&speech, opts)?;
    let asr_ms = t.elapsed().as_millis() as u32;
    for s in &mut segments {
        s.start_ms = on_recording(&kept, s.start_ms, false);
        s.end_ms = on_recording(&kept, s.end_ms, true).max(s.start_ms);
    }
    Ok(Heard {
        response: Response::Spoken {
            segments,
            metrics: SpeechMetrics {
                latency_ms: Some(start.saturating_sub(question_end_ms)),
                speech_ms: span.speech_ms.max(FRAME_MS),
                pause_ratio: span.pause_ratio,
                loudness_dbfs: Some(dbfs(&speech)),
            },
        },
        audio_ms,
        asr_ms,
    })
}

fn ms_of(samples: usize) -> u32 {
    (samples as u64 * 1000 / u64::from(RATE)) as u32
}

fn samples_of(ms: u32) -> usize {
    ms as usize * RATE as usize / 1000
}

/// The parts of a recording of `len` samples to transcribe: each speech region (ms) with its
/// lead and tail, merged where they touch. Joined, two parts leave about half a second of the
/// room's own sound between two stretches of speech.
pub fn pieces(regions: &[(u32, u32)], len: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &(start, end) in regions {
        let from = samples_of(start.saturating_sub(LEAD_MS)).min(len);
        let to = samples_of(end + TAIL_MS).min(len);
        match out.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ if from < to => out.push((from, to)),
            _ => {}
        }
    }
    out
}

/// Maps a time in the joined parts back onto the recording. `end` maps a time on a joint to
/// the end of the earlier part rather than the start of the later one.
fn on_recording(kept: &[(usize, usize)], ms: u32, end: bool) -> u32 {
    let mut joined = 0u32;
    for (from, to) in kept {
        let len = ms_of(to - from);
        if ms < joined + len || (end && ms == joined + len) {
            return ms_of(*from) + (ms - joined);
        }
        joined += len;
    }
    kept.last().map_or(ms, |(_, to)| ms_of(*to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_are_shortened_and_times_map_back() {
        let len = samples_of(20_000);
        // Speech 1–4 s, 6–9 s (a 2 s pause), 9.3–12 s (a 0.3 s pause: kept whole).
        let kept = pieces(&[(1000, 4000), (6000, 9000), (9300, 12_000)], len);
        assert_eq!(
            kept,
            vec![
                (samples_of(800), samples_of(4300)),
                (samples_of(5800), samples_of(12_300))
            ]
        );
        // 0–3.5 s of the joined audio is 0.8–4.3 s of the recording; then 5.8 s on.
        assert_eq!(on_recording(&kept, 0, false), 800);
        assert_eq!(on_recording(&kept, 3500, true), 4300);
        assert_eq!(on_recording(&kept, 3500, false), 5800);
        assert_eq!(on_recording(&kept, 4000, false), 6300);
        // Past the end (Whisper's rounding): the end of the last part.
        assert_eq!(on_recording(&kept, 60_000, true), 12_300);
        // Margins never leave the recording.
        assert_eq!(pieces(&[(100, 19_900)], len), vec![(0, len)]);
    }
}

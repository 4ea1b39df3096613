//! One answer from audio to a scoreable response: VAD finds every stretch of speech in the
//! recording, Whisper transcribes all of them (long pauses shortened), metrics are measured.
//! Blocking: run it on a worker thread.

use kiosk_screening::{Response, SpeechMetrics};

use crate::asr::{Asr, AsrOptions, SPLIT_MIN_S, split_point};
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
    let cuts = if crate::asr::splits(opts) {
        cuts_at_pauses(&kept, &speech)
    } else {
        Vec::new()
    };
    let t = std::time::Instant::now();
    let mut segments = asr.transcribe_parts(&speech, &cuts, opts)?;
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

/// The longest part a long answer is cut into: each part is one Whisper pass, and a pass costs
/// more per second the longer it is, but every pass has its fixed cost too.
const PART_MAX_S: f32 = 20.0;

/// Where to cut the joined `speech` of a long answer: at the joints between the recording's
/// parts (`kept`), each a pause the candidate made, into as few parts as keep each under
/// [`PART_MAX_S`] and at least two (the two lanes of [`Asr::transcribe_parts`]), each cut at the
/// joint nearest its even share. An answer shorter than [`SPLIT_MIN_S`] is not cut; a long one
/// without pauses is cut at its quietest stretch near the middle ([`split_point`]), as a
/// recording without VAD would be.
pub fn cuts_at_pauses(kept: &[(usize, usize)], speech: &[f32]) -> Vec<usize> {
    let len = speech.len();
    if (len as f32) < SPLIT_MIN_S * RATE as f32 {
        return Vec::new();
    }
    let joints: Vec<usize> = kept
        .iter()
        .scan(0, |at, (from, to)| {
            *at += to - from;
            Some(*at)
        })
        .filter(|&j| j < len)
        .collect();
    let parts = ((len as f32 / (PART_MAX_S * RATE as f32)).ceil() as usize).max(2);
    let mut cuts: Vec<usize> = Vec::new();
    for k in 1..parts {
        let ideal = len * k / parts;
        let nearest = joints
            .iter()
            .copied()
            .filter(|&j| cuts.last().is_none_or(|&c| j > c))
            .min_by_key(|&j| j.abs_diff(ideal));
        // A joint far from its share would leave one part with most of the answer.
        if let Some(j) = nearest.filter(|&j| j.abs_diff(ideal) <= len / (2 * parts)) {
            cuts.push(j);
        }
    }
    if cuts.is_empty() {
        cuts.extend(split_point(speech));
    }
    cuts
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

    #[test]
    fn long_answers_are_cut_at_the_pauses_nearest_even_shares() {
        let s = |secs: f32| (secs * RATE as f32) as usize;
        let joined = |lens: &[f32]| {
            let mut kept = Vec::new();
            let mut at = 0;
            for l in lens {
                kept.push((at, at + s(*l)));
                at += s(*l) + s(2.0); // the pauses in the recording
            }
            (kept, vec![0.1; lens.iter().map(|l| s(*l)).sum()])
        };
        // 20.5 s in parts of 6, 1.5, 5, 2 and 6 s: two parts, cut at the joint nearest 10.25 s.
        let (kept, speech) = joined(&[6.0, 1.5, 5.0, 2.0, 6.0]);
        assert_eq!(cuts_at_pauses(&kept, &speech), vec![s(12.5)]);
        // 45 s: three parts, at the joints nearest 15 and 30 s.
        let (kept, speech) = joined(&[7.0, 7.0, 7.0, 8.0, 8.0, 8.0]);
        assert_eq!(cuts_at_pauses(&kept, &speech), vec![s(14.0), s(29.0)]);
        // The only pause is near the start: not worth a cut there; no quiet stretch either.
        let (kept, speech) = joined(&[1.0, 14.0]);
        assert!(cuts_at_pauses(&kept, &speech).is_empty());
        // Short answers are one part.
        let (kept, speech) = joined(&[5.0, 4.0]);
        assert!(cuts_at_pauses(&kept, &speech).is_empty());
    }
}

//! Voice activity with Silero VAD (ONNX) and the end-pointing of answers: speech starts, and ends
//! after a configurable trailing silence or the question's time limit.

use std::path::Path;

use ndarray::{Array2, Array3, ArrayD, IxDyn};
use ort::session::Session;
use ort::value::Tensor;

use crate::audio::RATE;
use crate::models::ModelError;

/// Samples per VAD frame at 16 kHz (32 ms).
pub const FRAME: usize = 512;
const CONTEXT: usize = 64;
/// Milliseconds per frame.
pub const FRAME_MS: u32 = (FRAME as u32 * 1000) / RATE;

/// Silero VAD, streaming: feed consecutive frames of one recording.
pub struct Vad {
    session: Session,
    state: Array3<f32>,
    context: Vec<f32>,
}

impl std::fmt::Debug for Vad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vad").finish_non_exhaustive()
    }
}

impl Vad {
    /// Loads the verified model from `models_dir`.
    pub fn load(models_dir: &Path) -> Result<Self, ModelError> {
        Ok(Self {
            session: crate::onnx::session(models_dir, "silero-vad", 1)?,
            state: Array3::zeros((2, 1, 128)),
            context: vec![0.0; CONTEXT],
        })
    }

    /// Forgets the previous recording.
    pub fn reset(&mut self) {
        self.state.fill(0.0);
        self.context.iter_mut().for_each(|c| *c = 0.0);
    }

    /// Speech probability of the next frame (shorter frames are zero-padded).
    pub fn frame(&mut self, frame: &[f32]) -> Result<f32, ModelError> {
        let mut input = Vec::with_capacity(CONTEXT + FRAME);
        input.extend_from_slice(&self.context);
        input.extend_from_slice(&frame[..frame.len().min(FRAME)]);
        input.resize(CONTEXT + FRAME, 0.0);
        self.context.copy_from_slice(&input[FRAME..]);
        let err = |e: ort::Error| ModelError::Load {
            name: "silero-vad".into(),
            path: "silero_vad.onnx".into(),
            detail: e.to_string(),
        };
        let x =
            Tensor::from_array(Array2::from_shape_vec((1, CONTEXT + FRAME), input).expect("shape"))
                .map_err(err)?;
        let state = Tensor::from_array(self.state.clone()).map_err(err)?;
        let sr = Tensor::from_array(ArrayD::from_elem(IxDyn(&[]), i64::from(RATE))).map_err(err)?;
        let outputs = self
            .session
            .run(ort::inputs!["input" => x, "state" => state, "sr" => sr])
            .map_err(err)?;
        let p = outputs["output"]
            .try_extract_array::<f32>()
            .map_err(err)?
            .iter()
            .copied()
            .next()
            .unwrap_or(0.0);
        let next = outputs["stateN"].try_extract_array::<f32>().map_err(err)?;
        self.state
            .assign(
                &next
                    .into_shape_with_order((2, 1, 128))
                    .map_err(|e| ModelError::Load {
                        name: "silero-vad".into(),
                        path: "silero_vad.onnx".into(),
                        detail: e.to_string(),
                    })?,
            );
        Ok(p)
    }

    /// Speech probability of every frame of a recording (state reset first).
    pub fn probabilities(&mut self, samples: &[f32]) -> Result<Vec<f32>, ModelError> {
        self.reset();
        samples.chunks(FRAME).map(|f| self.frame(f)).collect()
    }
}

/// When speech counts as started and as ended.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointConfig {
    /// Probability above which a frame is speech.
    pub threshold: f32,
    /// Probability below which a frame is silence (hysteresis).
    pub silence_threshold: f32,
    /// Speech shorter than this is ignored (a cough, a click).
    pub min_speech_ms: u32,
    /// Silence after speech that ends the answer.
    pub trailing_silence_ms: u32,
}

impl EndpointConfig {
    /// The same thresholds, but the answer never ends on silence: for audio already recorded,
    /// where every stretch of speech belongs to the answer.
    pub fn whole(&self) -> Self {
        Self {
            trailing_silence_ms: u32::MAX,
            ..self.clone()
        }
    }
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            silence_threshold: 0.35,
            min_speech_ms: 250,
            trailing_silence_ms: 1200,
        }
    }
}

/// Where the speech in an answer is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpeechSpan {
    /// First speech, ms from the start of the recording.
    pub start_ms: Option<u32>,
    /// End of the last speech.
    pub end_ms: Option<u32>,
    /// Milliseconds of speech frames.
    pub speech_ms: u32,
    /// Share of the first-to-last speech stretch spent silent.
    pub pause_ratio: Option<f32>,
    /// True when the trailing silence was reached (the answer is over).
    pub ended: bool,
    /// Every stretch of speech (`[start, end)` ms), in order: an answer with pauses has several.
    pub regions: Vec<(u32, u32)>,
}

/// Streaming end-pointer over per-frame probabilities: pure logic, testable without a model.
/// Live, it decides when an answer is over; over a whole recording (with
/// [`EndpointConfig::whole`]) it never ends and finds every stretch of speech.
#[derive(Debug, Clone)]
pub struct Endpointer {
    cfg: EndpointConfig,
    frames: u32,
    in_speech: bool,
    run_start: u32,
    silent_run: u32,
    span: SpeechSpan,
}

impl Endpointer {
    /// A fresh end-pointer.
    pub fn new(cfg: EndpointConfig) -> Self {
        Self {
            cfg,
            frames: 0,
            in_speech: false,
            run_start: 0,
            silent_run: 0,
            span: SpeechSpan::default(),
        }
    }

    /// Feeds one frame's probability; returns true once the answer has ended.
    pub fn push(&mut self, p: f32) -> bool {
        let at = self.frames * FRAME_MS;
        self.frames += 1;
        if self.span.ended {
            return true;
        }
        if !self.in_speech && p >= self.cfg.threshold {
            self.in_speech = true;
            self.run_start = at;
            self.silent_run = 0;
        } else if self.in_speech && p < self.cfg.silence_threshold {
            self.in_speech = false;
            self.close_run(at);
        }
        if self.in_speech {
            self.silent_run = 0;
        } else if self.span.start_ms.is_some() {
            self.silent_run += FRAME_MS;
            if self.silent_run >= self.cfg.trailing_silence_ms {
                self.span.ended = true;
            }
        }
        self.span.ended
    }

    fn close_run(&mut self, at: u32) {
        let len = at - self.run_start;
        if len >= self.cfg.min_speech_ms {
            self.span.start_ms.get_or_insert(self.run_start);
            self.span.end_ms = Some(at);
            self.span.speech_ms += len;
            self.span.regions.push((self.run_start, at));
        }
    }

    /// Milliseconds of silence since the last speech (0 while speaking or before any speech).
    pub fn silence_ms(&self) -> u32 {
        if self.span.start_ms.is_some() || self.in_speech {
            self.silent_run
        } else {
            0
        }
    }

    /// The speech found so far (a run still open is counted up to now).
    pub fn finish(mut self) -> SpeechSpan {
        if self.in_speech {
            let at = self.frames * FRAME_MS;
            self.close_run(at);
        }
        if let (Some(s), Some(e)) = (self.span.start_ms, self.span.end_ms) {
            let total = e.saturating_sub(s).max(1);
            self.span.pause_ratio =
                Some(1.0 - (self.span.speech_ms.min(total) as f32 / total as f32));
        }
        self.span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(probs: &[f32], cfg: EndpointConfig) -> (SpeechSpan, Option<usize>) {
        let mut e = Endpointer::new(cfg);
        let mut ended_at = None;
        for (i, p) in probs.iter().enumerate() {
            if e.push(*p) && ended_at.is_none() {
                ended_at = Some(i);
            }
        }
        (e.finish(), ended_at)
    }

    #[test]
    fn endpointing_table() {
        let frames = |ms: u32| (ms / FRAME_MS) as usize;
        let mut speech = vec![0.0; frames(640)];
        speech.extend(vec![0.9; frames(1600)]);
        speech.extend(vec![0.1; frames(2000)]);
        let (span, ended) = run(&speech, EndpointConfig::default());
        assert_eq!(span.start_ms, Some(640));
        assert_eq!(span.end_ms, Some(640 + 1600));
        assert_eq!(span.speech_ms, 1600);
        assert!(span.ended);
        // Ended after the trailing silence, not before.
        let end_frame = ended.expect("ended");
        assert!(
            end_frame * FRAME_MS as usize >= 640 + 1600 + 1200 - FRAME_MS as usize,
            "{end_frame}"
        );

        // Silence only: nothing, never ends on its own (the time limit does).
        let (span, ended) = run(&vec![0.05; frames(5000)], EndpointConfig::default());
        assert_eq!((span.start_ms, span.ended, ended), (None, false, None));

        // A click shorter than min_speech_ms is ignored.
        let mut click = vec![0.0; frames(320)];
        click.extend(vec![0.95; 3]);
        click.extend(vec![0.0; frames(3000)]);
        assert_eq!(run(&click, EndpointConfig::default()).0.start_ms, None);

        // A short pause inside the answer does not end it, and counts as a pause.
        let mut paused = vec![0.9; frames(960)];
        paused.extend(vec![0.1; frames(640)]);
        paused.extend(vec![0.9; frames(960)]);
        let (span, ended) = run(&paused, EndpointConfig::default());
        assert_eq!(ended, None);
        assert_eq!(span.start_ms, Some(0));
        let ratio = span.pause_ratio.expect("ratio");
        assert!((ratio - 0.25).abs() < 0.05, "{ratio}");
    }

    #[test]
    fn a_whole_recording_keeps_every_stretch_of_speech() {
        let frames = |ms: u32| (ms / FRAME_MS) as usize;
        // Three sentences with 1.7 s and 2.5 s pauses: live, the default ends the answer at the
        // first pause; over the recording, all three are found.
        let mut probs = vec![0.0; frames(320)];
        for (speech, pause) in [(2000, 1700), (3000, 2500), (1500, 800)] {
            probs.extend(vec![0.9; frames(speech)]);
            probs.extend(vec![0.05; frames(pause)]);
        }
        let (live, ended) = run(&probs, EndpointConfig::default());
        assert!(ended.is_some() && live.regions.len() == 1, "{live:?}");
        let (whole, ended) = run(&probs, EndpointConfig::default().whole());
        assert_eq!(ended, None);
        assert_eq!(whole.regions.len(), 3, "{whole:?}");
        let (first, last) = (whole.regions[0], whole.regions[2]);
        assert_eq!(whole.start_ms, Some(first.0));
        assert_eq!(whole.end_ms, Some(last.1));
        assert!(last.1 - first.0 > 10_000, "{whole:?}");
    }

    #[test]
    fn silence_is_counted_only_after_speech() {
        let mut e = Endpointer::new(EndpointConfig::default());
        for _ in 0..20 {
            e.push(0.0);
        }
        assert_eq!(e.silence_ms(), 0);
        for _ in 0..20 {
            e.push(0.9);
        }
        assert_eq!(e.silence_ms(), 0);
        for _ in 0..10 {
            e.push(0.0);
        }
        assert_eq!(e.silence_ms(), 10 * FRAME_MS);
        e.push(0.9);
        assert_eq!(e.silence_ms(), 0, "speech resumed: the same answer goes on");
    }
}

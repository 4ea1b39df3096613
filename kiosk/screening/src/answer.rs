//! What the scorer gets for each question: a transcript with timings and metrics, typed text, a tap, or nothing.

use serde::{Deserialize, Serialize};

use crate::text::{Located, tokenise};

/// One recognised stretch of speech.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Start, milliseconds from the start of the answer recording.
    pub start_ms: u32,
    /// End, milliseconds from the start of the answer recording.
    pub end_ms: u32,
    /// Recognised text.
    pub text: String,
    /// Recogniser confidence 0–1, when known.
    pub confidence: Option<f32>,
}

/// Measurements of a spoken answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpeechMetrics {
    /// From the end of the question to the first speech.
    pub latency_ms: Option<u32>,
    /// Time spent speaking.
    pub speech_ms: u32,
    /// Share of the answer (first to last speech) spent silent, 0–1.
    pub pause_ratio: Option<f32>,
    /// Mean loudness of speech in dBFS.
    pub loudness_dbfs: Option<f32>,
}

/// How a question was answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Response {
    /// Spoken and transcribed.
    Spoken {
        /// Transcript segments in order.
        segments: Vec<Segment>,
        /// Measurements.
        metrics: SpeechMetrics,
    },
    /// Typed (role authoring, tests): trusted text, no metrics.
    Typed {
        /// The text.
        text: String,
    },
    /// A yes/no button.
    Tapped {
        /// True for yes.
        yes: bool,
    },
    /// Availability chips tapped.
    Chose {
        /// What was chosen.
        availability: crate::availability::Availability,
    },
    /// No answer at all (time ran out, skipped).
    Missing,
}

/// An answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The question answered.
    pub question_id: String,
    /// The answer.
    pub response: Response,
}

impl Response {
    /// The full transcript (or typed text, or "yes"/"no" for a tap).
    pub fn transcript(&self) -> String {
        match self {
            Self::Spoken { segments, .. } => segments
                .iter()
                .map(|s| s.text.trim())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
            Self::Typed { text } => text.trim().to_string(),
            Self::Tapped { yes } => if *yes { "yes" } else { "no" }.to_string(),
            Self::Chose { availability } => availability.describe(),
            Self::Missing => String::new(),
        }
    }

    /// Tokens with the segment each came from.
    pub fn tokens(&self) -> Vec<Located> {
        let texts: Vec<&str> = match self {
            Self::Spoken { segments, .. } => segments.iter().map(|s| s.text.as_str()).collect(),
            Self::Typed { text } => vec![text.as_str()],
            Self::Tapped { .. } | Self::Chose { .. } | Self::Missing => Vec::new(),
        };
        texts
            .into_iter()
            .enumerate()
            .flat_map(|(segment, t)| {
                tokenise(t)
                    .into_iter()
                    .map(move |token| Located { token, segment })
            })
            .collect()
    }

    /// Start time of a segment, for evidence ("said at 1.2 s").
    pub fn segment_start_ms(&self, segment: usize) -> Option<u32> {
        match self {
            Self::Spoken { segments, .. } => segments.get(segment).map(|s| s.start_ms),
            _ => None,
        }
    }

    /// Mean recogniser confidence weighted by text length; `None` when not transcribed.
    pub fn asr_confidence(&self) -> Option<f32> {
        let Self::Spoken { segments, .. } = self else {
            return None;
        };
        let (sum, n) = segments
            .iter()
            .filter_map(|s| {
                s.confidence
                    .map(|c| (c, s.text.chars().count().max(1) as f32))
            })
            .fold((0.0, 0.0), |(sum, n), (c, w)| (sum + c * w, n + w));
        (n > 0.0).then(|| sum / n)
    }

    /// Short name of the source, as stored and shown.
    pub fn source(&self) -> &'static str {
        match self {
            Self::Spoken { .. } => "spoken",
            Self::Typed { .. } => "typed",
            Self::Tapped { .. } => "tapped",
            Self::Chose { .. } => "chose",
            Self::Missing => "missing",
        }
    }
}

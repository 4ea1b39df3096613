//! The explainable screening result: per-dimension scores with evidence, total, recommendation, reasons.

use serde::{Deserialize, Serialize};

/// What the model suggests. A person always decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    /// Total at or above the role's pass threshold, nothing doubtful.
    Advance,
    /// Something made the result unreliable: a person must look (see `reasons`).
    Review,
    /// Total below the pass threshold on reliable input.
    NotRecommended,
}

impl Recommendation {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Advance => "advance",
            Self::Review => "review",
            Self::NotRecommended => "not_recommended",
        }
    }
}

/// Where a result stands. Every fresh result awaits a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for the store manager's decision.
    AwaitingReview,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingReview => "awaiting_review",
        }
    }
}

/// Why a result needs review rather than a recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// Nothing was said (or typed) for a question.
    NoSpeech,
    /// The answer is too short to judge and nothing in it was recognised.
    TooShort,
    /// Speech recognition was not confident enough to trust the transcript.
    LowConfidence,
    /// A yes/no question got an answer that is neither.
    UnclearIntent,
    /// A dimension has no usable evidence at all.
    DimensionUnscored,
    /// The camera rarely saw the candidate.
    NotVisible,
    /// More than one person appeared on camera.
    MultiplePeople,
    /// A yes/no answer reads as a refusal only through phrases matched by sound (toneless
    /// pinyin): a likely misrecognition must not decide a "no", a person listens.
    RefusalBySound,
}

/// The camera's presence and integrity report for one interview (never used to score).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoSummary {
    /// Frames sampled.
    pub frames: u32,
    /// Share of frames with a face.
    pub face_present_ratio: f32,
    /// Share of frames with more than one face.
    pub multiple_faces_ratio: f32,
    /// Share of frames whose main face looks at the camera.
    pub frontal_ratio: f32,
    /// Share of frames too dark to see anyone.
    pub too_dark_ratio: f32,
}

/// One reason for review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Machine-readable code.
    pub code: ReasonCode,
    /// The question concerned, if any.
    pub question_id: Option<String>,
    /// The dimension concerned, if any.
    pub dimension: Option<String>,
    /// The measured value behind it, if any: the transcript's confidence (`low_confidence`),
    /// the words heard (`too_short`), the percentage of frames (`not_visible`,
    /// `multiple_people`). Screens render the code with it in the viewer's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// A sentence for the reviewer, in English (logs, the command line).
    pub message: String,
}

/// A must-have question answered with a clear "no".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Knockout {
    /// The question.
    pub question_id: String,
    /// A sentence for the reviewer, quoting what was said.
    pub message: String,
}

/// A phrase that drove a score, with when it was said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhraseMatch {
    /// The phrase as heard (normalised).
    pub phrase: String,
    /// What it counted as (`yes`, `no`, `hedge`, or the keyword group's label).
    pub meaning: String,
    /// Milliseconds into the answer, for spoken answers.
    pub at_ms: Option<u32>,
    /// Matched by sound only (toneless pinyin): the configured phrase the heard words sound
    /// like, e.g. heard 两班到, matched 两班倒. `None` for a match as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_sound: Option<String>,
}

/// What one rule found in one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The question the answer belongs to.
    pub question_id: String,
    /// Rule type: `intent`, `keywords` or `metric`.
    pub rule: String,
    /// The rule's score 0–100; `None` when it could not be applied.
    pub score: Option<f64>,
    /// The rule's weight within the dimension.
    pub weight: f64,
    /// Phrases that drove the score.
    pub matches: Vec<PhraseMatch>,
    /// Metric name and value, for metric rules.
    pub metric: Option<MetricValue>,
    /// A sentence for the reviewer.
    pub explanation: String,
}

/// A measured value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    /// Metric name (`speech_rate`, `units` …).
    pub name: String,
    /// Its value.
    pub value: f64,
}

/// One dimension's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    /// Dimension id.
    pub id: String,
    /// Score 0–100; `None` when there was no usable evidence.
    pub score: Option<u8>,
    /// Share of the total in percent.
    pub weight: u8,
    /// Every rule result that fed (or could not feed) this dimension.
    pub evidence: Vec<Evidence>,
}

/// Per-answer facts kept with the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerSummary {
    /// The question.
    pub question_id: String,
    /// `spoken`, `typed`, `tapped` or `missing`.
    pub source: String,
    /// What was said, typed or tapped.
    pub transcript: String,
    /// Mean recognition confidence, for spoken answers.
    pub asr_confidence: Option<f32>,
    /// Words plus Chinese characters.
    pub units: usize,
}

/// The whole result of a screening.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreeningResult {
    /// Role id.
    pub role: String,
    /// Weighted total 0–100; `None` when a dimension could not be scored.
    pub total: Option<u8>,
    /// The role's pass threshold.
    pub pass_threshold: u8,
    /// What the model suggests.
    pub recommendation: Recommendation,
    /// Always `awaiting_review` for a fresh result.
    pub status: Status,
    /// Why `review`, if so.
    pub reasons: Vec<Reason>,
    /// Must-have questions answered with a clear "no" (why `not_recommended` despite the total).
    pub knockouts: Vec<Knockout>,
    /// Per-dimension scores with evidence, in the role's order.
    pub dimensions: Vec<DimensionScore>,
    /// Per-question transcripts, in the role's order.
    pub answers: Vec<AnswerSummary>,
    /// The camera's presence report; `None` without camera (or without camera consent).
    #[serde(default)]
    pub video: Option<VideoSummary>,
    /// When the candidate can work (the role's availability question), for rostering; it
    /// never changes a score. `None` without such a question or a readable answer.
    #[serde(default)]
    pub availability: Option<crate::availability::Availability>,
}

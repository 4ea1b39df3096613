//! Role configuration as written in a role's TOML file: dimensions, questions and evidence rules.

use serde::{Deserialize, Serialize};

/// Text in both product languages. Both are required; validation names the missing one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localised {
    /// Simplified Chinese.
    pub zh: Option<String>,
    /// English.
    pub en: Option<String>,
}

impl Localised {
    /// The text for a locale (`zh…` → Chinese, anything else → English), falling back to the other.
    pub fn get(&self, locale: &str) -> &str {
        let (first, second) = if locale.starts_with("zh") {
            (&self.zh, &self.en)
        } else {
            (&self.en, &self.zh)
        };
        first.as_deref().or(second.as_deref()).unwrap_or("")
    }
}

/// One role (job) a candidate can be screened for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// Stable id, e.g. `factory-worker`.
    pub id: String,
    /// Display name.
    pub name: Localised,
    /// Weighted total (0–100) at or above which the model suggests `advance`.
    pub pass_threshold: i64,
    /// Bad-input thresholds.
    #[serde(default)]
    pub scoring: ScoringPolicy,
    /// Domain words given to speech recognition as a prompt.
    #[serde(default)]
    pub asr_prompt: Localised,
    /// Scored dimensions; weights sum to 100.
    pub dimensions: Vec<DimensionConfig>,
    /// Questions, asked in order.
    pub questions: Vec<QuestionConfig>,
}

impl RoleConfig {
    /// The dimension with this id.
    pub fn dimension(&self, id: &str) -> Option<&DimensionConfig> {
        self.dimensions.iter().find(|d| d.id == id)
    }
}

/// When an answer is too poor to score, and the result goes to review instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoringPolicy {
    /// Fewer words (or Chinese characters) than this, with nothing recognised in them, is too short to judge.
    pub min_units: usize,
    /// Mean speech-recognition confidence below this makes a transcript unreliable.
    pub min_asr_confidence: f32,
}

impl Default for ScoringPolicy {
    fn default() -> Self {
        Self {
            min_units: 3,
            min_asr_confidence: 0.6,
        }
    }
}

/// A scored dimension.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimensionConfig {
    /// Stable id, e.g. `communication`.
    pub id: String,
    /// Display name.
    pub name: Localised,
    /// Share of the total, in percent.
    pub weight: i64,
}

/// How a question is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// Spoken answer, transcribed.
    Spoken,
    /// Yes/no buttons.
    Tap,
    /// When the candidate can work: chips (morning, afternoon, night; weekdays, weekend), or a
    /// spoken answer read with the lexicon. For rostering only: it has no scoring rules.
    Availability,
}

/// One question.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionConfig {
    /// Stable id, unique in the role.
    pub id: String,
    /// What the kiosk shows and says.
    pub prompt: Localised,
    /// Answer time limit in seconds.
    pub time_limit_s: i64,
    /// Spoken or tap.
    pub kind: QuestionKind,
    /// Silence after speech that ends a live answer, in ms. Without it the station's default
    /// for the question's kind applies: short for a yes/no question (one with an `intent`
    /// rule), long for an open one, where people pause to think.
    #[serde(default)]
    pub end_silence_ms: Option<u32>,
    /// Evidence rules: what in the answer feeds which dimension.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
}

impl QuestionConfig {
    /// True when the answer is read as yes or no (the question has an `intent` rule).
    pub fn is_yes_no(&self) -> bool {
        self.rules
            .iter()
            .any(|r| matches!(r, RuleConfig::Intent { .. }))
    }

    /// The silence that ends a live answer: the question's own, or the default for its kind.
    pub fn end_silence_ms(&self, yes_no_default: u32, open_default: u32) -> u32 {
        self.end_silence_ms.unwrap_or(if self.is_yes_no() {
            yes_no_default
        } else {
            open_default
        })
    }
}

/// An evidence rule mapping something in an answer to a dimension contribution (0–100).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleConfig {
    /// Yes/no intent (spoken, typed or tapped) → score.
    Intent {
        /// Dimension fed.
        dimension: String,
        /// Weight among the dimension's rules.
        #[serde(default = "one")]
        weight: f64,
        /// Score for a clear yes.
        yes: f64,
        /// Score for a clear no.
        no: f64,
        /// Score for a hedged or mixed answer.
        hedge: f64,
        /// A must-have: a clear "no" means the job as offered does not fit, so the model never
        /// suggests `advance` (a person still decides).
        #[serde(default)]
        required: bool,
    },
    /// Phrases mentioned → base plus points per group matched, capped.
    Keywords {
        /// Dimension fed.
        dimension: String,
        /// Weight among the dimension's rules.
        #[serde(default = "one")]
        weight: f64,
        /// Score of an answer that mentions none of the groups.
        base: f64,
        /// Cap.
        #[serde(default = "hundred")]
        max: f64,
        /// Phrase groups; each counts once however often it is said.
        groups: Vec<KeywordGroup>,
    },
    /// A measured value → score along a piecewise-linear curve.
    Metric {
        /// Dimension fed.
        dimension: String,
        /// Weight among the dimension's rules.
        #[serde(default = "one")]
        weight: f64,
        /// What is measured.
        metric: Metric,
        /// `[value, score]` points with increasing values; clamped at both ends.
        curve: Vec<[f64; 2]>,
    },
}

impl RuleConfig {
    /// The dimension this rule feeds.
    pub fn dimension(&self) -> &str {
        match self {
            Self::Intent { dimension, .. }
            | Self::Keywords { dimension, .. }
            | Self::Metric { dimension, .. } => dimension,
        }
    }

    /// The rule's weight among the dimension's rules.
    pub fn weight(&self) -> f64 {
        match self {
            Self::Intent { weight, .. }
            | Self::Keywords { weight, .. }
            | Self::Metric { weight, .. } => *weight,
        }
    }

    /// Short name of the rule type, as shown in evidence.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Intent { .. } => "intent",
            Self::Keywords { .. } => "keywords",
            Self::Metric { .. } => "metric",
        }
    }
}

fn one() -> f64 {
    1.0
}

fn hundred() -> f64 {
    100.0
}

/// A group of equivalent phrases (synonyms, both languages).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordGroup {
    /// What the group stands for (stable, in the result's evidence).
    pub label: String,
    /// The label as the store manager reads it, in both languages (default: `label`).
    #[serde(default)]
    pub name: Option<Localised>,
    /// Points added when any phrase of the group is said.
    pub points: f64,
    /// The phrases.
    pub phrases: Vec<String>,
}

/// Measurable properties of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Words plus Chinese characters in the transcript.
    Units,
    /// Units per minute of speech.
    SpeechRate,
    /// Seconds from the end of the question to the first speech.
    LatencyS,
    /// Seconds of speech.
    SpeakingS,
    /// Share of the answer spent in pauses (0–1).
    PauseRatio,
}

impl Metric {
    /// Name as written in config and evidence.
    pub fn name(self) -> &'static str {
        match self {
            Self::Units => "units",
            Self::SpeechRate => "speech_rate",
            Self::LatencyS => "latency_s",
            Self::SpeakingS => "speaking_s",
            Self::PauseRatio => "pause_ratio",
        }
    }
}

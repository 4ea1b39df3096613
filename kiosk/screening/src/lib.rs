//! Pure screening logic — role configs, text normalisation, yes/no intent, explainable scoring and the
//! interview flow. No IO, no Bevy, no models: everything here runs in milliseconds in tests.

pub mod answer;
pub mod availability;
pub mod flow;
pub mod intent;
pub mod phrases;
pub mod result;
pub mod role;
pub mod scoring;
pub mod session;
pub mod text;
pub mod validate;

pub use answer::{Answer, Response, Segment, SpeechMetrics};
pub use availability::{Availability, DayKind, DayPart};
pub use flow::{Flow, RepeatReason, Step};
pub use intent::{Intent, Lexicon, LexiconConfig};
pub use result::{
    DimensionScore, Evidence, ReasonCode, Recommendation, ScreeningResult, Status, VideoSummary,
};
pub use role::{QuestionKind, RoleConfig};
pub use scoring::{ScoringError, apply_video, score};
pub use session::{Next, Prompt, Session};
pub use validate::{ConfigError, ConfigErrors, parse_lexicon, parse_role, validate_role};

//! The event envelope every kiosk event shares and the typed body of each event type.
//!
//! Stable field names, `{value, scheme}` identifiers, `{value, minimum, maximum}` scores, RFC 3339
//! timestamps with offset. Bodies accept fields they do not know (a newer kiosk may add some);
//! a type or schema version this build does not know is an error the cloud keeps and reports.

use chrono::{DateTime, FixedOffset};
use kiosk_screening::Availability;
use kiosk_screening::result::{Evidence, Knockout, Reason, Recommendation, VideoSummary};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{SCHEMA_VERSION, event_type};

/// An identifier with the scheme it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Id {
    /// The identifier.
    pub value: String,
    /// What kind of identifier (`store_id`, `kiosk_interview_id` …).
    pub scheme: String,
}

impl Id {
    /// `{value, scheme}`.
    pub fn new(value: impl Into<String>, scheme: &str) -> Self {
        Self {
            value: value.into(),
            scheme: scheme.into(),
        }
    }
}

/// A score with its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    /// The score.
    pub value: u8,
    /// Lowest possible.
    pub minimum: u8,
    /// Highest possible.
    pub maximum: u8,
}

impl Score {
    /// A 0–100 score, or `None` when there is none.
    pub fn percent(value: Option<u8>) -> Option<Self> {
        value.map(|value| Self {
            value,
            minimum: 0,
            maximum: 100,
        })
    }
}

/// What every event carries, around its typed `body` (flattened into the same JSON object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<B> {
    /// Unique id the receiver de-duplicates by (UUIDv7).
    pub event_id: String,
    /// Event type (see [`event_type`]).
    #[serde(rename = "type")]
    pub event_type: String,
    /// Layout version ([`SCHEMA_VERSION`]).
    pub schema_version: i64,
    /// When it happened on the kiosk.
    pub occurred_at: DateTime<FixedOffset>,
    /// Tenant the device was configured with (the cloud trusts its registry instead).
    pub tenant: String,
    /// Store (`store_id`).
    pub store: Id,
    /// Device (`device_id`).
    pub device: Id,
    /// The type's own fields.
    #[serde(flatten)]
    pub body: B,
}

/// The candidate as entered at the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidatePayload {
    /// The receipt code shown to the candidate (`kiosk_receipt`).
    pub reference: Id,
    /// Name, if given.
    pub name: Option<String>,
    /// Phone, if given.
    pub phone: Option<String>,
}

/// One dimension's score and the evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionPayload {
    /// Dimension id.
    pub dimension: String,
    /// Score, absent without usable evidence.
    pub score: Option<Score>,
    /// Share of the total in percent.
    pub weight: u8,
    /// Every rule result.
    pub evidence: Vec<Evidence>,
}

/// One answer's transcript and timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerPayload {
    /// Question.
    pub question_id: String,
    /// `spoken`, `typed`, `tapped` or `missing`.
    pub source: String,
    /// What was said, typed or tapped.
    pub transcript: String,
    /// Mean recognition confidence.
    pub asr_confidence: Option<f32>,
    /// From the end of the prompt to the first speech.
    pub latency_ms: Option<u32>,
    /// Speech heard.
    pub speech_ms: Option<u32>,
}

/// A consent answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentPayload {
    /// `recording` or `face`.
    pub kind: String,
    /// Granted or declined.
    pub granted: bool,
    /// Version of the notice shown.
    pub notice_version: String,
}

/// `interview_result`: a finished interview, scored, awaiting a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterviewResultBody {
    /// The kiosk's interview id (`kiosk_interview_id`).
    pub interview: Id,
    /// Who.
    pub candidate: CandidatePayload,
    /// Role (`kiosk_role`).
    pub role: Id,
    /// Language of the interview.
    pub locale: String,
    /// `spoken` or `typed`.
    pub source: String,
    /// Always `awaiting_review` from a kiosk.
    pub status: String,
    /// What the model suggests.
    pub recommendation: Recommendation,
    /// Weighted total.
    pub total: Option<Score>,
    /// The role's pass threshold.
    pub pass_threshold: u8,
    /// Why a person must look.
    pub reasons: Vec<Reason>,
    /// Must-haves answered "no".
    pub knockouts: Vec<Knockout>,
    /// Per dimension.
    pub scores: Vec<DimensionPayload>,
    /// Per question.
    pub answers: Vec<AnswerPayload>,
    /// Consents given.
    pub consents: Vec<ConsentPayload>,
    /// The camera's presence summary (ratios only, never images); absent without camera.
    #[serde(default)]
    pub video: Option<VideoSummary>,
    /// First question asked.
    pub started_at: DateTime<FixedOffset>,
    /// Last answer ended.
    pub completed_at: DateTime<FixedOffset>,
    /// When the candidate can work (the role's availability question), for rostering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<Availability>,
}

/// `decision`: the store manager decided on a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionBody {
    /// The interview (`interview_id`).
    pub interview: Id,
    /// The candidate's receipt code.
    pub receipt: String,
    /// `advance`, `reject` or `keep`.
    pub decision: String,
    /// 1 reject, 2 advance, 3 keep.
    pub conclusion_code: i64,
    /// Why, in the manager's words.
    pub reason: String,
    /// Who (the manager's role on the kiosk).
    pub decided_by: String,
    /// When.
    pub decided_at: DateTime<FixedOffset>,
}

/// `event_quarantined`: the broker kept refusing an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventQuarantinedBody {
    /// Outbox sequence number on the device.
    pub seq: i64,
    /// The quarantined event's id (absent in reports from older agents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Its type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// The last refusal.
    pub reason: String,
    /// Attempts made.
    pub attempts: i64,
}

/// `downlink_rejected`: the device could not accept a downlink message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownlinkRejectedBody {
    /// Where it came.
    pub topic: String,
    /// Why it was refused.
    pub reason: String,
    /// Its first bytes.
    pub excerpt: String,
}

/// `deletion_completed`: the device carried out a deletion request (or found nothing left to
/// remove: applying one is idempotent). What stays on the device is a tombstone without personal
/// data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionCompletedBody {
    /// The cloud's request id ([`crate::DeletionRequestBody::request_id`]).
    pub request_id: String,
    /// The interview whose candidate was deleted.
    pub interview: Id,
    /// What was removed, by kind (`candidate`, `answers`, `audio_files`, `outbox_events` …):
    /// counts only.
    #[serde(default)]
    pub removed: std::collections::BTreeMap<String, u64>,
    /// When (RFC 3339).
    pub completed_at: DateTime<FixedOffset>,
}

/// `config_applied`: a configuration document from the cloud is in force on the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigAppliedBody {
    /// The document (`role:<id>`).
    pub key: String,
    /// Its version.
    pub version: i64,
}

/// `config_rejected`: a configuration document failed the device's validator; the previous one
/// stays in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigRejectedBody {
    /// The document.
    pub key: String,
    /// Its version.
    pub version: i64,
    /// The validator's errors, one line each (file, role, field, message).
    pub errors: Vec<String>,
}

/// A parsed event of a known type.
#[derive(Debug, Clone, PartialEq)]
pub enum KioskEvent {
    /// `interview_result`.
    InterviewResult(Box<InterviewResultBody>),
    /// `decision`.
    Decision(DecisionBody),
    /// `event_quarantined`.
    EventQuarantined(EventQuarantinedBody),
    /// `downlink_rejected`.
    DownlinkRejected(DownlinkRejectedBody),
    /// `audit`: manager access, free-form detail.
    Audit(Map<String, Value>),
    /// `deletion_completed`.
    DeletionCompleted(DeletionCompletedBody),
    /// `config_applied`.
    ConfigApplied(ConfigAppliedBody),
    /// `config_rejected`.
    ConfigRejected(ConfigRejectedBody),
}

/// Why bytes are not an event this build can apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not JSON, or the envelope is incomplete.
    #[error("not a kiosk event: {0}")]
    Malformed(String),
    /// A layout version this build does not know.
    #[error("schema version {found} is not supported (this build reads {SCHEMA_VERSION})")]
    UnsupportedVersion {
        /// The event's.
        found: i64,
    },
    /// A type this build does not know.
    #[error("unknown event type `{0}`")]
    UnknownType(String),
    /// The body does not fit its type.
    #[error("invalid `{event_type}` event: {message}")]
    Invalid {
        /// The type.
        event_type: String,
        /// What is wrong.
        message: String,
    },
}

impl ParseError {
    /// Short machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::UnknownType(_) => "unknown_type",
            Self::Invalid { .. } => "invalid_body",
        }
    }
}

/// Parses and validates an event.
pub fn parse_event(bytes: &[u8]) -> Result<Envelope<KioskEvent>, ParseError> {
    let raw: Envelope<Map<String, Value>> =
        serde_json::from_slice(bytes).map_err(|e| ParseError::Malformed(e.to_string()))?;
    if raw.schema_version != SCHEMA_VERSION {
        return Err(ParseError::UnsupportedVersion {
            found: raw.schema_version,
        });
    }
    fn typed<T: serde::de::DeserializeOwned>(
        t: &str,
        body: Map<String, Value>,
    ) -> Result<T, ParseError> {
        serde_json::from_value(Value::Object(body)).map_err(|e| ParseError::Invalid {
            event_type: t.to_string(),
            message: e.to_string(),
        })
    }
    let t = raw.event_type.as_str();
    let body = match t {
        event_type::INTERVIEW_RESULT => KioskEvent::InterviewResult(Box::new(typed(t, raw.body)?)),
        event_type::DECISION => KioskEvent::Decision(typed(t, raw.body)?),
        event_type::EVENT_QUARANTINED => KioskEvent::EventQuarantined(typed(t, raw.body)?),
        event_type::DOWNLINK_REJECTED => KioskEvent::DownlinkRejected(typed(t, raw.body)?),
        event_type::AUDIT => KioskEvent::Audit(raw.body),
        event_type::DELETION_COMPLETED => KioskEvent::DeletionCompleted(typed(t, raw.body)?),
        event_type::CONFIG_APPLIED => KioskEvent::ConfigApplied(typed(t, raw.body)?),
        event_type::CONFIG_REJECTED => KioskEvent::ConfigRejected(typed(t, raw.body)?),
        other => return Err(ParseError::UnknownType(other.to_string())),
    };
    if raw.event_id.trim().is_empty() {
        return Err(ParseError::Malformed("`event_id` is empty".into()));
    }
    Ok(Envelope {
        event_id: raw.event_id,
        event_type: raw.event_type,
        schema_version: raw.schema_version,
        occurred_at: raw.occurred_at,
        tenant: raw.tenant,
        store: raw.store,
        device: raw.device,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(t: &str, version: i64, body: Value) -> Vec<u8> {
        let mut v = serde_json::json!({
            "event_id": "0193-e1", "type": t, "schema_version": version,
            "occurred_at": "2026-12-02T10:00:00+08:00", "tenant": "acme",
            "store": {"value": "s1", "scheme": "store_id"},
            "device": {"value": "k1", "scheme": "device_id"},
        });
        for (k, x) in body.as_object().cloned().unwrap_or_default() {
            v[k] = x;
        }
        v.to_string().into_bytes()
    }

    #[test]
    fn a_decision_parses_and_bad_input_says_why() {
        let d = serde_json::json!({
            "interview": {"value": "i1", "scheme": "interview_id"}, "receipt": "AB12",
            "decision": "advance", "conclusion_code": 2, "reason": "good", "decided_by": "manager",
            "decided_at": "2026-12-02T10:05:00+08:00"
        });
        let e = parse_event(&envelope("decision", 1, d.clone())).expect("parses");
        assert!(matches!(e.body, KioskEvent::Decision(ref b) if b.decision == "advance"));
        assert_eq!(e.store.value, "s1");
        assert_eq!(
            parse_event(&envelope("decision", 2, d.clone())),
            Err(ParseError::UnsupportedVersion { found: 2 })
        );
        assert_eq!(
            parse_event(&envelope("teleport", 1, d)),
            Err(ParseError::UnknownType("teleport".into()))
        );
        let bad = parse_event(&envelope("decision", 1, serde_json::json!({"receipt": 5})));
        assert!(matches!(bad, Err(ParseError::Invalid { .. })), "{bad:?}");
        assert!(matches!(
            parse_event(b"{not json"),
            Err(ParseError::Malformed(_))
        ));
    }

    #[test]
    fn configuration_outcomes_parse() {
        let ok = parse_event(&envelope(
            "config_applied",
            1,
            serde_json::json!({"key": "role:nurse", "version": 3}),
        ))
        .expect("applied");
        assert!(matches!(ok.body, KioskEvent::ConfigApplied(ref c) if c.version == 3));
        let no = parse_event(&envelope(
            "config_rejected",
            1,
            serde_json::json!({"key": "role:nurse", "version": 4, "errors": ["pass_threshold: 170"]}),
        ))
        .expect("rejected");
        assert!(matches!(no.body, KioskEvent::ConfigRejected(ref c) if c.errors.len() == 1));
        let bad = parse_event(&envelope(
            "config_rejected",
            1,
            serde_json::json!({"key": 1}),
        ));
        assert!(matches!(bad, Err(ParseError::Invalid { .. })), "{bad:?}");
    }
}

//! The kiosk's wire protocol, defined once for the kiosk (which builds outbox rows from it) and
//! the cloud (which parses with it): topic names, the event envelope and its typed bodies, the
//! downlink messages and the receipt that confirms delivery.

mod event;
pub mod topic;

pub use event::{
    AnswerPayload, CandidatePayload, ConfigAppliedBody, ConfigRejectedBody, ConsentPayload,
    DecisionBody, DeletionCompletedBody, DimensionPayload, DownlinkRejectedBody, Envelope,
    EventQuarantinedBody, Id, InterviewResultBody, KioskEvent, ParseError, Score, parse_event,
};
pub use topic::{DeviceTopic, TopicKind, device_base, parse_topic};

use serde::{Deserialize, Serialize};

/// Version of the event layout; bump on any incompatible change.
pub const SCHEMA_VERSION: i64 = 1;

/// Event types a kiosk sends.
pub mod event_type {
    /// A finished interview's result.
    pub const INTERVIEW_RESULT: &str = "interview_result";
    /// A store manager's decision on a result.
    pub const DECISION: &str = "decision";
    /// The broker kept refusing an event and the agent set it aside.
    pub const EVENT_QUARANTINED: &str = "event_quarantined";
    /// A downlink message the agent could not accept.
    pub const DOWNLINK_REJECTED: &str = "downlink_rejected";
    /// Manager access (PIN accepted or refused, logout).
    pub const AUDIT: &str = "audit";
    /// A deletion request was carried out on the device.
    pub const DELETION_COMPLETED: &str = "deletion_completed";
    /// A configuration document from the cloud is in force on the device (`{key, version}`).
    pub const CONFIG_APPLIED: &str = "config_applied";
    /// A configuration document from the cloud failed validation; the previous one stays
    /// (`{key, version, errors}`).
    pub const CONFIG_REJECTED: &str = "config_rejected";
}

/// Downlink kinds (the last level of `…/down/{kind}`).
pub mod downlink_kind {
    /// Station configuration (roles, settings).
    pub const CONFIG: &str = "config";
    /// A first-week roster.
    pub const ROSTER: &str = "roster";
    /// Delete a candidate's personal data.
    pub const DELETION_REQUEST: &str = "deletion_request";
    /// The cloud committed these events (handled by the agent itself, never in the inbox).
    pub const RECEIPT: &str = "receipt";
}

/// Largest downlink message (its JSON) a device accepts. Devices announce a packet limit just
/// above it, so a broker drops a larger one instead of sending it; the cloud never publishes one.
pub const MAX_DOWNLINK_BYTES: usize = 256 * 1024;

/// A versioned downlink document: `{"version": N, "key": "...", "body": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Downlink {
    /// Only a newer version replaces what the device holds.
    pub version: i64,
    /// Which document (`station`, an employee id, a request id).
    pub key: String,
    /// The document.
    pub body: serde_json::Value,
}

/// The cloud's confirmation that these events are committed in its store of record. Only a
/// receipt makes an event *delivered* on the kiosk; a broker PUBACK makes it *sent*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Committed event ids (also those the cloud already had: a duplicate is delivered too).
    pub event_ids: Vec<String>,
    /// When the cloud committed them (RFC 3339).
    pub committed_at: String,
}

/// The body of a `deletion_request` downlink ([`Downlink::key`] is the request id): remove this
/// candidate's personal data from the device, everywhere it was copied, and confirm with a
/// `deletion_completed` event. The cloud sends it again until that confirmation arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionRequestBody {
    /// The cloud's request id (echoed in `deletion_completed`).
    pub request_id: String,
    /// The interview whose candidate is to be deleted.
    pub interview: Id,
    /// The candidate's receipt code, a second way to find the interview.
    pub receipt: String,
    /// When it was asked for (RFC 3339).
    pub requested_at: String,
    /// The cloud's id of the candidate, the key of any roster the device holds for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_id: Option<String>,
}

//! Builds the kiosk's events from what the store saves, with the wire types of `kiosk-protocol`
//! (defined once, parsed by the cloud with the same types).

use chrono::{DateTime, FixedOffset};
use kiosk_protocol::{
    AnswerPayload, CandidatePayload, ConsentPayload, DimensionPayload, Envelope, Id,
    InterviewResultBody, SCHEMA_VERSION, Score,
};
use serde::Serialize;

use crate::interviews::{NewInterview, StationIdentity};

/// Version of the payload layout (the protocol's).
pub const PAYLOAD_SCHEMA_VERSION: i64 = SCHEMA_VERSION;

/// Event type of a finished interview's result.
pub const EVENT_INTERVIEW_RESULT: &str = kiosk_protocol::event_type::INTERVIEW_RESULT;

/// The MQTT topic an event of `event_type` from this station goes to.
pub fn topic(station: &StationIdentity, event_type: &str) -> String {
    format!(
        "{}/events/{event_type}",
        kiosk_protocol::device_base(&station.tenant, &station.store_id, &station.device_id)
    )
}

/// The envelope of an event from this station around `body`.
pub(crate) fn envelope<B: Serialize>(
    station: &StationIdentity,
    event_id: &str,
    event_type: &str,
    occurred_at: DateTime<FixedOffset>,
    body: B,
) -> Envelope<B> {
    Envelope {
        event_id: event_id.to_string(),
        event_type: event_type.to_string(),
        schema_version: SCHEMA_VERSION,
        occurred_at,
        tenant: station.tenant.clone(),
        store: Id::new(&station.store_id, "store_id"),
        device: Id::new(&station.device_id, "device_id"),
        body,
    }
}

/// Builds the `interview_result` payload.
pub fn interview_result(
    event_id: &str,
    interview_id: &str,
    receipt: &str,
    new: &NewInterview<'_>,
) -> Envelope<InterviewResultBody> {
    let r = new.result;
    let answers = new
        .answers
        .iter()
        .zip(&r.answers)
        .map(|(a, s)| {
            let metrics = match &a.response {
                kiosk_screening::Response::Spoken { metrics, .. } => Some(metrics),
                _ => None,
            };
            AnswerPayload {
                question_id: s.question_id.clone(),
                source: s.source.clone(),
                transcript: s.transcript.clone(),
                asr_confidence: s.asr_confidence,
                latency_ms: metrics.and_then(|m| m.latency_ms),
                speech_ms: metrics.map(|m| m.speech_ms),
            }
        })
        .collect();
    let scores = r
        .dimensions
        .iter()
        .map(|d| DimensionPayload {
            dimension: d.id.clone(),
            score: Score::percent(d.score),
            weight: d.weight,
            evidence: d.evidence.clone(),
        })
        .collect();
    let consents = new
        .consents
        .iter()
        .map(|c| ConsentPayload {
            kind: c.kind.as_str().to_string(),
            granted: c.granted,
            notice_version: c.notice_version.clone(),
        })
        .collect();
    let body = InterviewResultBody {
        interview: Id::new(interview_id, "kiosk_interview_id"),
        candidate: CandidatePayload {
            reference: Id::new(receipt, "kiosk_receipt"),
            name: new.candidate.name.clone(),
            phone: new.candidate.phone.clone(),
        },
        role: Id::new(&r.role, "kiosk_role"),
        locale: new.locale.clone(),
        source: new.source().to_string(),
        status: r.status.as_str().to_string(),
        recommendation: r.recommendation,
        total: Score::percent(r.total),
        pass_threshold: r.pass_threshold,
        reasons: r.reasons.clone(),
        knockouts: r.knockouts.clone(),
        scores,
        answers,
        consents,
        video: r.video.clone(),
        started_at: new.started_at,
        completed_at: new.completed_at,
        availability: r.availability.clone(),
    };
    envelope(
        new.station,
        event_id,
        EVENT_INTERVIEW_RESULT,
        new.completed_at,
        body,
    )
}

//! The JSON event an HR system receives for an interview: stable field names, `{value, scheme}`
//! identifiers, `{value, minimum, maximum}` scores, RFC 3339 timestamps with offset.

use serde_json::{Value, json};

use crate::interviews::{NewInterview, StationIdentity};

/// Version of the payload layout below; bump on any incompatible change.
pub const PAYLOAD_SCHEMA_VERSION: i64 = 1;

/// Event type of a finished interview's result.
pub const EVENT_INTERVIEW_RESULT: &str = "interview_result";

/// The MQTT topic an event of `event_type` from this station goes to.
pub fn topic(station: &StationIdentity, event_type: &str) -> String {
    format!(
        "kiosk/v1/{}/{}/{}/events/{event_type}",
        station.tenant, station.store_id, station.device_id
    )
}

fn id(value: &str, scheme: &str) -> Value {
    json!({ "value": value, "scheme": scheme })
}

fn score(value: Option<u8>) -> Value {
    match value {
        Some(v) => json!({ "value": v, "minimum": 0, "maximum": 100 }),
        None => Value::Null,
    }
}

/// Builds the `interview_result` payload.
pub fn interview_result(
    event_id: &str,
    interview_id: &str,
    receipt: &str,
    new: &NewInterview<'_>,
) -> Value {
    let r = new.result;
    let answers: Vec<Value> = new
        .answers
        .iter()
        .zip(&r.answers)
        .map(|(a, s)| {
            let metrics = match &a.response {
                kiosk_screening::Response::Spoken { metrics, .. } => Some(metrics),
                _ => None,
            };
            json!({
                "question_id": s.question_id,
                "source": s.source,
                "transcript": s.transcript,
                "asr_confidence": s.asr_confidence,
                "latency_ms": metrics.and_then(|m| m.latency_ms),
                "speech_ms": metrics.map(|m| m.speech_ms),
            })
        })
        .collect();
    let scores: Vec<Value> = r
        .dimensions
        .iter()
        .map(|d| {
            json!({
                "dimension": d.id,
                "score": score(d.score),
                "weight": d.weight,
                "evidence": d.evidence,
            })
        })
        .collect();
    let consents: Vec<Value> = new
        .consents
        .iter()
        .map(|c| json!({ "kind": c.kind.as_str(), "granted": c.granted, "notice_version": c.notice_version }))
        .collect();
    json!({
        "event_id": event_id,
        "type": EVENT_INTERVIEW_RESULT,
        "schema_version": PAYLOAD_SCHEMA_VERSION,
        "occurred_at": new.completed_at.to_rfc3339(),
        "tenant": new.station.tenant,
        "store": id(&new.station.store_id, "store_id"),
        "device": id(&new.station.device_id, "device_id"),
        "interview": id(interview_id, "kiosk_interview_id"),
        "candidate": {
            "reference": id(receipt, "kiosk_receipt"),
            "name": new.candidate.name,
            "phone": new.candidate.phone,
        },
        "role": id(&r.role, "kiosk_role"),
        "locale": new.locale,
        "source": new.source(),
        "status": r.status.as_str(),
        "recommendation": r.recommendation.as_str(),
        "total": score(r.total),
        "pass_threshold": r.pass_threshold,
        "reasons": r.reasons,
        "knockouts": r.knockouts,
        "scores": scores,
        "answers": answers,
        "consents": consents,
        "started_at": new.started_at.to_rfc3339(),
        "completed_at": new.completed_at.to_rfc3339(),
    })
}

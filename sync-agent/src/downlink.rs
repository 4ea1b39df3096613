//! Validation of what the cloud sends down (config, rosters, deletion requests) before it reaches the inbox.
//!
//! A message is a JSON object `{"version": N, "key": "...", "body": {...}}` on
//! `…/{device}/down/{kind}`. `key` defaults to `station` for `config`. Anything else is rejected
//! with a reason: the agent reports it upstream and keeps running.

use kiosk_protocol::DeletionRequestBody;
use kiosk_store::{ForgetRequest, ForgetTarget, RequestedBy};
use serde_json::Value;

/// Largest downlink message accepted.
pub const MAX_BYTES: usize = kiosk_protocol::MAX_DOWNLINK_BYTES;

/// Largest MQTT packet this device takes, announced in CONNECT: a downlink message at the limit
/// plus room for its topic and properties. An MQTT v5 broker drops a larger message for this
/// device instead of sending it (rumqttc's default, 10 KiB, made a larger roster break the
/// connection on every redelivery).
pub const MAX_PACKET_BYTES: u32 = (MAX_BYTES + 8 * 1024) as u32;

/// Highest version accepted for a document the device does not hold yet.
pub const MAX_FIRST_VERSION: i64 = 1 << 31;

/// Kinds of downlink message the inbox takes.
pub const KINDS: [&str; 3] = ["config", "roster", "deletion_request"];

/// A valid downlink message, ready for the inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Downlink {
    /// `config`, `roster` or `deletion_request`.
    pub kind: String,
    /// Which document (`station`, an employee id, a request id).
    pub key: String,
    /// Version; only a newer one replaces what the inbox holds.
    pub version: i64,
    /// The whole message, as received.
    pub payload: String,
}

/// Checks a message under `down/{kind}`.
pub fn parse(kind: &str, payload: &[u8]) -> Result<Downlink, String> {
    if !KINDS.contains(&kind) {
        return Err(format!(
            "unknown downlink type `{kind}` (expected one of {})",
            KINDS.join(", ")
        ));
    }
    if payload.len() > MAX_BYTES {
        return Err(format!(
            "message of {} bytes is over the {MAX_BYTES}-byte limit",
            payload.len()
        ));
    }
    let text = std::str::from_utf8(payload).map_err(|_| "message is not UTF-8 text".to_string())?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("message is not JSON: {e}"))?;
    let obj = value.as_object().ok_or("message is not a JSON object")?;
    let version = match obj.get("version") {
        Some(v) => v
            .as_i64()
            .filter(|v| *v >= 0)
            .ok_or("`version` must be a non-negative integer")?,
        None => return Err("`version` is missing".into()),
    };
    let key = match (obj.get("key"), kind) {
        (Some(Value::String(k)), _) if !k.trim().is_empty() => k.clone(),
        (None, "config") => "station".to_string(),
        (None, _) => return Err(format!("`key` is missing (a {kind} needs one)")),
        _ => return Err("`key` must be a non-empty string".into()),
    };
    if !obj.get("body").is_some_and(Value::is_object) {
        return Err("`body` must be a JSON object".into());
    }
    Ok(Downlink {
        kind: kind.to_string(),
        key,
        version,
        payload: text.to_string(),
    })
}

/// For a `deletion_request`, what to forget: the interview it names, else the receipt code.
/// `Ok(None)` for the other kinds.
pub fn forget_request(d: &Downlink) -> Result<Option<ForgetRequest>, String> {
    if d.kind != kiosk_protocol::downlink_kind::DELETION_REQUEST {
        return Ok(None);
    }
    let v: Value = serde_json::from_str(&d.payload).map_err(|e| e.to_string())?;
    let body: DeletionRequestBody = serde_json::from_value(v["body"].clone())
        .map_err(|e| format!("not a deletion request: {e}"))?;
    if body.request_id != d.key {
        return Err(format!(
            "the deletion request's id {} is not its key {}",
            body.request_id, d.key
        ));
    }
    let mut targets = Vec::new();
    if !body.interview.value.trim().is_empty() {
        targets.push(ForgetTarget::Interview(body.interview.value));
    }
    if !body.receipt.trim().is_empty() {
        targets.push(ForgetTarget::Receipt(body.receipt));
    }
    if targets.is_empty() {
        return Err("the deletion request names neither an interview nor a receipt code".into());
    }
    Ok(Some(ForgetRequest {
        request_id: body.request_id,
        targets,
        cloud_candidate_id: body.candidate_id,
        requested_by: RequestedBy::Cloud,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid_messages() {
        let ok = parse("config", br#"{"version": 3, "body": {"pass": 60}}"#).expect("valid");
        assert_eq!((ok.key.as_str(), ok.version), ("station", 3));
        let roster =
            parse("roster", br#"{"version": 1, "key": "emp-7", "body": {}}"#).expect("valid");
        assert_eq!(roster.key, "emp-7");
        let bad: &[(&str, &[u8], &str)] = &[
            (
                "firmware",
                br#"{"version":1,"body":{}}"#,
                "unknown downlink type",
            ),
            ("config", b"\xff\xfe", "not UTF-8"),
            ("config", b"{not json", "not JSON"),
            ("config", b"[1,2]", "not a JSON object"),
            ("config", br#"{"body":{}}"#, "`version` is missing"),
            ("config", br#"{"version":-1,"body":{}}"#, "non-negative"),
            ("config", br#"{"version":"2","body":{}}"#, "non-negative"),
            ("roster", br#"{"version":1,"body":{}}"#, "`key` is missing"),
            (
                "roster",
                br#"{"version":1,"key":"","body":{}}"#,
                "non-empty",
            ),
            ("config", br#"{"version":1}"#, "`body`"),
        ];
        for (kind, payload, message) in bad {
            let err = parse(kind, payload).expect_err("rejected");
            assert!(err.contains(message), "{kind} {payload:?}: {err}");
        }
        let big = format!(
            r#"{{"version":1,"body":{{"x":"{}"}}}}"#,
            "a".repeat(MAX_BYTES)
        );
        assert!(
            parse("config", big.as_bytes())
                .expect_err("too big")
                .contains("limit")
        );
    }

    #[test]
    fn deletion_requests_name_the_interview_then_the_receipt() {
        let msg = |body: &str| {
            parse(
                "deletion_request",
                format!(r#"{{"version":1,"key":"r-1","body":{body}}}"#).as_bytes(),
            )
            .expect("valid downlink")
        };
        let req = forget_request(&msg(
            r#"{"request_id":"r-1","interview":{"value":"i-9","scheme":"kiosk_interview_id"},
                "receipt":"AB12-CD34","requested_at":"2026-12-06T10:00:00Z","candidate_id":"c-5"}"#,
        ))
        .expect("readable")
        .expect("a deletion");
        assert_eq!(
            req.targets,
            vec![
                ForgetTarget::Interview("i-9".into()),
                ForgetTarget::Receipt("AB12-CD34".into())
            ]
        );
        assert_eq!(req.cloud_candidate_id.as_deref(), Some("c-5"));
        for (body, why) in [
            (r#"{"request_id":"r-1"}"#, "not a deletion request"),
            (
                r#"{"request_id":"r-2","interview":{"value":"i","scheme":"s"},"receipt":"","requested_at":""}"#,
                "is not its key",
            ),
            (
                r#"{"request_id":"r-1","interview":{"value":" ","scheme":"s"},"receipt":"","requested_at":""}"#,
                "neither",
            ),
        ] {
            let err = forget_request(&msg(body)).expect_err(why);
            assert!(err.contains(why), "{err}");
        }
        let config = parse("config", br#"{"version":1,"body":{}}"#).expect("config");
        assert_eq!(forget_request(&config), Ok(None));
    }
}

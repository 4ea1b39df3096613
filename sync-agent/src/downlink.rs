//! Validation of what the cloud sends down (config, rosters, deletion requests) before it reaches the inbox.
//!
//! A message is a JSON object `{"version": N, "key": "...", "body": {...}}` on
//! `…/{device}/down/{kind}`. `key` defaults to `station` for `config`. Anything else is rejected
//! with a reason: the agent reports it upstream and keeps running.

use serde_json::Value;

/// Largest downlink message accepted.
pub const MAX_BYTES: usize = 256 * 1024;

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
}

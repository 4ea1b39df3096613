//! Messages that are not applied: held without an id (not from a registered device's own path),
//! refused under their id (unreadable, unknown type or version), a known id sent again, and
//! device reports that are recorded, not applied.

use chrono::{DateTime, FixedOffset};
use deadpool_postgres::Transaction;
use serde_json::Value;

use super::{Incoming, Origin, Outcome};
use crate::StoreError;
use crate::db::Cached;

/// Records an event this build cannot apply under its id (so a resend is a duplicate) and
/// reports it; without a readable id, holds it.
pub(super) async fn refuse(
    tx: &Transaction<'_>,
    msg: &Incoming,
    o: &Origin,
    sha: &[u8],
    code: &str,
    reason: &str,
) -> Result<Outcome, StoreError> {
    let json: Option<Value> = serde_json::from_slice(&msg.payload).ok();
    let id = json
        .as_ref()
        .and_then(|v| v.get("event_id"))
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string);
    let Some(id) = id else {
        return held(tx, msg, Some(&o.device_id), code, reason).await;
    };
    let event_type = json
        .as_ref()
        .and_then(|v| v.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let version = json
        .as_ref()
        .and_then(|v| v.get("schema_version"))
        .and_then(Value::as_i64);
    let inserted = tx
        .run(
            "INSERT INTO events (event_id, tenant, store_id, device_id, event_type, schema_version,
                                 body_sha256, payload, outcome)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING",
            &[
                &id,
                &o.tenant,
                &o.store_id,
                &o.device_id,
                &event_type,
                &version,
                &sha,
                &json,
                &code,
            ],
        )
        .await?;
    if inserted == 0 {
        return duplicate(tx, msg, o, &id, sha).await;
    }
    tracing::warn!(device = %o.device_id, event_id = %id, code, "event kept, not applied");
    reject(
        tx,
        msg,
        Some(&o.device_id),
        Some(&o.tenant),
        Some(&id),
        code,
        reason,
    )
    .await?;
    Ok(Outcome::Refused {
        device_base: o.base.clone(),
        event_id: id,
        code: code.into(),
    })
}

/// A known id: the same body is a harmless resend; a different body is reported and the first kept.
pub(super) async fn duplicate(
    tx: &Transaction<'_>,
    msg: &Incoming,
    o: &Origin,
    id: &str,
    sha: &[u8],
) -> Result<Outcome, StoreError> {
    let row = tx
        .one(
            "SELECT body_sha256, device_id FROM events WHERE event_id = $1",
            &[&id],
        )
        .await?;
    let (first, device): (Vec<u8>, String) = (row.get(0), row.get(1));
    if first == sha && device == o.device_id {
        return Ok(Outcome::Duplicate {
            device_base: o.base.clone(),
            event_id: id.into(),
        });
    }
    let reason =
        "an event with this id was already received with a different body; the first is kept";
    tracing::warn!(device = %o.device_id, event_id = %id, "duplicate event id with a different body");
    reject(
        tx,
        msg,
        Some(&o.device_id),
        Some(&o.tenant),
        Some(id),
        "duplicate_id_different_body",
        reason,
    )
    .await?;
    Ok(Outcome::Refused {
        device_base: o.base.clone(),
        event_id: id.into(),
        code: "duplicate_id_different_body".into(),
    })
}

pub(super) async fn report(
    tx: &Transaction<'_>,
    o: &Origin,
    id: &str,
    kind: &str,
    detail: Value,
    at: DateTime<FixedOffset>,
) -> Result<String, StoreError> {
    tx.run(
"INSERT INTO device_reports (event_id, tenant, device_id, kind, detail, occurred_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&id, &o.tenant, &o.device_id, &kind, &detail, &at],
    )
    .await?;
    Ok("reported".into())
}

pub(super) async fn held(
    tx: &Transaction<'_>,
    msg: &Incoming,
    device: Option<&str>,
    code: &str,
    reason: &str,
) -> Result<Outcome, StoreError> {
    tracing::warn!(topic = %msg.topic, code, "event held, not applied");
    reject(tx, msg, device, None, None, code, reason).await?;
    Ok(Outcome::Held {
        code: code.into(),
        reason: reason.into(),
    })
}

pub(super) async fn reject(
    tx: &Transaction<'_>,
    msg: &Incoming,
    device: Option<&str>,
    tenant: Option<&str>,
    event_id: Option<&str>,
    code: &str,
    reason: &str,
) -> Result<(), StoreError> {
    tx.run(
"INSERT INTO rejected (topic, device_id, tenant, event_id, code, reason, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&msg.topic, &device, &tenant, &event_id, &code, &reason, &msg.payload],
    )
    .await?;
    Ok(())
}

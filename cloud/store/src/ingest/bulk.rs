//! A batch's event rows inserted in one statement (`unnest` of one array per column), each by
//! id with "do nothing on conflict".

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset};
use deadpool_postgres::Transaction;
use kiosk_protocol::{Envelope, KioskEvent};

use super::Origin;
use crate::StoreError;
use crate::db::Cached;

/// What applying an event of this kind usually does; it is written with the row, so only
/// another effect costs an update.
pub(super) fn usual(body: &KioskEvent) -> &'static str {
    match body {
        KioskEvent::InterviewResult(_) => "created",
        _ => "applied",
    }
}

/// One event row to insert.
pub(super) struct Row<'a> {
    origin: &'a Origin,
    event: &'a Envelope<KioskEvent>,
    sha: &'a [u8],
    /// The payload as received, stored as that text (json).
    json: &'a str,
}

impl<'a> Row<'a> {
    pub(super) fn new(
        origin: &'a Origin,
        event: &'a Envelope<KioskEvent>,
        sha: &'a [u8],
        payload: &'a [u8],
    ) -> Self {
        Self {
            origin,
            event,
            sha,
            // It parsed as JSON, so it is UTF-8.
            json: std::str::from_utf8(payload).unwrap_or("null"),
        }
    }
}

/// Inserts the rows whose id is new; returns, per row in order, whether it was inserted. A
/// repeat of an id (in the database already, or earlier in the same batch) is not: the caller
/// compares it with the first.
pub(super) async fn insert_events<'a>(
    tx: &Transaction<'_>,
    rows: impl Iterator<Item = Row<'a>>,
) -> Result<Vec<bool>, StoreError> {
    let rows: Vec<Row<'a>> = rows.collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let col = |f: fn(&Row<'a>) -> &'a str| -> Vec<&'a str> { rows.iter().map(f).collect() };
    let ids = col(|r| &r.event.event_id);
    let tenants = col(|r| &r.origin.tenant);
    let stores = col(|r| &r.origin.store_id);
    let devices = col(|r| &r.origin.device_id);
    let kinds = col(|r| &r.event.event_type);
    let payloads = col(|r| r.json);
    let outcomes = col(|r| usual(&r.event.body));
    let versions: Vec<i64> = rows.iter().map(|r| r.event.schema_version).collect();
    let at: Vec<DateTime<FixedOffset>> = rows.iter().map(|r| r.event.occurred_at).collect();
    let shas: Vec<&[u8]> = rows.iter().map(|r| r.sha).collect();
    let inserted: HashSet<String> = tx
        .rows(
"INSERT INTO events (event_id, tenant, store_id, device_id, event_type, schema_version, occurred_at,
                                 body_sha256, payload, outcome)
             SELECT u.id, u.tenant, u.store, u.device, u.kind, u.version, u.at, u.sha, u.payload::json, u.outcome
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int8[],
                         $7::timestamptz[], $8::bytea[], $9::text[], $10::text[])
                  AS u(id, tenant, store, device, kind, version, at, sha, payload, outcome)
             ON CONFLICT (event_id) DO NOTHING
             RETURNING event_id",
            &[&ids, &tenants, &stores, &devices, &kinds, &versions, &at, &shas, &payloads, &outcomes],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut seen = HashSet::new();
    Ok(ids
        .iter()
        .map(|id| inserted.contains(*id) && seen.insert(*id))
        .collect())
}

//! The outbox: events waiting for the cloud, in `seq` order, marked acked only after the broker's
//! PUBACK, quarantined (with a reason) when the broker keeps refusing one so it never blocks the rest.

use chrono::{DateTime, FixedOffset};
use rusqlite::{TransactionBehavior, params};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::interviews::{StationIdentity, now};
use crate::payload::{PAYLOAD_SCHEMA_VERSION, topic};
use crate::{Store, StoreError};

/// One event to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// Order of commit.
    pub seq: i64,
    /// Unique id the receiver de-duplicates by.
    pub event_id: String,
    /// Event type (`interview_result` …).
    pub event_type: String,
    /// MQTT topic.
    pub topic: String,
    /// JSON payload.
    pub payload: String,
    /// Failed publish attempts so far.
    pub attempts: i64,
}

/// An outbox row's delivery state, for audits and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Order of commit.
    pub seq: i64,
    /// Event id.
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// The broker acknowledged it.
    pub acked: bool,
    /// Set aside after repeated refusals.
    pub quarantined: bool,
}

/// How much is waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    /// Events not yet acknowledged (quarantined ones excluded).
    pub pending: i64,
    /// When the oldest unacknowledged event was created (RFC 3339).
    pub oldest_created_at: Option<String>,
    /// Events set aside because the broker kept refusing them.
    pub quarantined: i64,
}

impl Backlog {
    /// Age of the oldest unsent event in seconds, relative to `now`.
    pub fn oldest_age_s(&self, now: DateTime<FixedOffset>) -> Option<i64> {
        let oldest = DateTime::parse_from_rfc3339(self.oldest_created_at.as_deref()?).ok()?;
        Some((now - oldest).num_seconds().max(0))
    }
}

impl Store {
    /// Unsent events after `after_seq`, oldest first (quarantined ones skipped).
    pub fn outbox_pending(
        &self,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, event_id, event_type, topic, payload, attempts FROM outbox
             WHERE acked_at IS NULL AND quarantined_at IS NULL AND seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after_seq, limit as i64], |r| {
            Ok(OutboxEvent {
                seq: r.get(0)?,
                event_id: r.get(1)?,
                event_type: r.get(2)?,
                topic: r.get(3)?,
                payload: r.get(4)?,
                attempts: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records that the broker acknowledged event `seq`. Idempotent.
    pub fn outbox_mark_acked(&mut self, seq: i64) -> Result<bool, StoreError> {
        Ok(self.outbox_mark_acked_many(&[seq])? == 1)
    }

    /// Records many acknowledgements in one transaction; returns how many were newly acked.
    pub fn outbox_mark_acked_many(&mut self, seqs: &[i64]) -> Result<usize, StoreError> {
        let at = now().to_rfc3339();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET acked_at = ?2 WHERE seq = ?1 AND acked_at IS NULL",
            )?;
            for seq in seqs {
                n += stmt.execute(params![seq, at])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Records a failed publish attempt and its reason; returns the attempts so far.
    pub fn outbox_record_failure(&mut self, seq: i64, error: &str) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1 RETURNING attempts",
            params![seq, error],
            |r| r.get(0),
        )?)
    }

    /// Sets an event aside so it no longer blocks the queue; it stays in the database with its reason.
    pub fn outbox_quarantine(&mut self, seq: i64, reason: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET quarantined_at = ?2, quarantine_reason = ?3 WHERE seq = ?1 AND acked_at IS NULL",
            params![seq, now().to_rfc3339(), reason],
        )?;
        Ok(())
    }

    /// Quarantined events: (seq, event_id, reason).
    pub fn outbox_quarantined(&self) -> Result<Vec<(i64, String, String)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, event_id, coalesce(quarantine_reason, '') FROM outbox WHERE quarantined_at IS NOT NULL ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every outbox row in commit order with its delivery state.
    pub fn outbox_log(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, event_id, event_type, acked_at IS NOT NULL, quarantined_at IS NOT NULL FROM outbox ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(OutboxEntry {
                seq: r.get(0)?,
                event_id: r.get(1)?,
                event_type: r.get(2)?,
                acked: r.get(3)?,
                quarantined: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What is still waiting for the cloud.
    pub fn outbox_backlog(&self) -> Result<Backlog, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FILTER (WHERE quarantined_at IS NULL),
                    min(created_at) FILTER (WHERE quarantined_at IS NULL),
                    count(*) FILTER (WHERE quarantined_at IS NOT NULL)
             FROM outbox WHERE acked_at IS NULL",
            [],
            |r| {
                Ok(Backlog {
                    pending: r.get(0)?,
                    oldest_created_at: r.get(1)?,
                    quarantined: r.get(2)?,
                })
            },
        )?)
    }

    /// Commits a new event (not about an interview: an error report, a health alert …) to the
    /// outbox. `body` fields are merged into the envelope `{event_id, type, schema_version, occurred_at}`.
    pub fn enqueue_event(
        &mut self,
        station: &StationIdentity,
        event_type: &str,
        body: Map<String, Value>,
    ) -> Result<String, StoreError> {
        insert_event(&self.conn, station, event_type, None, body)
    }
}

/// Inserts an event into the outbox on `conn` (a connection or an open transaction).
pub(crate) fn insert_event(
    conn: &rusqlite::Connection,
    station: &StationIdentity,
    event_type: &str,
    interview_id: Option<&str>,
    body: Map<String, Value>,
) -> Result<String, StoreError> {
    let event_id = Uuid::now_v7().to_string();
    let at = now().to_rfc3339();
    let mut payload = Map::new();
    payload.insert("event_id".into(), Value::from(event_id.clone()));
    payload.insert("type".into(), Value::from(event_type));
    payload.insert("schema_version".into(), Value::from(PAYLOAD_SCHEMA_VERSION));
    payload.insert("occurred_at".into(), Value::from(at.clone()));
    payload.insert("tenant".into(), Value::from(station.tenant.clone()));
    payload.insert(
        "store".into(),
        serde_json::json!({ "value": station.store_id, "scheme": "store_id" }),
    );
    payload.insert(
        "device".into(),
        serde_json::json!({ "value": station.device_id, "scheme": "device_id" }),
    );
    for (k, v) in body {
        payload.entry(k).or_insert(v);
    }
    conn.execute(
        "INSERT INTO outbox (event_id, event_type, topic, interview_id, schema_version, payload, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![event_id, event_type, topic(station, event_type), interview_id, PAYLOAD_SCHEMA_VERSION, Value::Object(payload).to_string(), at],
    )?;
    Ok(event_id)
}

//! The outbox: events waiting for the cloud, in `seq` order, marked acked only after the broker's
//! PUBACK, quarantined (with a reason) when the broker keeps refusing one so it never blocks the rest.

use chrono::{DateTime, FixedOffset};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::interviews::{StationIdentity, now};
use crate::payload::{PAYLOAD_SCHEMA_VERSION, envelope, topic};
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
    /// The broker acknowledged it (sent).
    pub acked: bool,
    /// The cloud's receipt arrived (delivered).
    pub delivered: bool,
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
    /// Events the broker acknowledged whose receipt from the cloud has not arrived.
    pub unconfirmed: i64,
    /// When the oldest unconfirmed event was created (RFC 3339).
    pub oldest_unconfirmed_at: Option<String>,
}

impl Backlog {
    /// Age of the oldest unsent event in seconds, relative to `now`.
    pub fn oldest_age_s(&self, now: DateTime<FixedOffset>) -> Option<i64> {
        age_s(self.oldest_created_at.as_deref()?, now)
    }

    /// Age of the oldest unconfirmed event in seconds, relative to `now`.
    pub fn oldest_unconfirmed_age_s(&self, now: DateTime<FixedOffset>) -> Option<i64> {
        age_s(self.oldest_unconfirmed_at.as_deref()?, now)
    }
}

fn age_s(at: &str, now: DateTime<FixedOffset>) -> Option<i64> {
    let at = DateTime::parse_from_rfc3339(at).ok()?;
    Some((now - at).num_seconds().max(0))
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
        self.stamp_each(
            "UPDATE outbox SET acked_at = ?2 WHERE seq = ?1 AND acked_at IS NULL",
            seqs,
        )
    }

    /// Runs `sql` (`?1` a key, `?2` the time now) once per key in one transaction; returns the
    /// rows changed.
    fn stamp_each<K: rusqlite::ToSql>(
        &mut self,
        sql: &str,
        keys: &[K],
    ) -> Result<usize, StoreError> {
        let at = now().to_rfc3339();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare_cached(sql)?;
            for key in keys {
                n += stmt.execute(params![key, at])?;
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

    /// Sets an event aside so it no longer blocks the queue; it stays in the database with its
    /// reason. Returns its (event_id, event_type), or None if it was acked or is gone.
    pub fn outbox_quarantine(
        &mut self,
        seq: i64,
        reason: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "UPDATE outbox SET quarantined_at = ?2, quarantine_reason = ?3
                 WHERE seq = ?1 AND acked_at IS NULL RETURNING event_id, event_type",
                params![seq, now().to_rfc3339(), reason],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Puts quarantined events back in the queue with their attempts reset: the one with this
    /// event id, or all of them. Returns how many.
    pub fn outbox_release(&mut self, event_id: Option<&str>) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE outbox SET quarantined_at = NULL, quarantine_reason = NULL, attempts = 0
             WHERE quarantined_at IS NOT NULL AND (?1 IS NULL OR event_id = ?1)",
            [event_id],
        )?)
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
            "SELECT seq, event_id, event_type, acked_at IS NOT NULL, quarantined_at IS NOT NULL,
                    delivered_at IS NOT NULL FROM outbox ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(OutboxEntry {
                seq: r.get(0)?,
                event_id: r.get(1)?,
                event_type: r.get(2)?,
                acked: r.get(3)?,
                quarantined: r.get(4)?,
                delivered: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What is still waiting for the cloud: unsent, and sent but not confirmed.
    pub fn outbox_backlog(&self) -> Result<Backlog, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FILTER (WHERE acked_at IS NULL AND quarantined_at IS NULL),
                    min(created_at) FILTER (WHERE acked_at IS NULL AND quarantined_at IS NULL),
                    count(*) FILTER (WHERE acked_at IS NULL AND quarantined_at IS NOT NULL),
                    count(*) FILTER (WHERE acked_at IS NOT NULL),
                    min(created_at) FILTER (WHERE acked_at IS NOT NULL)
             FROM outbox WHERE delivered_at IS NULL",
            [],
            |r| {
                Ok(Backlog {
                    pending: r.get(0)?,
                    oldest_created_at: r.get(1)?,
                    quarantined: r.get(2)?,
                    unconfirmed: r.get(3)?,
                    oldest_unconfirmed_at: r.get(4)?,
                })
            },
        )?)
    }

    /// Records the cloud's receipt for these events: delivered (and sent, if the PUBACK was
    /// lost). Returns how many were newly delivered; unknown ids are ignored.
    pub fn outbox_mark_delivered(&mut self, event_ids: &[String]) -> Result<usize, StoreError> {
        self.stamp_each(
            "UPDATE outbox SET delivered_at = ?2, acked_at = coalesce(acked_at, ?2)
             WHERE event_id = ?1 AND delivered_at IS NULL",
            event_ids,
        )
    }

    /// Sent events whose receipt is overdue at `now`: sent more than `timeout_s × 2^resends`
    /// seconds ago (capped at `max_s`). They are marked unsent again (their `resends` counted),
    /// so the agent publishes them again with the same id; returns their seqs.
    pub fn outbox_resend_unconfirmed(
        &mut self,
        now: DateTime<FixedOffset>,
        timeout_s: u64,
        max_s: u64,
    ) -> Result<Vec<i64>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows = tx
            .prepare_cached(
                "SELECT seq, acked_at, resends FROM outbox
                 WHERE acked_at IS NOT NULL AND delivered_at IS NULL ORDER BY seq",
            )?
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let overdue: Vec<i64> = rows
            .into_iter()
            .filter(|(_, acked_at, resends)| {
                let wait = timeout_s
                    .saturating_mul(1u64 << (*resends).clamp(0, 20))
                    .min(max_s.max(timeout_s));
                age_s(acked_at, now).is_some_and(|age| age >= wait as i64)
            })
            .map(|(seq, _, _)| seq)
            .collect();
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET acked_at = NULL, resends = resends + 1 WHERE seq = ?1",
            )?;
            for seq in &overdue {
                stmt.execute([seq])?;
            }
        }
        tx.commit()?;
        Ok(overdue)
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

/// Inserts an event into the outbox on `conn` (a connection or an open transaction): the
/// protocol's envelope around `body`.
pub(crate) fn insert_event<B: serde::Serialize>(
    conn: &rusqlite::Connection,
    station: &StationIdentity,
    event_type: &str,
    interview_id: Option<&str>,
    body: B,
) -> Result<String, StoreError> {
    let event_id = Uuid::now_v7().to_string();
    let at = now();
    let payload = serde_json::to_string(&envelope(station, &event_id, event_type, at, body))?;
    conn.execute(
        "INSERT INTO outbox (event_id, event_type, topic, interview_id, schema_version, payload, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![event_id, event_type, topic(station, event_type), interview_id, PAYLOAD_SCHEMA_VERSION, payload, at.to_rfc3339()],
    )?;
    Ok(event_id)
}

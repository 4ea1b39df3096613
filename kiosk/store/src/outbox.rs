//! The outbox: events waiting for the cloud, in `seq` order, marked acked only after the broker's PUBACK.

use rusqlite::params;

use crate::interviews::now;
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
    /// Publish attempts so far.
    pub attempts: i64,
}

/// How much is waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    /// Events not yet acknowledged.
    pub pending: i64,
    /// When the oldest unacknowledged event was created (RFC 3339).
    pub oldest_created_at: Option<String>,
}

impl Store {
    /// Unacknowledged events after `after_seq`, oldest first.
    pub fn outbox_pending(
        &self,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, event_id, event_type, topic, payload, attempts FROM outbox
             WHERE acked_at IS NULL AND seq > ?1 ORDER BY seq LIMIT ?2",
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
        let n = self.conn.execute(
            "UPDATE outbox SET acked_at = ?2 WHERE seq = ?1 AND acked_at IS NULL",
            params![seq, now().to_rfc3339()],
        )?;
        Ok(n == 1)
    }

    /// Records a publish attempt (and its error, if any).
    pub fn outbox_record_attempt(
        &mut self,
        seq: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1",
            params![seq, error],
        )?;
        Ok(())
    }

    /// What is still waiting for the cloud.
    pub fn outbox_backlog(&self) -> Result<Backlog, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*), min(created_at) FROM outbox WHERE acked_at IS NULL",
            [],
            |r| {
                Ok(Backlog {
                    pending: r.get(0)?,
                    oldest_created_at: r.get(1)?,
                })
            },
        )?)
    }
}

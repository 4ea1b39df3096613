//! What the sync agent last reported about its connection, so `sync-agent status` can show it;
//! and the last `kiosk check` of the box, which the agent's health report carries.

use rusqlite::{OptionalExtension, params};

use crate::interviews::now;
use crate::{Store, StoreError};

/// The agent's last reported state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncState {
    /// Process id of the agent that wrote it.
    pub pid: i64,
    /// Connected to the broker.
    pub connected: bool,
    /// Last connection or publish error, if any.
    pub last_error: Option<String>,
    /// When the agent last connected (RFC 3339).
    pub last_connected_at: Option<String>,
    /// When the broker last acknowledged an event (RFC 3339).
    pub last_publish_at: Option<String>,
    /// When this was written (RFC 3339).
    pub updated_at: String,
}

impl Store {
    /// Replaces the agent's reported state (`updated_at` is set to now).
    pub fn write_sync_state(&mut self, s: &SyncState) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO sync_state (id, pid, connected, last_error, last_connected_at, last_publish_at, updated_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, connected = excluded.connected,
                 last_error = excluded.last_error, last_connected_at = excluded.last_connected_at,
                 last_publish_at = excluded.last_publish_at, updated_at = excluded.updated_at",
            params![s.pid, s.connected, s.last_error, s.last_connected_at, s.last_publish_at, now().to_rfc3339()],
        )?;
        Ok(())
    }

    /// The agent's last reported state, if it ever ran.
    pub fn sync_state(&self) -> Result<Option<SyncState>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT pid, connected, last_error, last_connected_at, last_publish_at, updated_at FROM sync_state WHERE id = 1",
                [],
                |r| {
                    Ok(SyncState {
                        pid: r.get(0)?,
                        connected: r.get(1)?,
                        last_error: r.get(2)?,
                        last_connected_at: r.get(3)?,
                        last_publish_at: r.get(4)?,
                        updated_at: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records the summary of a `kiosk check` just run (replacing the previous one).
    pub fn record_box_check(&mut self, summary: &serde_json::Value) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO box_check (id, at, summary) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET at = excluded.at, summary = excluded.summary",
            params![now().to_rfc3339(), summary.to_string()],
        )?;
        Ok(())
    }

    /// The last `kiosk check`: when, and its summary (None if it never ran here).
    pub fn box_check(&self) -> Result<Option<(String, serde_json::Value)>, StoreError> {
        let row: Option<(String, String)> = self
            .conn
            .query_row("SELECT at, summary FROM box_check WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(row.map(|(at, text)| {
            (
                at,
                serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
            )
        }))
    }
}

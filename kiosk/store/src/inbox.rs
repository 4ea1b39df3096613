//! The inbox: what the cloud sends down (config versions, rosters, deletion requests), applied
//! idempotently by version — an older or repeated version changes nothing.

use rusqlite::{OptionalExtension, params};

use crate::interviews::now;
use crate::{Store, StoreError};

/// What happened to a message offered to the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxOutcome {
    /// Newer than what was held: stored.
    Applied,
    /// Same or older version than what is held: ignored.
    Stale,
}

impl Store {
    /// Stores `payload` as the current `kind`/`key` document if `version` is newer than the one held.
    pub fn inbox_apply(
        &mut self,
        kind: &str,
        key: &str,
        version: i64,
        payload: &str,
    ) -> Result<InboxOutcome, StoreError> {
        let n = self.conn.execute(
            "INSERT INTO inbox (kind, key, version, payload, received_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (kind, key) DO UPDATE SET version = excluded.version, payload = excluded.payload,
                                                   received_at = excluded.received_at
             WHERE excluded.version > inbox.version",
            params![kind, key, version, payload, now().to_rfc3339()],
        )?;
        Ok(if n == 1 {
            InboxOutcome::Applied
        } else {
            InboxOutcome::Stale
        })
    }

    /// The current document of `kind`/`key`: (version, payload).
    pub fn inbox_get(&self, kind: &str, key: &str) -> Result<Option<(i64, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT version, payload FROM inbox WHERE kind = ?1 AND key = ?2",
                [kind, key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Removes the `kind`/`key` document (a roster whose week is over); true if there was one.
    pub fn inbox_remove(&mut self, kind: &str, key: &str) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM inbox WHERE kind = ?1 AND key = ?2",
            [kind, key],
        )? == 1)
    }

    /// Every current document of `kind`, newest first: (key, version, payload, received_at).
    pub fn inbox_list(&self, kind: &str) -> Result<Vec<(String, i64, String, String)>, StoreError> {
        Ok(self
            .conn
            .prepare(
                "SELECT key, version, payload, received_at FROM inbox WHERE kind = ?1
                 ORDER BY received_at DESC, key",
            )?
            .query_map([kind], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?)
    }
}

//! Configuration from the cloud: which `config` documents of the inbox are in force, which were
//! refused, each decision committed with its `config_applied` / `config_rejected` event.

use rusqlite::params;

use crate::interviews::{StationIdentity, now};
use crate::outbox::insert_event;
use crate::{Store, StoreError};

/// A configuration document: (key, version, the downlink message as received).
pub type ConfigDoc = (String, i64, String);

impl Store {
    /// `config` documents of the inbox newer than both the version in force and the last one
    /// refused: still to be decided.
    pub fn config_undecided(&self) -> Result<Vec<ConfigDoc>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT i.key, i.version, i.payload FROM inbox i LEFT JOIN config_state c ON c.key = i.key
             WHERE i.kind = 'config'
               AND i.version > max(coalesce(c.applied_version, 0), coalesce(c.rejected_version, 0))
             ORDER BY i.key",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The documents in force, by key.
    pub fn config_in_force(&self) -> Result<Vec<ConfigDoc>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT key, applied_version, applied_payload FROM config_state
             WHERE applied_version IS NOT NULL ORDER BY key",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Puts a document in force and tells the cloud (`config_applied`), in one transaction.
    pub fn config_apply(
        &mut self,
        station: &StationIdentity,
        (key, version, payload): &ConfigDoc,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO config_state (key, applied_version, applied_payload, applied_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (key) DO UPDATE SET applied_version = excluded.applied_version,
                 applied_payload = excluded.applied_payload, applied_at = excluded.applied_at",
            params![key, version, payload, now().to_rfc3339()],
        )?;
        insert_event(
            &tx,
            station,
            kiosk_protocol::event_type::CONFIG_APPLIED,
            None,
            kiosk_protocol::ConfigAppliedBody {
                key: key.clone(),
                version: *version,
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records a document the validator refused (the previous one stays in force) and tells the
    /// cloud why (`config_rejected`), in one transaction.
    pub fn config_reject(
        &mut self,
        station: &StationIdentity,
        key: &str,
        version: i64,
        errors: &[String],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO config_state (key, rejected_version, rejected_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET rejected_version = excluded.rejected_version,
                 rejected_at = excluded.rejected_at",
            params![key, version, now().to_rfc3339()],
        )?;
        insert_event(
            &tx,
            station,
            kiosk_protocol::event_type::CONFIG_REJECTED,
            None,
            kiosk_protocol::ConfigRejectedBody {
                key: key.to_string(),
                version,
                errors: errors.to_vec(),
            },
        )?;
        tx.commit()?;
        Ok(())
    }
}

//! The SQL schema and its forward-only migrations, tracked in `PRAGMA user_version`.
//!
//! Each migration runs in one `BEGIN IMMEDIATE` transaction together with its `user_version`
//! bump, so a crash leaves the database either before or after it and re-running is safe; two
//! processes opening a fresh file at once serialise on the write lock and the second finds
//! nothing left to do.

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// Migrations in order; migration `i` brings `user_version` from `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE candidates (
    id          TEXT PRIMARY KEY,
    receipt     TEXT NOT NULL UNIQUE,
    name        TEXT,
    phone       TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE interviews (
    id            TEXT PRIMARY KEY,
    candidate_id  TEXT NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    role_id       TEXT NOT NULL,
    tenant        TEXT NOT NULL,
    store_id      TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    locale        TEXT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('spoken', 'typed')),
    started_at    TEXT NOT NULL,
    completed_at  TEXT NOT NULL,
    question_count INTEGER NOT NULL
);
CREATE INDEX interviews_completed ON interviews(completed_at);

CREATE TABLE answers (
    interview_id   TEXT NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    question_id    TEXT NOT NULL,
    source         TEXT NOT NULL,
    transcript     TEXT NOT NULL,
    asr_confidence REAL,
    latency_ms     INTEGER,
    speech_ms      INTEGER,
    response_json  TEXT NOT NULL,
    PRIMARY KEY (interview_id, position)
);

CREATE TABLE media (
    id            INTEGER PRIMARY KEY,
    interview_id  TEXT NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
    question_id   TEXT,
    kind          TEXT NOT NULL,
    path          TEXT NOT NULL,
    sha256        TEXT,
    bytes         INTEGER,
    created_at    TEXT NOT NULL,
    expires_at    TEXT
);

CREATE TABLE results (
    interview_id    TEXT PRIMARY KEY REFERENCES interviews(id) ON DELETE CASCADE,
    total           INTEGER,
    recommendation  TEXT NOT NULL CHECK (recommendation IN ('advance', 'review', 'not_recommended')),
    status          TEXT NOT NULL,
    result_json     TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

CREATE TABLE consents (
    id              INTEGER PRIMARY KEY,
    interview_id    TEXT NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('recording', 'face')),
    granted         INTEGER NOT NULL CHECK (granted IN (0, 1)),
    notice_version  TEXT NOT NULL,
    locale          TEXT NOT NULL,
    recorded_at     TEXT NOT NULL
);

CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT NOT NULL UNIQUE,
    event_type      TEXT NOT NULL,
    topic           TEXT NOT NULL,
    interview_id    TEXT,
    schema_version  INTEGER NOT NULL,
    payload         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    acked_at        TEXT
);
CREATE INDEX outbox_unacked ON outbox(seq) WHERE acked_at IS NULL;
CREATE INDEX outbox_interview ON outbox(interview_id);

CREATE TABLE inbox (
    kind         TEXT NOT NULL,
    key          TEXT NOT NULL,
    version      INTEGER NOT NULL,
    payload      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
"#,
    r#"
ALTER TABLE outbox ADD COLUMN quarantined_at TEXT;
ALTER TABLE outbox ADD COLUMN quarantine_reason TEXT;
DROP INDEX outbox_unacked;
CREATE INDEX outbox_unsent ON outbox(seq) WHERE acked_at IS NULL AND quarantined_at IS NULL;

CREATE TABLE sync_state (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    pid                INTEGER NOT NULL,
    connected          INTEGER NOT NULL,
    last_error         TEXT,
    last_connected_at  TEXT,
    last_publish_at    TEXT,
    updated_at         TEXT NOT NULL
);
"#,
    r#"
CREATE TABLE decisions (
    id            INTEGER PRIMARY KEY,
    interview_id  TEXT NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
    decision      TEXT NOT NULL CHECK (decision IN ('advance', 'reject', 'keep')),
    reason        TEXT NOT NULL,
    decided_by    TEXT NOT NULL,
    decided_at    TEXT NOT NULL,
    event_id      TEXT NOT NULL
);
CREATE INDEX decisions_interview ON decisions(interview_id);

CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    action    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    at        TEXT NOT NULL
);
"#,
    // Receipts: `acked_at` (the broker's PUBACK) makes an event sent; `delivered_at` (the cloud's
    // receipt) makes it delivered. Events acked before receipts existed count as delivered.
    r#"
ALTER TABLE outbox ADD COLUMN delivered_at TEXT;
ALTER TABLE outbox ADD COLUMN resends INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET delivered_at = acked_at WHERE acked_at IS NOT NULL;
CREATE INDEX outbox_unconfirmed ON outbox(seq) WHERE acked_at IS NOT NULL AND delivered_at IS NULL;
"#,
    // Deletion on request: the tombstone of each request carried out (ids, counts and times
    // only, no personal data); a repeated request finds it and does nothing again. Retention:
    // when an interview's personal data was removed. The PIN lockout still to run. The cloud
    // configuration in force.
    r#"
CREATE TABLE deletions (
    request_id    TEXT PRIMARY KEY,
    interviews    TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    removed       TEXT NOT NULL,
    completed_at  TEXT NOT NULL,
    event_id      TEXT NOT NULL
);
-- Retention: when an interview's personal data was removed (its proof stays).
ALTER TABLE interviews ADD COLUMN personal_data_removed_at TEXT;
-- The manager PIN's lockout still to run, counted down on the kiosk's monotonic clock while it
-- runs: setting the wall clock neither lifts nor extends it.
CREATE TABLE pin_lockout (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    remaining_ms  INTEGER NOT NULL
);
-- Configuration from the cloud: per inbox `config` key, the version in force (applied at an
-- idle screen) and the last version refused by the validator.
CREATE TABLE config_state (
    key               TEXT PRIMARY KEY,
    applied_version   INTEGER,
    applied_payload   TEXT,
    applied_at        TEXT,
    rejected_version  INTEGER,
    rejected_at       TEXT
);
"#,
    r#"
-- The last `kiosk check` of this box, as a summary the sync agent's health report carries.
CREATE TABLE box_check (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    at       TEXT NOT NULL,
    summary  TEXT NOT NULL
);
"#,
];

/// Schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The newest migration undone: what makes a database of this build look as the previous
/// release left it, for the package upgrade test (install N, interviews offline, upgrade: N+1
/// must migrate them). Adding a migration means replacing this with its undo.
const NEWEST_UNDONE: (i64, &str) = (6, "DROP TABLE box_check;");

/// Takes a database at [`SCHEMA_VERSION`] back to the schema before the newest migration, in one
/// transaction, and returns that version; `None` (nothing done) if it is at another version.
pub fn rewind_newest(conn: &mut Connection) -> Result<Option<i64>, StoreError> {
    assert_eq!(
        NEWEST_UNDONE.0, SCHEMA_VERSION,
        "NEWEST_UNDONE must undo the newest migration"
    );
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = user_version(&tx)?;
    if found != SCHEMA_VERSION {
        return Ok(None);
    }
    tx.execute_batch(NEWEST_UNDONE.1)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION - 1)?;
    tx.commit()?;
    Ok(Some(SCHEMA_VERSION - 1))
}

pub(crate) fn user_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the database up to [`SCHEMA_VERSION`].
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    if user_version(conn)? >= SCHEMA_VERSION {
        return check_not_newer(conn);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let from = user_version(&tx)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
        tracing::info!(to = i + 1, "migrating database schema");
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    check_not_newer(conn)
}

fn check_not_newer(conn: &Connection) -> Result<(), StoreError> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(conn: &Connection) -> Vec<String> {
        let mut st = conn
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .expect("prepare");
        st.query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    #[test]
    fn rewinding_the_newest_migration_gives_back_a_database_it_migrates_again() {
        let mut c = Connection::open_in_memory().expect("db");
        migrate(&mut c).expect("migrate");
        let full = schema(&c);
        assert_eq!(
            rewind_newest(&mut c).expect("rewind"),
            Some(SCHEMA_VERSION - 1)
        );
        assert_eq!(
            rewind_newest(&mut c).expect("again"),
            None,
            "only from the newest"
        );
        assert_eq!(user_version(&c).expect("version"), SCHEMA_VERSION - 1);
        assert_ne!(schema(&c), full, "the newest migration's work is gone");
        migrate(&mut c).expect("migrate again");
        assert_eq!(schema(&c), full);
    }
}

//! The kiosk's offline SQLite store — the only crate that knows the SQL schema.
//!
//! Durability: WAL with `synchronous=FULL`, both set and read back at open, so a committed
//! interview survives power loss. An interview, its answers, its result and its outbox event are
//! written in one transaction; `save_interview` returns only after the commit, and only then may
//! anything tell the candidate "saved".
//!
//! Encryption at rest: the file is a SQLCipher database and answer audio is sealed, both under
//! the kiosk's [`StoreKey`]; the data folder is 0700 and the files 0600. A plaintext database
//! from before is converted on first open (see `convert`).

mod backup;
mod config_state;
mod convert;
mod forget;
mod inbox;
mod interviews;
mod key;
mod outbox;
mod payload;
mod purge;
mod review;
mod schema;
mod sync_state;

pub use backup::BackupManifest;
pub use config_state::ConfigDoc;
pub use convert::{SEALED_SUFFIX, is_encrypted};
pub use forget::{ForgetRequest, ForgetTarget, Forgotten, RequestedBy, Tombstone};
pub use inbox::InboxOutcome;
pub use interviews::{
    Candidate, Consent, ConsentKind, MediaRef, NewInterview, ResultRow, Saved, StationIdentity, now,
};
pub use key::{CREDENTIAL_NAME, KeyError, SEALED_MAGIC, StoreKey, locate as locate_key};
pub use outbox::{Backlog, OutboxEntry, OutboxEvent};
pub use payload::{EVENT_INTERVIEW_RESULT, PAYLOAD_SCHEMA_VERSION, topic};
pub use purge::{CLOCK_FLOOR, PurgeError, Purged};
pub use review::{AnswerRow, Decision, DecisionRow, InterviewDetail, MediaRow};
pub use schema::SCHEMA_VERSION;
pub use sync_state::SyncState;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

/// How long a writer waits for another process's lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The disk is full: nothing was written.
    #[error(
        "the disk holding the database is full; nothing was saved. Free space (old media, logs) and try again"
    )]
    DiskFull,
    /// Another process held the database lock for longer than the busy timeout.
    #[error("the database stayed locked by another process for {}s; nothing was saved. Try again", BUSY_TIMEOUT.as_secs())]
    Busy,
    /// The file is not a SQLite database, is damaged, or was encrypted with another key.
    #[error(
        "the database file {path} is damaged, not a kiosk database, or encrypted with a different store key ({detail}); check the station's key_file, else restore it from backup or move it aside"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        detail: String,
    },
    /// Root asked to open a data folder the kiosk's user owns.
    #[error(
        "the data folder {} belongs to {owner}, the user the kiosk's services run as; as root \
         this command would leave files {owner} cannot open, and the kiosk would stop. Run it as \
         that user: sudo -u {owner} …",
        dir.display()
    )]
    NotOwner {
        /// The data folder.
        dir: PathBuf,
        /// Its owner's name (or uid).
        owner: String,
    },
    /// The file cannot be opened or created.
    #[error("cannot open the database {path}: {detail}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// The database does not give the durability the product promises.
    #[error("the database is not durable: {0}")]
    NotDurable(String),
    /// The database was written by a newer version of the kiosk.
    #[error(
        "the database has schema version {found} but this kiosk supports up to {supported}: update the kiosk software"
    )]
    NewerSchema {
        /// Found in the file.
        found: i64,
        /// This build's.
        supported: i64,
    },
    /// A stored JSON document could not be read or written.
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
    /// A file the store manages (answer audio) could not be removed.
    #[error(
        "cannot remove {path}: {detail}; nothing was deleted, try again once the file is writable"
    )]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// The interview id asked for does not exist.
    #[error("no interview {0}")]
    NotFound(String),
    /// A backup could not be made or restored.
    #[error("backup: {0}")]
    Backup(String),
    /// The store key is missing, unreadable or wrong.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Any other SQLite error.
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => Self::DiskFull,
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Self::Busy,
            _ => Self::Sqlite(e),
        }
    }
}

/// Creates `path` empty with owner-only permissions if it does not exist; restricts it if it does.
fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    private_file_if_exists(path)
}

fn private_file_if_exists(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(m) if m.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        }
        _ => Ok(()),
    }
}

/// An open store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    key: StoreKey,
}

impl Store {
    /// Opens (creating if needed) the encrypted database with `key`, checks durability
    /// settings and migrates it. A plaintext database (from before encryption at rest) and its
    /// audio are converted first.
    pub fn open(path: &Path, key: &StoreKey) -> Result<Self, StoreError> {
        Self::open_inner(path, Some(key))
    }

    /// Opens a database *without* encryption: only for `store-bench`, which measures what
    /// encryption costs against plain SQLite with the same schema and transactions. The product
    /// never calls it.
    #[doc(hidden)]
    pub fn open_unencrypted_for_benchmark(path: &Path) -> Result<Self, StoreError> {
        Self::open_inner(path, None)
    }

    /// The schema version of the open database (after `open`, this build's: [`SCHEMA_VERSION`]).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema::user_version(&self.conn)
    }

    /// Takes the database at `path` back to the schema the previous release wrote (the newest
    /// migration undone) and returns that version: only for the package upgrade test, which
    /// must see a real migration when version N+1 first opens N's data. The product never calls
    /// it. It opens the file as whoever calls it: run it as the data folder's owner.
    #[doc(hidden)]
    pub fn rewind_newest_migration_for_upgrade_test(
        path: &Path,
        key: &StoreKey,
    ) -> Result<i64, StoreError> {
        let mut conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        key.unlock(&conn)?;
        schema::rewind_newest(&mut conn)?.ok_or_else(|| StoreError::Open {
            path: path.to_path_buf(),
            detail: format!("not at this build's schema version {SCHEMA_VERSION}"),
        })
    }

    fn open_inner(path: &Path, key: Option<&StoreKey>) -> Result<Self, StoreError> {
        let open_err = |detail: String| StoreError::Open {
            path: path.to_path_buf(),
            detail,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            refuse_root_in_anothers_folder(dir)?;
            key::private_dir(dir)
                .map_err(|e| open_err(format!("cannot create {}: {e}", dir.display())))?;
        }
        if let Some(key) = key {
            convert::encrypt_if_plaintext(path, key)?;
        }
        private_file(path).map_err(|e| open_err(e.to_string()))?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| open_err(e.to_string()))?;
        // The key comes before anything reads the file.
        if let Some(key) = key {
            key.unlock(&conn).map_err(|e| open_err(e.to_string()))?;
        }
        let mut store = Self {
            conn,
            path: path.to_path_buf(),
            key: key.cloned().unwrap_or_else(StoreKey::generate),
        };
        // Two processes opening a brand-new file at once can deadlock on the switch to WAL or on
        // the first migration; SQLite then answers BUSY at once rather than waiting. Retry.
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match store
                .configure()
                .and_then(|()| schema::migrate(&mut store.conn))
            {
                Ok(()) => break,
                Err(StoreError::Busy) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(store.classify(e)),
            }
        }
        for s in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(s);
            let _ = private_file_if_exists(Path::new(&p));
        }
        if key.is_some() {
            let data_dir = path.parent().unwrap_or(Path::new("."));
            convert::seal_plaintext_media(&store.conn, data_dir, &store.key)?;
        }
        Ok(store)
    }

    /// Opens the database at `path` with the key in `key_file` (or systemd's credential; see
    /// [`StoreKey::for_database`]).
    pub fn open_with_key_file(path: &Path, key_file: &Path) -> Result<Self, StoreError> {
        let key = StoreKey::for_database(key_file, path)?;
        Self::open(path, &key)
    }

    /// The key this store was opened with: answer audio is sealed with it.
    pub fn key(&self) -> &StoreKey {
        &self.key
    }

    fn classify(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::Sqlite(ref inner)
                if matches!(
                    inner.sqlite_error_code(),
                    Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
                ) =>
            {
                StoreError::Corrupt {
                    path: self.path.clone(),
                    detail: inner.to_string(),
                }
            }
            other => other,
        }
    }

    fn configure(&self) -> Result<(), StoreError> {
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NotDurable(format!(
                "journal_mode is {mode}, expected wal"
            )));
        }
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let sync: i64 = self
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))?;
        if sync != 2 {
            return Err(StoreError::NotDurable(format!(
                "synchronous is {sync}, expected 2 (FULL)"
            )));
        }
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted rows are overwritten with zeros, so a deletion on request leaves no copy in
        // the file's free pages.
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        Ok(())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Durability settings as SQLite reports them: (journal_mode, synchronous).
    pub fn durability(&self) -> Result<(String, i64), StoreError> {
        let mode = self
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        let sync = self
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))?;
        Ok((mode, sync))
    }

    /// Caps the database at `pages` pages, as a full disk would (used to test full-disk handling).
    pub fn set_max_page_count(&self, pages: i64) -> Result<(), StoreError> {
        self.conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))?;
        Ok(())
    }

    /// Checks the file and the invariants: every interview has all its answers, its result and
    /// its outbox event. Returns one line per problem; empty means consistent.
    pub fn check_consistency(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let integrity: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if integrity != "ok" {
            problems.push(format!("integrity_check: {integrity}"));
        }
        let checks = [
            (
                "interview without result",
                "SELECT i.id FROM interviews i LEFT JOIN results r ON r.interview_id = i.id WHERE r.interview_id IS NULL",
            ),
            (
                "interview without outbox event",
                "SELECT i.id FROM interviews i WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.interview_id = i.id)",
            ),
            (
                "interview with missing answers",
                "SELECT i.id FROM interviews i WHERE i.personal_data_removed_at IS NULL AND i.question_count != (SELECT count(*) FROM answers a WHERE a.interview_id = i.id)",
            ),
            (
                "candidate without interview",
                "SELECT c.id FROM candidates c WHERE NOT EXISTS (SELECT 1 FROM interviews i WHERE i.candidate_id = c.id)",
            ),
            (
                "result without interview",
                "SELECT r.interview_id FROM results r LEFT JOIN interviews i ON i.id = r.interview_id WHERE i.id IS NULL",
            ),
            (
                "outbox event without interview",
                "SELECT o.event_id FROM outbox o WHERE o.interview_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM interviews i WHERE i.id = o.interview_id)",
            ),
        ];
        for (what, sql) in checks {
            let mut stmt = self.conn.prepare(sql)?;
            let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for id in ids {
                problems.push(format!("{what}: {}", id?));
            }
        }
        Ok(problems)
    }
}

/// Root opening a data folder another user owns would leave root-owned files behind (`-wal`,
/// `-shm`, sealed audio, a new database) that the kiosk's user can no longer open: refused.
fn refuse_root_in_anothers_folder(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt as _;
    if !rustix::process::geteuid().is_root() {
        return Ok(());
    }
    let Ok(meta) = std::fs::metadata(dir) else {
        return Ok(());
    };
    if meta.uid() == 0 {
        return Ok(());
    }
    Err(StoreError::NotOwner {
        dir: dir.to_path_buf(),
        owner: user_name(meta.uid()),
    })
}

/// The login name of `uid` from `/etc/passwd`, or the number.
fn user_name(uid: u32) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                let mut f = l.split(':');
                let name = f.next()?;
                (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_owned())
            })
        })
        .unwrap_or_else(|| uid.to_string())
}

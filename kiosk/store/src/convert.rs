//! First start after the upgrade to encryption at rest: a plaintext database is exported into an
//! encrypted copy, verified, and only then put in place of the old one; plaintext answer audio
//! is sealed file by file, each old file removed only after its row points to the sealed one.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::{StoreError, StoreKey};

const PLAINTEXT_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Suffix of a sealed answer recording.
pub const SEALED_SUFFIX: &str = ".enc";

fn header(path: &Path) -> Option<[u8; 16]> {
    let mut h = [0u8; 16];
    std::fs::File::open(path).ok()?.read_exact(&mut h).ok()?;
    Some(h)
}

/// True when `path` holds a database that is not plaintext SQLite (an encrypted one).
pub fn is_encrypted(path: &Path) -> bool {
    header(path).is_some_and(|h| &h != PLAINTEXT_HEADER)
}

fn is_plaintext(path: &Path) -> bool {
    header(path).is_some_and(|h| &h == PLAINTEXT_HEADER)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Overwrites a file with zeros, then removes it (best effort against the bytes lingering in the
/// file's blocks; the README recommends full-disk encryption besides).
fn shred(path: &Path) {
    if let Ok(len) = std::fs::metadata(path).map(|m| m.len())
        && let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(path)
    {
        let zeros = vec![0u8; 64 * 1024];
        let mut left = len;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            if f.write_all(&zeros[..n]).is_err() {
                break;
            }
            left -= n as u64;
        }
        let _ = f.sync_all();
    }
    let _ = std::fs::remove_file(path);
}

fn open_err(path: &Path, detail: String) -> StoreError {
    StoreError::Open {
        path: path.to_path_buf(),
        detail,
    }
}

/// Encrypts a plaintext database in place, safely: export → verify → swap → shred. A crash at
/// any point leaves either the old plaintext file or the verified encrypted one under `path`,
/// and the next start finishes the job. Two processes starting at once take turns on a lock.
pub(crate) fn encrypt_if_plaintext(path: &Path, key: &StoreKey) -> Result<(), StoreError> {
    let aside = with_suffix(path, ".plaintext");
    let fresh = with_suffix(path, ".encrypting");
    let lock_path = with_suffix(path, ".lock");
    if !is_plaintext(path) && !aside.exists() {
        return Ok(());
    }
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| open_err(path, format!("cannot lock for conversion: {e}")))?;
    lock.lock()
        .map_err(|e| open_err(path, format!("cannot lock for conversion: {e}")))?;
    // A crash between the two renames below: the plaintext is aside and nothing is in place.
    if !path.exists() && aside.exists() {
        std::fs::rename(&aside, path).map_err(|e| open_err(path, e.to_string()))?;
    }
    if is_plaintext(path) {
        tracing::info!(db = %path.display(), "encrypting the plaintext database (first start with encryption at rest)");
        let _ = std::fs::remove_file(&fresh);
        export(path, &fresh, key)?;
        verify(path, &fresh, key)?;
        std::fs::rename(path, &aside).map_err(|e| open_err(path, e.to_string()))?;
        for s in ["-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(with_suffix(path, s));
        }
        std::fs::rename(&fresh, path).map_err(|e| open_err(path, e.to_string()))?;
        if let Ok(dir) = std::fs::File::open(path.parent().unwrap_or(Path::new("."))) {
            let _ = dir.sync_all();
        }
        tracing::info!(db = %path.display(), "the database is encrypted; the plaintext copy is removed");
    }
    if aside.exists() {
        shred(&aside);
    }
    let _ = std::fs::remove_file(&lock_path);
    Ok(())
}

/// The plaintext database, checkpointed, exported with `sqlcipher_export` into `fresh`.
fn export(path: &Path, fresh: &Path, key: &StoreKey) -> Result<(), StoreError> {
    let plain = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    )
    .map_err(|e| open_err(path, e.to_string()))?;
    plain.busy_timeout(crate::BUSY_TIMEOUT)?;
    plain.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let version: i64 = plain.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let fresh_str = fresh
        .to_str()
        .ok_or_else(|| open_err(path, "the data folder's path is not UTF-8".into()))?;
    let pragma = key.sqlcipher_pragma();
    plain.execute_batch(&format!(
        "ATTACH DATABASE '{}' AS enc KEY {};",
        fresh_str.replace('\'', "''"),
        pragma.as_str()
    ))?;
    plain.query_row("SELECT sqlcipher_export('enc')", [], |_| Ok(()))?;
    plain.execute_batch(&format!(
        "PRAGMA enc.user_version = {version}; DETACH DATABASE enc;"
    ))?;
    Ok(())
}

/// The encrypted copy opens with the key, passes the integrity check, and has the same schema
/// version and the same number of rows in every table as the original.
fn verify(path: &Path, fresh: &Path, key: &StoreKey) -> Result<(), StoreError> {
    let counts = |c: &Connection| -> Result<Vec<(String, i64)>, StoreError> {
        let tables: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for t in tables {
            let n: i64 = c.query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))?;
            out.push((t, n));
        }
        let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        out.push(("user_version".into(), v));
        Ok(out)
    };
    let plain = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| open_err(path, e.to_string()))?;
    let enc = Connection::open_with_flags(fresh, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| open_err(fresh, e.to_string()))?;
    key.unlock(&enc)?;
    let integrity: String = enc.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    let (before, after) = (counts(&plain)?, counts(&enc)?);
    if integrity != "ok" || before != after {
        let _ = std::fs::remove_file(fresh);
        return Err(open_err(
            path,
            format!(
                "the encrypted copy did not verify (integrity {integrity}); the plaintext database is untouched"
            ),
        ));
    }
    Ok(())
}

/// Seals every answer recording still in plaintext and points its row at the sealed file; the
/// plaintext file is shredded after the row is updated. Returns how many were sealed.
/// Only files in the database's folder are the kiosk's own: a row naming a file elsewhere (an
/// older `kiosk interview --answer FILE`) is left alone, never shredded.
pub(crate) fn seal_plaintext_media(
    conn: &Connection,
    data_dir: &Path,
    key: &StoreKey,
) -> Result<u64, StoreError> {
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT id, path FROM media WHERE path NOT LIKE '%' || ?1")?
        .query_map([SEALED_SUFFIX], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut n = 0;
    for (id, old) in rows {
        let old = PathBuf::from(old);
        if !old.starts_with(data_dir) {
            continue;
        }
        let sealed = with_suffix(&old, SEALED_SUFFIX);
        let plain = match std::fs::read(&old) {
            Ok(p) => p,
            // Gone (purged, or a crash after the row moved on): point the row at the sealed
            // file if there is one; otherwise the purge deals with the dangling row.
            Err(_) => {
                if sealed.exists() {
                    set_path(conn, id, &sealed)?;
                }
                continue;
            }
        };
        key.seal_to_file(&sealed, &plain)
            .map_err(|e| StoreError::File {
                path: sealed.clone(),
                detail: e.to_string(),
            })?;
        set_path(conn, id, &sealed)?;
        shred(&old);
        n += 1;
    }
    if n > 0 {
        tracing::info!(files = n, "sealed plaintext answer audio");
    }
    Ok(n)
}

fn set_path(conn: &Connection, id: i64, path: &Path) -> Result<(), StoreError> {
    use sha2::Digest;
    let data = std::fs::read(path).map_err(|e| StoreError::File {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let sha = crate::key::hex(&sha2::Sha256::digest(&data));
    conn.execute(
        "UPDATE media SET path = ?1, sha256 = ?2, bytes = ?3 WHERE id = ?4",
        rusqlite::params![path.display().to_string(), sha, data.len() as i64, id],
    )?;
    Ok(())
}

//! `kiosk backup` / `kiosk restore`: a consistent copy of the database (still encrypted, same
//! key) and the sealed answer audio, with a manifest; and putting one back on a replacement box.
//! Nothing in a backup is readable without the store key, which is kept apart (see the README).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{SCHEMA_VERSION, Store, StoreError, StoreKey};

const DB_NAME: &str = "kiosk.sqlite3";
const MANIFEST: &str = "manifest.json";

/// What a backup holds (also its `manifest.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupManifest {
    /// Format of this folder.
    pub format: u32,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// The database's schema version.
    pub schema_version: i64,
    /// Interviews in it.
    pub interviews: i64,
    /// Sealed audio files copied.
    pub media_files: u64,
    /// Audio rows whose file was missing or outside the data folder (not copied).
    pub media_skipped: u64,
    /// The data folder it came from (audio paths are rewritten on restore).
    pub data_dir: String,
    /// Which store key opens it (a fingerprint, not the key).
    pub key_fingerprint: String,
}

fn err(detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backup(detail.to_string())
}

fn copy_private(from: &Path, to: &Path) -> Result<u64, StoreError> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = to.parent() {
        crate::key::private_dir(dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
    }
    let n = std::fs::copy(from, to).map_err(|e| err(format!("{}: {e}", from.display())))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| err(format!("{}: {e}", to.display())))?;
    Ok(n)
}

impl Store {
    /// Writes a backup into the new folder `out`: the database exported from one consistent
    /// snapshot, encrypted with the same key, then checked; the sealed audio copied as it is.
    pub fn backup_to(&self, out: &Path) -> Result<BackupManifest, StoreError> {
        if out.join(DB_NAME).exists() || out.join(MANIFEST).exists() {
            return Err(err(format!(
                "{} already holds a backup; give a new folder",
                out.display()
            )));
        }
        crate::key::private_dir(out).map_err(|e| err(format!("{}: {e}", out.display())))?;
        let db = out.join(DB_NAME);
        let db_str = db
            .to_str()
            .ok_or_else(|| err("the backup folder's path is not UTF-8"))?;
        let data_dir = self.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        self.conn.execute_batch(&format!(
            "ATTACH DATABASE '{}' AS bak KEY {};",
            db_str.replace('\'', "''"),
            self.key.sqlcipher_pragma().as_str()
        ))?;
        let exported = (|| -> Result<Vec<String>, StoreError> {
            self.conn.execute_batch("BEGIN")?;
            self.conn
                .query_row("SELECT sqlcipher_export('bak')", [], |_| Ok(()))?;
            self.conn
                .execute_batch(&format!("PRAGMA bak.user_version = {SCHEMA_VERSION};"))?;
            let media: Vec<String> = self
                .conn
                .prepare("SELECT path FROM main.media")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            self.conn.execute_batch("COMMIT")?;
            Ok(media)
        })();
        if exported.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        let _ = self.conn.execute_batch("DETACH DATABASE bak");
        let media = exported?;
        let (mut copied, mut skipped) = (0, 0);
        for p in media {
            let p = PathBuf::from(p);
            match p.strip_prefix(&data_dir) {
                Ok(rel) if p.is_file() => {
                    copy_private(&p, &out.join(rel))?;
                    copied += 1;
                }
                _ => skipped += 1,
            }
        }
        let check = Store::open(&db, &self.key)?;
        let problems = check.check_consistency()?;
        if !problems.is_empty() {
            return Err(err(format!(
                "the copy did not verify: {}",
                problems.join("; ")
            )));
        }
        let interviews = check
            .conn
            .query_row("SELECT count(*) FROM interviews", [], |r| r.get(0))?;
        drop(check);
        for s in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(out.join(format!("{DB_NAME}{s}")));
        }
        let manifest = BackupManifest {
            format: 1,
            created_at: crate::now().to_rfc3339(),
            schema_version: SCHEMA_VERSION,
            interviews,
            media_files: copied,
            media_skipped: skipped,
            data_dir: data_dir.display().to_string(),
            key_fingerprint: self.key.fingerprint(),
        };
        std::fs::write(out.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)
            .map_err(|e| err(format!("{}: {e}", out.display())))?;
        Ok(manifest)
    }

    /// Puts the backup in `from` in place as the database `db` (which must not exist yet) and its
    /// audio, and opens it. The key must be the one the backup was made with.
    pub fn restore_from(from: &Path, db: &Path, key: &StoreKey) -> Result<Self, StoreError> {
        let text = std::fs::read(from.join(MANIFEST)).map_err(|e| {
            err(format!(
                "{} is not a kiosk backup (no {MANIFEST}: {e})",
                from.display()
            ))
        })?;
        let manifest: BackupManifest = serde_json::from_slice(&text)?;
        if manifest.key_fingerprint != key.fingerprint() {
            return Err(err(format!(
                "the backup in {} was made with another store key (fingerprint {}, this kiosk's is {}): put that key file in place first",
                from.display(),
                manifest.key_fingerprint,
                key.fingerprint()
            )));
        }
        if std::fs::metadata(db).is_ok_and(|m| m.len() > 0) {
            return Err(err(format!(
                "{} exists: move it aside before restoring over it",
                db.display()
            )));
        }
        let data_dir = db.parent().unwrap_or(Path::new(".")).to_path_buf();
        copy_private(&from.join(DB_NAME), db)?;
        let mut stack = vec![from.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).map_err(|e| err(format!("{}: {e}", dir.display())))? {
                let p = e.map_err(err)?.path();
                let rel = p.strip_prefix(from).map_err(err)?;
                if p.is_dir() {
                    stack.push(p.clone());
                } else if rel.starts_with("media") {
                    copy_private(&p, &data_dir.join(rel))?;
                }
            }
        }
        let store = Store::open(db, key)?;
        store.conn.execute(
            "UPDATE media SET path = ?2 || substr(path, length(?1) + 1)
             WHERE substr(path, 1, length(?1)) = ?1",
            [&manifest.data_dir, &data_dir.display().to_string()],
        )?;
        Ok(store)
    }
}

//! The store key: one 256-bit secret per kiosk that encrypts the database (SQLCipher) and seals
//! answer audio (XChaCha20-Poly1305), each with its own HKDF-derived subkey.
//!
//! The key file holds 64 hex digits. It is made at provisioning (`kiosk keygen`), or on first
//! start when there is no encrypted data yet; readable only by the service user (0600, or
//! 0640 `root:kiosk`), or handed over by systemd as the credential `store.key`. Without it the
//! data cannot be read: a replacement box restores the key with the backup (see the README).

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

/// The first bytes of a sealed file.
pub const SEALED_MAGIC: &[u8; 8] = b"KIOSKAE1";
const NONCE_LEN: usize = 24;

/// The name under which systemd hands the key over (`LoadCredential=store.key:…`).
pub const CREDENTIAL_NAME: &str = "store.key";

/// What can go wrong with the key or a sealed file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file is missing while encrypted data exists.
    #[error(
        "the store key {path} is missing and {database} is not a plain database (encrypted, or damaged): restore the key file that was kept with this kiosk's backups (see the README, \"Store key\"); a new key cannot read the data"
    )]
    Missing {
        /// Where the key was looked for.
        path: PathBuf,
        /// The encrypted database.
        database: PathBuf,
    },
    /// The key file cannot be read or written.
    #[error("cannot use the store key {path}: {detail}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// The key file does not hold 64 hex digits.
    #[error(
        "the store key {path} is not a key (expected 64 hex digits on one line); restore it from the backup"
    )]
    Malformed {
        /// The key file.
        path: PathBuf,
    },
    /// A sealed file fails authentication: damaged, or sealed with another key.
    #[error(
        "{path} cannot be opened: damaged, or sealed with a different store key than this kiosk's"
    )]
    Unseal {
        /// The file.
        path: PathBuf,
    },
}

/// The kiosk's store key. Its bytes are wiped from memory when dropped and never printed.
#[derive(Clone)]
pub struct StoreKey {
    master: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(…)")
    }
}

impl StoreKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let k = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut master = Zeroizing::new([0u8; 32]);
        master.copy_from_slice(&k);
        Self { master }
    }

    /// A key from its bytes (tests, restores).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            master: Zeroizing::new(bytes),
        }
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| KeyError::Io {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?);
        let hex = text.trim();
        let malformed = || KeyError::Malformed {
            path: path.to_path_buf(),
        };
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(malformed());
        }
        let mut master = Zeroizing::new([0u8; 32]);
        for (i, b) in master.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| malformed())?;
        }
        Ok(Self { master })
    }

    /// Writes a new key file readable by its owner only; never replaces an existing one.
    pub fn create(path: &Path) -> Result<Self, KeyError> {
        let key = Self::generate();
        key.save(path)?;
        Ok(key)
    }

    /// Writes this key to `path` (0600), failing if the file exists: a key is never overwritten.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        let io = |e: std::io::Error| KeyError::Io {
            path: path.to_path_buf(),
            detail: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // Written beside (a name of this process and thread), then linked into place: a crash
        // never leaves half a key under the name, and of two threads or processes creating one
        // at once exactly one wins; the other loads the winner's.
        let thread = format!("{:?}", std::thread::current().id());
        let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
        let tmp = path.with_extension(format!("tmp{}-{thread}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io)?;
        let hex = Zeroizing::new(self.hex());
        let written = f
            .write_all(format!("{}\n", hex.as_str()).as_bytes())
            .and_then(|()| f.sync_all());
        let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
        let _ = std::fs::remove_file(&tmp);
        linked.map_err(io)
    }

    /// The key for the database at `database`, from `key_file`: loaded if it exists; made if it
    /// does not and nothing is encrypted yet (a new kiosk, or a plaintext database to convert).
    pub fn for_database(key_file: &Path, database: &Path) -> Result<Self, KeyError> {
        let key_file = locate(key_file);
        if key_file.exists() {
            return Self::load(&key_file);
        }
        if crate::convert::is_encrypted(database) {
            return Err(KeyError::Missing {
                path: key_file,
                database: database.to_path_buf(),
            });
        }
        match Self::create(&key_file) {
            Ok(k) => {
                tracing::info!(key = %key_file.display(), "made a new store key: keep a copy with the backups");
                Ok(k)
            }
            // Another process made it first.
            Err(_) if key_file.exists() => Self::load(&key_file),
            Err(e) => Err(e),
        }
    }

    /// A short public name for this key (HKDF subkey, 8 bytes hex): tells which key a backup
    /// needs without revealing it.
    pub fn fingerprint(&self) -> String {
        hex(&self.subkey(b"kiosk-store fingerprint v1")[..8])
    }

    fn hex(&self) -> String {
        hex(self.master.as_slice())
    }

    fn subkey(&self, info: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, self.master.as_slice())
            .expand(info, out.as_mut_slice())
            .expect("32 bytes is a valid HKDF-SHA256 length");
        out
    }

    /// The SQLCipher raw-key pragma value (`"x'…'"`, from its own subkey), for `PRAGMA key = …`
    /// on a connection that opens the file directly (tests; the `sqlcipher` shell).
    pub fn sqlcipher_pragma(&self) -> Zeroizing<String> {
        let k = self.subkey(b"kiosk-store sqlcipher v1");
        let hex = Zeroizing::new(hex(k.as_slice()));
        Zeroizing::new(format!("\"x'{}'\"", hex.as_str()))
    }

    /// Gives a connection that opens the database file directly this key (`PRAGMA key`), before
    /// anything reads the file.
    pub(crate) fn unlock(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        let statement = Zeroizing::new(format!(
            "PRAGMA key = {};",
            self.sqlcipher_pragma().as_str()
        ));
        conn.execute_batch(&statement)
    }

    fn media_cipher(&self) -> XChaCha20Poly1305 {
        let k = self.subkey(b"kiosk-store media v1");
        XChaCha20Poly1305::new(k.as_slice().into())
    }

    /// `plain` sealed: magic, a random nonce, then the ciphertext and its tag.
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .media_cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: SEALED_MAGIC,
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any length the kiosk records");
        let mut out = Vec::with_capacity(SEALED_MAGIC.len() + NONCE_LEN + sealed.len());
        out.extend_from_slice(SEALED_MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`StoreKey::seal`] made; `path` names it in the error.
    pub fn unseal(&self, sealed: &[u8], path: &Path) -> Result<Vec<u8>, KeyError> {
        let bad = || KeyError::Unseal {
            path: path.to_path_buf(),
        };
        let rest = sealed
            .strip_prefix(SEALED_MAGIC.as_slice())
            .ok_or_else(bad)?;
        if rest.len() < NONCE_LEN {
            return Err(bad());
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        self.media_cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: SEALED_MAGIC,
                },
            )
            .map_err(|_| bad())
    }

    /// Seals `plain` into `path` (0600; written beside, synced, then renamed into place).
    /// Returns the bytes written.
    pub fn seal_to_file(&self, path: &Path, plain: &[u8]) -> std::io::Result<u64> {
        let sealed = self.seal(plain);
        let tmp = path.with_extension("part");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&sealed)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(sealed.len() as u64)
    }

    /// Reads and opens a sealed file.
    pub fn unseal_file(&self, path: &Path) -> Result<Vec<u8>, KeyError> {
        let sealed = std::fs::read(path).map_err(|e| KeyError::Io {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        self.unseal(&sealed, path)
    }
}

/// Lower-case hex of `bytes` (key files, the SQLCipher pragma, fingerprints, file digests).
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the key really is: systemd's credential (`$CREDENTIALS_DIRECTORY/store.key`, set by
/// `LoadCredential=` or `LoadCredentialEncrypted=`) when the service has one, else `configured`.
pub fn locate(configured: &Path) -> PathBuf {
    std::env::var_os("CREDENTIALS_DIRECTORY")
        .map(|d| Path::new(&d).join(CREDENTIAL_NAME))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| configured.to_path_buf())
}

/// Makes `dir` (and its parents) and restricts it to its owner (0700); best effort on a folder
/// this user does not own.
pub(crate) fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
        tracing::warn!(dir = %dir.display(), "cannot make the data folder private (0700): {e}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_audio_opens_with_its_key_only_and_never_holds_the_plaintext() {
        let key = StoreKey::generate();
        let plain = b"RIFF....WAVEfmt Zhang Wei 13800138000".repeat(50);
        let sealed = key.seal(&plain);
        assert!(sealed.starts_with(SEALED_MAGIC));
        assert!(!sealed.windows(9).any(|w| w == b"Zhang Wei"));
        assert_eq!(key.unseal(&sealed, Path::new("a")).expect("opens"), plain);
        let other = StoreKey::generate();
        assert!(matches!(
            other.unseal(&sealed, Path::new("a")),
            Err(KeyError::Unseal { .. })
        ));
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(key.unseal(&flipped, Path::new("a")).is_err());
    }

    #[test]
    fn a_key_file_round_trips_is_private_and_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("keys/store.key");
        let key = StoreKey::create(&path).expect("made");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = StoreKey::load(&path).expect("loads");
        assert_eq!(key.master.as_slice(), again.master.as_slice());
        assert!(StoreKey::create(&path).is_err(), "an existing key is kept");
        assert_eq!(format!("{key:?}"), "StoreKey(…)");
        std::fs::write(&path, "not hex\n").expect("write");
        assert!(matches!(
            StoreKey::load(&path),
            Err(KeyError::Malformed { .. })
        ));
    }

    #[test]
    fn threads_making_the_key_at_once_all_get_the_one_that_was_kept() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("store.key");
        let db = dir.path().join("kiosk.sqlite3");
        let keys: Vec<StoreKey> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| StoreKey::for_database(&path, &db).expect("key")))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let kept = StoreKey::load(&path).expect("kept");
        for k in keys {
            assert_eq!(k.master.as_slice(), kept.master.as_slice());
        }
    }

    #[test]
    fn the_database_and_the_audio_use_different_subkeys() {
        let key = StoreKey::from_bytes([7; 32]);
        let db = key.sqlcipher_pragma();
        let media = key.subkey(b"kiosk-store media v1");
        let media_hex = hex(media.as_slice());
        assert!(!db.contains(&media_hex));
        assert!(!db.contains(&key.hex()));
    }
}

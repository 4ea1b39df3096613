//! One process of a kind per station: an advisory lock (`flock`) on a file in the data folder,
//! holding the owner's pid for the message the second one prints. The kernel releases it when
//! the process dies, however it dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error(
        "another {what} is already running on this station (pid {pid}, lock {}): stop it first \
         (systemctl stop …), or point this one at another station",
        path.display()
    )]
    Held {
        /// What the process is ("sync-agent").
        what: String,
        /// The holder's pid as it wrote it ("?" if unreadable).
        pid: String,
        /// The lock file.
        path: PathBuf,
    },
    /// The lock file cannot be opened or written.
    #[error("cannot take the lock {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Held while the value lives (and the process runs).
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
    path: PathBuf,
}

impl InstanceLock {
    /// Takes the lock at `path` for `what`, or says who holds it. Never waits.
    pub fn acquire(path: &Path, what: &str) -> Result<Self, LockError> {
        let io = |source| LockError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(LockError::Held {
                    what: what.to_owned(),
                    pid: if pid.is_empty() {
                        "?".into()
                    } else {
                        pid.into()
                    },
                    path: path.to_owned(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(Self {
            _file: file,
            path: path.to_owned(),
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_told_who_has_it_and_the_lock_frees_on_drop() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("agent.lock");
        let first = InstanceLock::acquire(&path, "sync-agent").expect("first");
        // flock locks belong to the open file: a second open in this process conflicts too.
        let err = InstanceLock::acquire(&path, "sync-agent").expect_err("second refused");
        let msg = err.to_string();
        assert!(
            msg.contains("another sync-agent") && msg.contains(&std::process::id().to_string()),
            "{msg}"
        );
        drop(first);
        InstanceLock::acquire(&path, "sync-agent").expect("free again after drop");
    }
}

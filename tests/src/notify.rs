//! systemd's side of the notify protocol for tests: a datagram socket to hand a process as
//! `NOTIFY_SOCKET`, read on a thread of its own so nothing the process sends is missed, and what
//! the watchdog pings say about gaps.

use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// What ends the reader thread (sent by [`NotifySocket::finish`]).
const END: &str = "END";

/// A bound notify socket and the messages it received, each with when it arrived.
#[derive(Debug)]
pub struct NotifySocket {
    path: PathBuf,
    rx: Receiver<(Instant, String)>,
}

impl NotifySocket {
    /// Binds `path` (writable by any user when `any_user`: a process that dropped root).
    pub fn bind(path: &Path, any_user: bool) -> Self {
        let sock = UnixDatagram::bind(path).expect("bind the notify socket");
        if any_user {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        }
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = sock.recv(&mut buf) {
                let m = String::from_utf8_lossy(&buf[..n]).trim_end().to_owned();
                if m == END || tx.send((Instant::now(), m)).is_err() {
                    break;
                }
            }
        });
        Self {
            path: path.to_owned(),
            rx,
        }
    }

    /// The socket's path, for `NOTIFY_SOCKET`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The messages received within `within`, stopping after the first one `until` accepts.
    pub fn collect(&self, within: Duration, until: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut got = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok((_, m)) => {
                    let done = until(&m);
                    got.push(m);
                    if done {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        got
    }

    /// Every message received so far (call once the process has exited), with arrival times.
    pub fn finish(self) -> Vec<(Instant, String)> {
        UnixDatagram::unbound()
            .and_then(|s| s.send_to(END.as_bytes(), &self.path))
            .expect("end the reader");
        self.rx.iter().collect()
    }
}

/// What the watchdog pings of a run say.
#[derive(Debug)]
pub struct Watchdog {
    /// `READY=1` arrived.
    pub ready: bool,
    /// `WATCHDOG=1` pings.
    pub pings: usize,
    /// The longest time between two pings.
    pub longest_gap: Duration,
    /// How long after `READY=1` that gap began.
    pub gap_after_ready: Duration,
}

/// Reads readiness and the pings out of [`NotifySocket::finish`]'s messages.
pub fn watchdog(notes: &[(Instant, String)]) -> Watchdog {
    let ready_at = notes
        .iter()
        .find(|(_, m)| m.contains("READY=1"))
        .map(|(t, _)| *t);
    let pings: Vec<Instant> = notes
        .iter()
        .filter(|(_, m)| m == "WATCHDOG=1")
        .map(|(t, _)| *t)
        .collect();
    let (longest_gap, at) = pings
        .windows(2)
        .map(|w| (w[1] - w[0], w[0]))
        .max()
        .unwrap_or((Duration::ZERO, ready_at.unwrap_or_else(Instant::now)));
    Watchdog {
        ready: ready_at.is_some(),
        pings: pings.len(),
        longest_gap,
        gap_after_ready: ready_at.map_or(Duration::ZERO, |r| at.saturating_duration_since(r)),
    }
}

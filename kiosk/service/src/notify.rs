//! systemd's notify protocol: `READY=1` once the process can work, `WATCHDOG=1` at half the
//! unit's `WatchdogSec=` from the loop that does the work (so a hung loop is restarted), and
//! `STOPPING=1`. Without `NOTIFY_SOCKET` (not under systemd) every call does nothing.

use std::time::{Duration, Instant};

use sd_notify::NotifyState;

/// Tells systemd the service is up, with a one-line status (`systemctl status` shows it).
pub fn notify_ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// Updates the status line `systemctl status` shows.
pub fn notify_status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// Tells systemd the service is stopping on purpose.
pub fn notify_stopping() {
    send(&[NotifyState::Stopping]);
}

fn send(state: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(state) {
        tracing::debug!("sd_notify: {e}");
    }
}

/// Feeds systemd's watchdog from a loop: call [`Watchdog::feed`] every iteration; it sends
/// `WATCHDOG=1` at most every half period. Disabled (every call free) unless systemd asked for
/// one (`WATCHDOG_USEC`, and `WATCHDOG_PID` naming this process if set).
#[derive(Debug)]
pub struct Watchdog {
    every: Option<Duration>,
    last: Option<Instant>,
}

impl Watchdog {
    /// The watchdog systemd asked for, if any.
    pub fn from_env() -> Self {
        Self {
            every: sd_notify::watchdog_enabled().map(|period| period / 2),
            last: None,
        }
    }

    /// How often [`Watchdog::feed`] must be called at least (half the period), if enabled.
    pub fn every(&self) -> Option<Duration> {
        self.every
    }

    /// Sends `WATCHDOG=1` if a quarter of the period passed since the last one (so a caller
    /// ticking at [`Watchdog::every`] never skips one for a tick that came a little early); true
    /// if it did.
    pub fn feed(&mut self) -> bool {
        let Some(every) = self.every else {
            return false;
        };
        if self.last.is_some_and(|t| t.elapsed() < every / 2) {
            return false;
        }
        self.last = Some(Instant::now());
        send(&[NotifyState::Watchdog]);
        true
    }
}

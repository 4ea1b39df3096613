//! What the kiosk's long-running processes (the app, the sync agent, the purge) share with
//! systemd: logs journald can read, readiness and the watchdog (`sd_notify`), and a lock so only
//! one process of a kind works on a station's store; and the disk space they both watch.

mod disk;
mod lock;
mod logging;
mod notify;

pub use disk::free_bytes;
pub use lock::{InstanceLock, LockError};
pub use logging::{Logging, init_logging};
pub use notify::{Watchdog, notify_ready, notify_status, notify_stopping};

//! `sync-agent status`: backlog, oldest unsent event, connected or not, last error.

use kiosk_store::{Store, SyncState};
use serde::Serialize;

/// What `status --json` prints.
#[derive(Debug, Serialize)]
pub struct Status {
    /// Events waiting for the cloud.
    pub backlog: i64,
    /// Age of the oldest of them, in seconds.
    pub oldest_unsent_age_s: Option<i64>,
    /// Events set aside after repeated refusals.
    pub quarantined: i64,
    /// Which, and why (`sync-agent release` puts them back).
    pub quarantined_events: Vec<Quarantined>,
    /// Events the broker acknowledged (sent) whose receipt from the cloud has not arrived.
    pub unconfirmed: i64,
    /// Age of the oldest of them, in seconds.
    pub oldest_unconfirmed_age_s: Option<i64>,
    /// Connected to the broker now.
    pub connected: bool,
    /// An agent process is running for this station.
    pub agent_running: bool,
    /// The last connection or publish error.
    pub last_error: Option<String>,
    /// When the broker last acknowledged an event.
    pub last_publish_at: Option<String>,
    /// When the agent last connected.
    pub last_connected_at: Option<String>,
}

/// One quarantined event.
#[derive(Debug, Serialize)]
pub struct Quarantined {
    /// Its id.
    pub event_id: String,
    /// The last refusal.
    pub reason: String,
}

fn running(state: &SyncState) -> bool {
    std::fs::read(format!("/proc/{}/cmdline", state.pid))
        .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains("sync-agent"))
}

/// Reads the status from the store.
pub fn read(store: &Store) -> Result<Status, kiosk_store::StoreError> {
    let backlog = store.outbox_backlog()?;
    let state = store.sync_state()?;
    let agent_running = state.as_ref().is_some_and(running);
    let state = state.unwrap_or_default();
    let now = chrono::Local::now().fixed_offset();
    Ok(Status {
        backlog: backlog.pending,
        oldest_unsent_age_s: backlog.oldest_age_s(now),
        quarantined: backlog.quarantined,
        quarantined_events: store
            .outbox_quarantined()?
            .into_iter()
            .map(|(_, event_id, reason)| Quarantined { event_id, reason })
            .collect(),
        unconfirmed: backlog.unconfirmed,
        oldest_unconfirmed_age_s: backlog.oldest_unconfirmed_age_s(now),
        connected: agent_running && state.connected,
        agent_running,
        last_error: state.last_error,
        last_publish_at: state.last_publish_at,
        last_connected_at: state.last_connected_at,
    })
}

/// The status as lines for a person.
pub fn render(s: &Status) -> String {
    let agent = match (s.agent_running, s.connected) {
        (false, _) => "not running".to_string(),
        (true, true) => "running, connected to the broker".to_string(),
        (true, false) => "running, NOT connected (events keep queueing safely)".to_string(),
    };
    let age = s
        .oldest_unsent_age_s
        .map_or(String::new(), |a| format!(", oldest {a} s old"));
    let mut out = format!(
        "sync-agent: {agent}\nbacklog: {} event(s){age}\n",
        s.backlog
    );
    if s.unconfirmed > 0 {
        let age = s
            .oldest_unconfirmed_age_s
            .map_or(String::new(), |a| format!(", oldest {a} s old"));
        out.push_str(&format!(
            "unconfirmed: {} event(s) sent, no receipt from the cloud yet{age}\n",
            s.unconfirmed
        ));
    }
    if s.quarantined > 0 {
        out.push_str(&format!(
            "quarantined: {} event(s) the broker refused for their own fault:\n",
            s.quarantined
        ));
        for q in &s.quarantined_events {
            out.push_str(&format!("  {}  {}\n", q.event_id, q.reason));
        }
        out.push_str(
            "  once the cause is fixed: sync-agent release --station FILE (--event ID | --all)\n",
        );
    }
    out.push_str(&format!(
        "last successful publish: {}\n",
        s.last_publish_at.as_deref().unwrap_or("never")
    ));
    out.push_str(&format!(
        "last error: {}\n",
        s.last_error.as_deref().unwrap_or("none")
    ));
    out
}

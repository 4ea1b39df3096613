//! Retention: answer audio past its expiry, audio files no row points to, and the personal data
//! of interviews the cloud has had for `personal_data_days`. Data the cloud does not have yet is
//! never purged (offline-first); it is counted so that health and `kiosk check` can warn.
//!
//! An interview past retention keeps its proof without personal fields: the interview row
//! (role, times), its consents and decisions, the result's total, recommendation and status stay;
//! the candidate's name and phone, the answers, the transcripts and evidence in the result, the
//! outbox copies' payloads and the audio go.

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset};
use rusqlite::{TransactionBehavior, params};

use crate::{Store, StoreError};

/// No clock this early is right: the first release of the kiosk postdates it. A purge asked for
/// at such a time (a dead RTC battery, a box that lost its time) does nothing.
pub const CLOCK_FLOOR: &str = "2026-11-01T00:00:00Z";

/// An orphaned audio file younger than this may belong to an interview being saved right now.
const ORPHAN_MIN_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// What a purge did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    /// Expired answer audio files removed.
    pub expired_audio: u64,
    /// Audio files no row pointed to (left by a crash between writing and committing) removed.
    pub orphan_files: u64,
    /// Interviews whose personal data was removed after the retention period.
    pub interviews_reduced: u64,
    /// Interviews past the retention period that the cloud does not have yet: kept.
    pub undelivered_past_retention: u64,
}

/// Why nothing was purged.
#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    /// The clock is obviously wrong.
    #[error(
        "the clock says {now}, before {floor}: it is wrong, so nothing was purged. Set the time (NTP) and run the purge again"
    )]
    ClockWrong {
        /// What the clock said.
        now: String,
        /// The earliest believable time.
        floor: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Runs every retention rule at `now`: expired audio, orphaned audio under `media_dir`, and
    /// the personal data of interviews delivered more than `personal_data_days` ago.
    pub fn purge(
        &mut self,
        media_dir: &Path,
        personal_data_days: u32,
        now: DateTime<FixedOffset>,
    ) -> Result<Purged, PurgeError> {
        self.check_clock(now)?;
        let mut done = Purged::default();
        let expired = self.expired_media(now)?;
        let mut gone = Vec::new();
        for (id, path) in expired {
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    done.expired_audio += 1;
                    gone.push(id);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => gone.push(id),
                Err(e) => tracing::error!(%path, "cannot delete expired audio: {e}"),
            }
            remove_empty_parent(Path::new(&path));
        }
        self.forget_media(&gone)?;
        done.orphan_files = self.remove_orphans(media_dir)?;
        let cutoff = now - Duration::days(i64::from(personal_data_days));
        done.interviews_reduced = self.reduce_delivered_before(cutoff, now)?;
        done.undelivered_past_retention = self.undelivered_before(cutoff)?;
        if done.interviews_reduced > 0 {
            self.checkpoint()?;
        }
        Ok(done)
    }

    /// Interviews completed before `cutoff` whose result the cloud has not confirmed.
    pub fn undelivered_before(&self, cutoff: DateTime<FixedOffset>) -> Result<u64, StoreError> {
        let ids: Vec<(String, String)> = self
            .conn
            .prepare(
                "SELECT i.id, i.completed_at FROM interviews i
                 WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.interview_id = i.id
                               AND o.delivered_at IS NULL)",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(ids
            .iter()
            .filter(|(_, at)| DateTime::parse_from_rfc3339(at).is_ok_and(|t| t < cutoff))
            .count() as u64)
    }

    /// The clock must be past [`CLOCK_FLOOR`] and not before the newest thing the store recorded
    /// (a day's slack for time-zone and NTP corrections).
    fn check_clock(&self, now: DateTime<FixedOffset>) -> Result<(), PurgeError> {
        let floor = DateTime::parse_from_rfc3339(CLOCK_FLOOR).expect("a valid constant");
        let newest: Option<String> = self
            .conn
            .query_row("SELECT max(created_at) FROM outbox", [], |r| r.get(0))
            .map_err(StoreError::from)?;
        let newest = newest
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t - Duration::days(1));
        let floor = newest.map_or(floor, |n| n.max(floor));
        if now < floor {
            return Err(PurgeError::ClockWrong {
                now: now.to_rfc3339(),
                floor: floor.to_rfc3339(),
            });
        }
        Ok(())
    }

    /// Removes the personal data of interviews whose every outbox event the cloud confirmed
    /// before `cutoff`.
    fn reduce_delivered_before(
        &mut self,
        cutoff: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
    ) -> Result<u64, StoreError> {
        let candidates: Vec<(String, String)> = self
            .conn
            .prepare(
                "SELECT i.id, max(o.delivered_at) FROM interviews i JOIN outbox o ON o.interview_id = i.id
                 WHERE i.personal_data_removed_at IS NULL
                 GROUP BY i.id HAVING count(*) = count(o.delivered_at)",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let due: Vec<String> = candidates
            .into_iter()
            .filter(|(_, at)| DateTime::parse_from_rfc3339(at).is_ok_and(|t| t < cutoff))
            .map(|(id, _)| id)
            .collect();
        let mut n = 0;
        for id in due {
            let files: Vec<String> = self
                .conn
                .prepare("SELECT path FROM media WHERE interview_id = ?1")?
                .query_map([&id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            remove_files(&files)?;
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "UPDATE candidates SET name = NULL, phone = NULL
                 WHERE id = (SELECT candidate_id FROM interviews WHERE id = ?1)",
                [&id],
            )?;
            tx.execute("DELETE FROM answers WHERE interview_id = ?1", [&id])?;
            tx.execute("DELETE FROM media WHERE interview_id = ?1", [&id])?;
            tx.execute(
                "UPDATE outbox SET payload = '' WHERE interview_id = ?1",
                [&id],
            )?;
            let result: Option<String> = tx
                .query_row(
                    "SELECT result_json FROM results WHERE interview_id = ?1",
                    [&id],
                    |r| r.get(0),
                )
                .ok();
            if let Some(json) = result {
                tx.execute(
                    "UPDATE results SET result_json = ?2 WHERE interview_id = ?1",
                    params![id, without_personal_data(&json)?],
                )?;
            }
            tx.execute(
                "UPDATE interviews SET personal_data_removed_at = ?2 WHERE id = ?1",
                params![id, now.to_rfc3339()],
            )?;
            tx.commit()?;
            n += 1;
        }
        Ok(n)
    }

    /// Audio files under `media_dir` that no media row names, older than an hour.
    fn remove_orphans(&self, media_dir: &Path) -> Result<u64, StoreError> {
        if !media_dir.is_dir() {
            return Ok(0);
        }
        let known: HashSet<String> = self
            .conn
            .prepare("SELECT path FROM media")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut n = 0;
        let mut stack = vec![media_dir.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let old = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age >= ORPHAN_MIN_AGE);
                if old
                    && !known.contains(&p.display().to_string())
                    && std::fs::remove_file(&p).is_ok()
                {
                    n += 1;
                    remove_empty_parent(&p);
                }
            }
        }
        Ok(n)
    }
}

/// A stored result without transcripts or evidence: role, total, recommendation, status,
/// reasons' codes and the video ratios stay.
fn without_personal_data(json: &str) -> Result<String, StoreError> {
    let mut v: serde_json::Value = serde_json::from_str(json)?;
    if let Some(dims) = v.get_mut("dimensions").and_then(|d| d.as_array_mut()) {
        for d in dims {
            d["evidence"] = serde_json::json!([]);
        }
    }
    if let Some(answers) = v.get_mut("answers").and_then(|a| a.as_array_mut()) {
        for a in answers {
            a["transcript"] = serde_json::json!("");
        }
    }
    if let Some(reasons) = v.get_mut("reasons").and_then(|r| r.as_array_mut()) {
        for r in reasons {
            r["message"] = serde_json::json!("");
        }
    }
    if let Some(k) = v.get_mut("knockouts").and_then(|k| k.as_array_mut()) {
        for x in k {
            x["message"] = serde_json::json!("");
        }
    }
    Ok(v.to_string())
}

/// Removes the file's folder if it is now empty.
pub(crate) fn remove_empty_parent(path: &Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir(dir); // only when empty
    }
}

/// Removes the files and their folders once empty; returns how many existed. A missing file is
/// gone already; one that cannot be removed stops the caller before it commits anything.
pub(crate) fn remove_files(paths: &[String]) -> Result<usize, StoreError> {
    let mut n = 0;
    for p in paths {
        match std::fs::remove_file(p) {
            Ok(()) => n += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::File {
                    path: p.into(),
                    detail: e.to_string(),
                });
            }
        }
        remove_empty_parent(Path::new(p));
    }
    Ok(n)
}

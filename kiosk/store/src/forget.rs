//! Deletion on request: a candidate's personal data removed from every table and file that copied
//! it, a tombstone without personal data kept, and a `deletion_completed` event for the cloud.
//!
//! What goes: the candidate row (name, phone), their interviews with answers and transcripts,
//! results and dimensions, consents, decisions, answer audio files, every outbox event about
//! those interviews (sent or not: a pending one is dropped, never sent), and the roster the
//! cloud sent for them. `secure_delete` (set at open) zeroes the freed pages, and the WAL is
//! checkpointed and truncated afterwards, so no copy stays in the file's free space.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::interviews::{StationIdentity, now};
use crate::outbox::insert_event;
use crate::{Store, StoreError};

/// How the candidate to forget is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForgetTarget {
    /// The interview's id (what the cloud's request names).
    Interview(String),
    /// The receipt code the candidate was given.
    Receipt(String),
    /// The phone number the candidate entered (every candidate with it; digits compared).
    Phone(String),
}

/// A deletion to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgetRequest {
    /// The cloud's request id, or a new one for a deletion asked for on the device.
    pub request_id: String,
    /// Who to forget; tried in order (the cloud names the interview and the receipt code).
    pub targets: Vec<ForgetTarget>,
    /// The cloud's candidate id, whose roster the device may hold.
    pub cloud_candidate_id: Option<String>,
    /// Who asked.
    pub requested_by: RequestedBy,
}

/// Who asked for a deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedBy {
    /// Central HR, through a `deletion_request` downlink: completed (and confirmed) even when
    /// nothing is left on the device.
    Cloud,
    /// The store manager on the kiosk: naming nobody is a mistake, and nothing is recorded.
    StoreManager,
}

impl RequestedBy {
    /// `cloud` or `store_manager`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cloud => "cloud",
            Self::StoreManager => "store_manager",
        }
    }
}

/// What a deletion removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forgotten {
    /// The request.
    pub request_id: String,
    /// The interviews whose candidate was removed (ids only).
    pub interviews: Vec<String>,
    /// Counts by kind (`candidate`, `answers`, `audio_files`, `outbox_events` …).
    pub removed: BTreeMap<String, u64>,
    /// False when this request had already been carried out (nothing was done again).
    pub newly: bool,
    /// The `deletion_completed` event (None when it was already carried out).
    pub event_id: Option<String>,
    /// Whether the WAL was checkpointed whole (false while another process reads an old snapshot;
    /// the next checkpoint completes it).
    pub wal_truncated: bool,
}

/// The tombstone of a deletion carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    /// The request.
    pub request_id: String,
    /// The interviews (ids only).
    pub interviews: Vec<String>,
    /// Who asked.
    pub requested_by: String,
    /// Counts by kind.
    pub removed: BTreeMap<String, u64>,
    /// When (RFC 3339).
    pub completed_at: String,
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Two phone numbers are the same when their digits are, or when one is the other with a
/// country code of up to three digits in front (`+86 139…` and `139…`).
fn same_phone(a: &str, b: &str) -> bool {
    let (a, b) = (digits(a), digits(b));
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.len() >= 7 && long.ends_with(&short) && long.len() - short.len() <= 3
}

impl Store {
    /// Carries out a deletion request (idempotent by request id; a new request for someone
    /// already forgotten completes with nothing removed). Audio files are removed before the
    /// rows that point to them are committed away: if one cannot be removed, nothing is
    /// committed and the error says which file.
    pub fn forget(
        &mut self,
        station: &StationIdentity,
        req: &ForgetRequest,
    ) -> Result<Forgotten, StoreError> {
        if let Some(t) = self.tombstone(&req.request_id)? {
            return Ok(Forgotten {
                request_id: t.request_id,
                interviews: t.interviews,
                removed: t.removed,
                newly: false,
                event_id: None,
                wal_truncated: true,
            });
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let candidates = find_candidates(&tx, &req.targets)?;
        if candidates.is_empty() && req.requested_by == RequestedBy::StoreManager {
            return Err(StoreError::NotFound(
                "candidate: no candidate on this kiosk matches".into(),
            ));
        }
        let mut interviews = Vec::new();
        for c in &candidates {
            let mut stmt = tx.prepare("SELECT id FROM interviews WHERE candidate_id = ?1")?;
            for id in stmt.query_map([c], |r| r.get::<_, String>(0))? {
                interviews.push(id?);
            }
        }
        // Interview ids the request named whose candidate is already gone still count as the
        // request's subject (the tombstone and the confirmation name them).
        for t in &req.targets {
            if let ForgetTarget::Interview(id) = t
                && !interviews.contains(id)
            {
                interviews.push(id.clone());
            }
        }
        let mut removed = BTreeMap::new();
        let mut count = |kind: &str, n: usize| {
            *removed.entry(kind.to_string()).or_insert(0) += n as u64;
        };
        let mut files = Vec::new();
        for i in &interviews {
            let mut stmt = tx.prepare("SELECT path FROM media WHERE interview_id = ?1")?;
            for p in stmt.query_map([i], |r| r.get::<_, String>(0))? {
                files.push(p?);
            }
            for (kind, table) in [
                ("answers", "answers"),
                ("results", "results"),
                ("consents", "consents"),
                ("decisions", "decisions"),
            ] {
                let n = tx.execute(&format!("DELETE FROM {table} WHERE interview_id = ?1"), [i])?;
                count(kind, n);
            }
            count(
                "outbox_events",
                tx.execute("DELETE FROM outbox WHERE interview_id = ?1", [i])?,
            );
            tx.execute("DELETE FROM media WHERE interview_id = ?1", [i])?;
            count(
                "interviews",
                tx.execute("DELETE FROM interviews WHERE id = ?1", [i])?,
            );
        }
        for c in &candidates {
            count(
                "candidate",
                tx.execute("DELETE FROM candidates WHERE id = ?1", [c])?,
            );
        }
        if let Some(cid) = &req.cloud_candidate_id {
            count(
                "rosters",
                tx.execute(
                    "DELETE FROM inbox WHERE kind = 'roster' AND key = ?1",
                    [cid],
                )?,
            );
        }
        count("audio_files", crate::purge::remove_files(&files)?);
        let completed_at = now();
        let interview = interviews.first().cloned().unwrap_or_default();
        let body = kiosk_protocol::DeletionCompletedBody {
            request_id: req.request_id.clone(),
            interview: kiosk_protocol::Id::new(&interview, "kiosk_interview_id"),
            removed: removed.clone(),
            completed_at,
        };
        let event_id = insert_event(
            &tx,
            station,
            kiosk_protocol::event_type::DELETION_COMPLETED,
            None,
            body,
        )?;
        tx.execute(
            "INSERT INTO deletions (request_id, interviews, requested_by, removed, completed_at, event_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                req.request_id,
                serde_json::to_string(&interviews)?,
                req.requested_by.as_str(),
                serde_json::to_string(&removed)?,
                completed_at.to_rfc3339(),
                event_id
            ],
        )?;
        tx.commit()?;
        let wal_truncated = self.checkpoint()?;
        tracing::info!(
            request = req.request_id,
            by = req.requested_by.as_str(),
            ?removed,
            "personal data deleted on request"
        );
        Ok(Forgotten {
            request_id: req.request_id.clone(),
            interviews,
            removed,
            newly: true,
            event_id: Some(event_id),
            wal_truncated,
        })
    }

    /// The tombstone of a request carried out, if it was.
    pub fn tombstone(&self, request_id: &str) -> Result<Option<Tombstone>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT request_id, interviews, requested_by, removed, completed_at
                 FROM deletions WHERE request_id = ?1",
                [request_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        row.map(
            |(request_id, interviews, requested_by, removed, completed_at)| {
                Ok(Tombstone {
                    request_id,
                    interviews: serde_json::from_str(&interviews)?,
                    requested_by,
                    removed: serde_json::from_str(&removed)?,
                    completed_at,
                })
            },
        )
        .transpose()
    }

    /// Copies every committed page into the database file and empties the WAL, so pages that
    /// held deleted data survive nowhere. True when the whole WAL was checkpointed.
    pub fn checkpoint(&self) -> Result<bool, StoreError> {
        let (busy, _log, _done): (i64, i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
        Ok(busy == 0)
    }
}

/// The candidates a request names: the first target that finds anyone decides.
fn find_candidates(
    tx: &rusqlite::Transaction<'_>,
    targets: &[ForgetTarget],
) -> Result<Vec<String>, StoreError> {
    for t in targets {
        let found: Vec<String> = match t {
            ForgetTarget::Interview(id) => tx
                .query_row(
                    "SELECT candidate_id FROM interviews WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?
                .into_iter()
                .collect(),
            ForgetTarget::Receipt(code) => tx
                .query_row(
                    "SELECT id FROM candidates WHERE receipt = ?1",
                    [code.trim().to_ascii_uppercase()],
                    |r| r.get(0),
                )
                .optional()?
                .into_iter()
                .collect(),
            ForgetTarget::Phone(phone) => {
                let mut stmt =
                    tx.prepare("SELECT id, phone FROM candidates WHERE phone IS NOT NULL")?;
                let rows =
                    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
                let mut ids = Vec::new();
                for row in rows {
                    let (id, p) = row?;
                    if same_phone(&p, phone) {
                        ids.push(id);
                    }
                }
                ids
            }
        };
        if !found.is_empty() {
            return Ok(found);
        }
    }
    Ok(Vec::new())
}

//! Saving a finished interview (candidate, answers, media, consents, result, outbox event) in one
//! transaction, and listing results.

use chrono::{DateTime, FixedOffset, Local};
use kiosk_screening::{Answer, Response, ScreeningResult};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use crate::payload::{EVENT_INTERVIEW_RESULT, PAYLOAD_SCHEMA_VERSION, interview_result, topic};
use crate::{Store, StoreError};

/// Who this kiosk is, as stamped on every record and topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationIdentity {
    /// Customer.
    pub tenant: String,
    /// Store.
    pub store_id: String,
    /// Device.
    pub device_id: String,
}

/// What the candidate told us about themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidate {
    /// Name as entered.
    pub name: Option<String>,
    /// Phone number as entered.
    pub phone: Option<String>,
}

/// Which consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentKind {
    /// Voice recording and AI-assisted evaluation.
    Recording,
    /// Camera / face data (separate consent; stays on the device).
    Face,
}

impl ConsentKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recording => "recording",
            Self::Face => "face",
        }
    }
}

/// A consent answer, with the notice it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// Which consent.
    pub kind: ConsentKind,
    /// Granted or declined.
    pub granted: bool,
    /// Version of the notice text shown.
    pub notice_version: String,
}

/// A media file belonging to the interview (answer audio …), kept on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    /// Question it belongs to, if any.
    pub question_id: Option<String>,
    /// `answer_audio`, `video_report` …
    pub kind: String,
    /// File path.
    pub path: String,
    /// Content hash.
    pub sha256: Option<String>,
    /// Size.
    pub bytes: Option<i64>,
    /// When the file must be deleted (retention limit).
    pub expires_at: Option<DateTime<FixedOffset>>,
}

/// Everything about one finished interview.
#[derive(Debug, Clone)]
pub struct NewInterview<'a> {
    /// The station.
    pub station: &'a StationIdentity,
    /// The candidate.
    pub candidate: Candidate,
    /// Language the interview was held in.
    pub locale: String,
    /// When the first question was asked.
    pub started_at: DateTime<FixedOffset>,
    /// When the last answer ended.
    pub completed_at: DateTime<FixedOffset>,
    /// One answer per question, in order.
    pub answers: &'a [Answer],
    /// The scored result.
    pub result: &'a ScreeningResult,
    /// Consents given before recording.
    pub consents: Vec<Consent>,
    /// Media files.
    pub media: Vec<MediaRef>,
}

impl NewInterview<'_> {
    /// `typed` when no answer was spoken (authoring, tests), else `spoken`.
    pub fn source(&self) -> &'static str {
        if self.answers.iter().any(|a| {
            matches!(
                a.response,
                Response::Spoken { .. } | Response::Tapped { .. } | Response::Chose { .. }
            )
        }) {
            "spoken"
        } else {
            "typed"
        }
    }
}

/// What a committed save produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// Interview id (UUID v7).
    pub interview_id: String,
    /// The candidate's receipt code, e.g. `K7F3-9Q2A`.
    pub receipt: String,
    /// The outbox event id (UUID v7).
    pub event_id: String,
    /// The outbox sequence number.
    pub seq: i64,
}

/// One line of the results list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResultRow {
    /// Interview id.
    pub interview_id: String,
    /// When it ended (RFC 3339).
    pub completed_at: String,
    /// Candidate name, if given.
    pub candidate: Option<String>,
    /// Receipt code.
    pub receipt: String,
    /// Role id.
    pub role: String,
    /// Weighted total, if every dimension was scored.
    pub total: Option<i64>,
    /// `advance`, `review` or `not_recommended`.
    pub recommendation: String,
    /// `awaiting_review` until the store manager decides, then `advanced`, `rejected` or
    /// `kept_for_later` (the manager's latest decision).
    pub status: String,
    /// `spoken` or `typed`.
    pub source: String,
    /// True when the cloud has acknowledged the result event.
    pub synced: bool,
    /// The store manager's latest decision (`advance`, `reject`, `keep`), if one was made.
    pub decision: Option<String>,
    /// When that decision was made (RFC 3339).
    pub decided_at: Option<String>,
}

const RECEIPT_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A short code the candidate can read out or type: 8 Crockford base-32 characters (40 random bits).
fn receipt_code() -> String {
    let bytes = Uuid::new_v4().into_bytes();
    let bits = u64::from_be_bytes([0, 0, 0, bytes[0], bytes[1], bytes[2], bytes[3], bytes[4]]);
    let chars: String = (0..8)
        .map(|i| RECEIPT_ALPHABET[((bits >> (35 - 5 * i)) & 31) as usize] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// Current local time with its offset.
pub fn now() -> DateTime<FixedOffset> {
    Local::now().fixed_offset()
}

impl Store {
    /// Saves a finished interview with its result and outbox event in one transaction.
    /// Returns after the commit: only then is the interview saved.
    pub fn save_interview(&mut self, new: &NewInterview<'_>) -> Result<Saved, StoreError> {
        let interview_id = Uuid::now_v7().to_string();
        let candidate_id = Uuid::now_v7().to_string();
        let event_id = Uuid::now_v7().to_string();
        let created = now().to_rfc3339();
        let r = new.result;

        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut receipt = receipt_code();
        while tx
            .query_row(
                "SELECT 1 FROM candidates WHERE receipt = ?1",
                [&receipt],
                |_| Ok(()),
            )
            .optional()?
            .is_some()
        {
            receipt = receipt_code();
        }
        tx.execute(
            "INSERT INTO candidates (id, receipt, name, phone, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![candidate_id, receipt, new.candidate.name, new.candidate.phone, created],
        )?;
        tx.execute(
            "INSERT INTO interviews (id, candidate_id, role_id, tenant, store_id, device_id, locale, source,
                                     started_at, completed_at, question_count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                interview_id,
                candidate_id,
                r.role,
                new.station.tenant,
                new.station.store_id,
                new.station.device_id,
                new.locale,
                new.source(),
                new.started_at.to_rfc3339(),
                new.completed_at.to_rfc3339(),
                new.answers.len() as i64,
            ],
        )?;
        for (pos, (a, s)) in new.answers.iter().zip(&r.answers).enumerate() {
            let (latency, speech) = match &a.response {
                Response::Spoken { metrics, .. } => (metrics.latency_ms, Some(metrics.speech_ms)),
                _ => (None, None),
            };
            tx.execute(
                "INSERT INTO answers (interview_id, position, question_id, source, transcript, asr_confidence,
                                      latency_ms, speech_ms, response_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    interview_id,
                    pos as i64,
                    a.question_id,
                    s.source,
                    s.transcript,
                    s.asr_confidence.map(f64::from),
                    latency,
                    speech,
                    serde_json::to_string(&a.response)?,
                ],
            )?;
        }
        for m in &new.media {
            tx.execute(
                "INSERT INTO media (interview_id, question_id, kind, path, sha256, bytes, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    interview_id,
                    m.question_id,
                    m.kind,
                    m.path,
                    m.sha256,
                    m.bytes,
                    created,
                    m.expires_at.map(|t| t.to_rfc3339())
                ],
            )?;
        }
        for c in &new.consents {
            tx.execute(
                "INSERT INTO consents (interview_id, kind, granted, notice_version, locale, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![interview_id, c.kind.as_str(), c.granted, c.notice_version, new.locale, created],
            )?;
        }
        tx.execute(
            "INSERT INTO results (interview_id, total, recommendation, status, result_json, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                interview_id,
                r.total.map(i64::from),
                r.recommendation.as_str(),
                r.status.as_str(),
                serde_json::to_string(r)?,
                created
            ],
        )?;
        let payload = interview_result(&event_id, &interview_id, &receipt, new);
        tx.execute(
            "INSERT INTO outbox (event_id, event_type, topic, interview_id, schema_version, payload, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                event_id,
                EVENT_INTERVIEW_RESULT,
                topic(new.station, EVENT_INTERVIEW_RESULT),
                interview_id,
                PAYLOAD_SCHEMA_VERSION,
                serde_json::to_string(&payload)?,
                created
            ],
        )?;
        let seq = tx.last_insert_rowid();
        tx.commit()?;
        tracing::info!(%interview_id, %receipt, seq, "interview saved");
        Ok(Saved {
            interview_id,
            receipt,
            event_id,
            seq,
        })
    }

    /// Result rows matching `filter` (an SQL condition on `i`, with `?1` bound to `arg`), newest
    /// first, at most `limit`.
    fn result_rows(
        &self,
        filter: &str,
        arg: &str,
        limit: usize,
    ) -> Result<Vec<ResultRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT i.id, i.completed_at, c.name, c.receipt, i.role_id, r.total, r.recommendation, r.status, i.source,
                    EXISTS (SELECT 1 FROM outbox o WHERE o.interview_id = i.id AND o.event_type = ?3 AND o.acked_at IS NOT NULL),
                    d.decision, d.decided_at
             FROM interviews i
             JOIN candidates c ON c.id = i.candidate_id
             JOIN results r ON r.interview_id = i.id
             LEFT JOIN decisions d ON d.id = (SELECT max(x.id) FROM decisions x WHERE x.interview_id = i.id)
             WHERE {filter}
             ORDER BY i.completed_at DESC, i.id DESC
             LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![arg, limit as i64, EVENT_INTERVIEW_RESULT], |row| {
            let decision: Option<String> = row.get(10)?;
            let status = match decision.as_deref() {
                Some("advance") => "advanced".to_string(),
                Some("reject") => "rejected".to_string(),
                Some("keep") => "kept_for_later".to_string(),
                _ => row.get(7)?,
            };
            Ok(ResultRow {
                interview_id: row.get(0)?,
                completed_at: row.get(1)?,
                candidate: row.get(2)?,
                receipt: row.get(3)?,
                role: row.get(4)?,
                total: row.get(5)?,
                recommendation: row.get(6)?,
                status,
                source: row.get(8)?,
                synced: row.get(9)?,
                decision,
                decided_at: row.get(11)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Results, newest first.
    pub fn list_results(&self, limit: usize) -> Result<Vec<ResultRow>, StoreError> {
        self.result_rows("?1 IS NOT NULL", "", limit) // every row
    }

    /// The list row of one interview.
    pub fn result_row(&self, interview_id: &str) -> Result<ResultRow, StoreError> {
        self.result_rows("i.id = ?1", interview_id, 1)?
            .pop()
            .ok_or_else(|| StoreError::NotFound(interview_id.to_string()))
    }

    /// The full stored result of one interview.
    pub fn result(&self, interview_id: &str) -> Result<ScreeningResult, StoreError> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT result_json FROM results WHERE interview_id = ?1",
                [interview_id],
                |r| r.get(0),
            )
            .optional()?;
        let json = json.ok_or_else(|| StoreError::NotFound(interview_id.to_string()))?;
        Ok(serde_json::from_str(&json)?)
    }

    /// Number of interviews stored.
    pub fn interview_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM interviews", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_codes_are_readable_and_distinct() {
        let codes: std::collections::HashSet<String> = (0..1000).map(|_| receipt_code()).collect();
        assert_eq!(codes.len(), 1000);
        for c in &codes {
            assert_eq!(c.len(), 9);
            assert!(
                c.chars()
                    .all(|ch| ch == '-' || RECEIPT_ALPHABET.contains(&(ch as u8))),
                "{c}"
            );
            assert!(!c.contains(['I', 'L', 'O', 'U']));
        }
    }
}

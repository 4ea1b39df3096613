//! The store manager's side: one interview in detail, decisions (a person decides, never the
//! model) and the audit log of manager access, each committed with its outbox event.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde_json::{Map, Value};

use crate::interviews::{ResultRow, StationIdentity, now};
use crate::outbox::insert_event;
use crate::{Store, StoreError};

/// A person's decision on an interview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Advance to hire (待入职).
    Advance,
    /// Reject (未通过).
    Reject,
    /// Keep for later (pending).
    Keep,
}

impl Decision {
    /// Stored and sent form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Advance => "advance",
            Self::Reject => "reject",
            Self::Keep => "keep",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Advance, Self::Reject, Self::Keep]
            .into_iter()
            .find(|d| d.as_str() == s)
    }

    /// The HR systems' conclusion code (1 fail, 2 pass, 3 pending).
    pub fn conclusion_code(self) -> i64 {
        match self {
            Self::Reject => 1,
            Self::Advance => 2,
            Self::Keep => 3,
        }
    }
}

/// One recorded decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRow {
    /// The decision.
    pub decision: Decision,
    /// Why, in the manager's words or a chosen reason.
    pub reason: String,
    /// Who decided.
    pub decided_by: String,
    /// When (RFC 3339).
    pub decided_at: String,
}

/// One answer as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRow {
    /// The question.
    pub question_id: String,
    /// `spoken`, `typed`, `tapped` or `missing`.
    pub source: String,
    /// What was said (or typed, or tapped).
    pub transcript: String,
    /// Speech-recognition confidence.
    pub asr_confidence: Option<f64>,
}

/// A stored media file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRow {
    /// The question it answers.
    pub question_id: Option<String>,
    /// `answer_audio`.
    pub kind: String,
    /// Where the file is.
    pub path: String,
}

/// Everything the manager sees about one interview.
#[derive(Debug, Clone)]
pub struct InterviewDetail {
    /// The list row (who, when, role, total, recommendation, sync).
    pub row: ResultRow,
    /// The interview's language.
    pub locale: String,
    /// The explainable result.
    pub result: kiosk_screening::ScreeningResult,
    /// Answers in question order.
    pub answers: Vec<AnswerRow>,
    /// Answer audio.
    pub media: Vec<MediaRow>,
    /// Decisions, oldest first (the last one stands).
    pub decisions: Vec<DecisionRow>,
}

impl Store {
    /// One interview in full.
    pub fn interview_detail(&self, interview_id: &str) -> Result<InterviewDetail, StoreError> {
        let row = self.result_row(interview_id)?;
        let locale: String = self.conn.query_row(
            "SELECT locale FROM interviews WHERE id = ?1",
            [interview_id],
            |r| r.get(0),
        )?;
        let answers = self
            .conn
            .prepare(
                "SELECT question_id, source, transcript, asr_confidence FROM answers
                 WHERE interview_id = ?1 ORDER BY position",
            )?
            .query_map([interview_id], |r| {
                Ok(AnswerRow {
                    question_id: r.get(0)?,
                    source: r.get(1)?,
                    transcript: r.get(2)?,
                    asr_confidence: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let media = self
            .conn
            .prepare(
                "SELECT question_id, kind, path FROM media WHERE interview_id = ?1 ORDER BY id",
            )?
            .query_map([interview_id], |r| {
                Ok(MediaRow {
                    question_id: r.get(0)?,
                    kind: r.get(1)?,
                    path: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(InterviewDetail {
            result: self.result(interview_id)?,
            row,
            locale,
            answers,
            media,
            decisions: self.decisions(interview_id)?,
        })
    }

    /// Decisions on an interview, oldest first.
    pub fn decisions(&self, interview_id: &str) -> Result<Vec<DecisionRow>, StoreError> {
        let rows = self
            .conn
            .prepare(
                "SELECT decision, reason, decided_by, decided_at FROM decisions
                 WHERE interview_id = ?1 ORDER BY id",
            )?
            .query_map([interview_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(d, reason, decided_by, decided_at)| {
                Some(DecisionRow {
                    decision: Decision::parse(&d)?,
                    reason,
                    decided_by,
                    decided_at,
                })
            })
            .collect())
    }

    /// Records a person's decision and its `decision` event in one transaction; returns the event id.
    pub fn record_decision(
        &mut self,
        station: &StationIdentity,
        interview_id: &str,
        decision: Decision,
        reason: &str,
        decided_by: &str,
    ) -> Result<String, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let receipt: Option<String> = tx
            .query_row(
                "SELECT c.receipt FROM interviews i JOIN candidates c ON c.id = i.candidate_id WHERE i.id = ?1",
                [interview_id],
                |r| r.get(0),
            )
            .optional()?;
        let receipt = receipt.ok_or_else(|| StoreError::NotFound(interview_id.to_string()))?;
        let decided_at = now();
        let at = decided_at.to_rfc3339();
        let body = kiosk_protocol::DecisionBody {
            interview: kiosk_protocol::Id::new(interview_id, "interview_id"),
            receipt,
            decision: decision.as_str().to_string(),
            conclusion_code: decision.conclusion_code(),
            reason: reason.to_string(),
            decided_by: decided_by.to_string(),
            decided_at,
        };
        let event_id = insert_event(
            &tx,
            station,
            kiosk_protocol::event_type::DECISION,
            Some(interview_id),
            body,
        )?;
        tx.execute(
            "INSERT INTO decisions (interview_id, decision, reason, decided_by, decided_at, event_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![interview_id, decision.as_str(), reason, decided_by, at, event_id],
        )?;
        tx.commit()?;
        tracing::info!(%interview_id, decision = decision.as_str(), "decision recorded");
        Ok(event_id)
    }

    /// Records a manager-access event (`pin_ok`, `pin_failed`, `logout` …) locally and as an
    /// `audit` event, in one transaction.
    pub fn record_audit(
        &mut self,
        station: &StationIdentity,
        action: &str,
        detail: Map<String, Value>,
    ) -> Result<String, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let at = now().to_rfc3339();
        tx.execute(
            "INSERT INTO audit (action, detail, at) VALUES (?1, ?2, ?3)",
            params![action, Value::Object(detail.clone()).to_string(), at],
        )?;
        let mut body = detail;
        body.insert("action".into(), Value::from(action));
        let event_id = insert_event(&tx, station, "audit", None, body)?;
        tx.commit()?;
        Ok(event_id)
    }

    /// Wrong PINs since the last right one (the lockout grows with them; how long is left of it
    /// is [`Store::pin_lockout_count_down`]'s, never the wall clock's).
    pub fn pin_failures(&self) -> Result<u32, StoreError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'pin_failed'
               AND id > COALESCE((SELECT MAX(id) FROM audit WHERE action = 'pin_ok'), 0)",
            [],
            |r| Ok(r.get::<_, i64>(0)? as u32),
        )?)
    }

    /// The PIN lockout still to run after `elapsed` more (monotonic) time has passed since the
    /// last call: counted down, stored and returned. `elapsed` is the caller's monotonic clock, so
    /// a wall clock set forward or back changes nothing.
    pub fn pin_lockout_count_down(
        &mut self,
        elapsed: std::time::Duration,
    ) -> Result<std::time::Duration, StoreError> {
        let step = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
        let left: Option<i64> = self
            .conn
            .query_row(
                "UPDATE pin_lockout SET remaining_ms = max(0, remaining_ms - ?1) WHERE id = 1
                 RETURNING remaining_ms",
                [step],
                |r| r.get(0),
            )
            .optional()?;
        Ok(std::time::Duration::from_millis(
            left.unwrap_or(0).max(0) as u64
        ))
    }

    /// Starts (or, with zero, lifts) a PIN lockout of `d`.
    pub fn set_pin_lockout(&mut self, d: std::time::Duration) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO pin_lockout (id, remaining_ms) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET remaining_ms = excluded.remaining_ms",
            [i64::try_from(d.as_millis()).unwrap_or(i64::MAX)],
        )?;
        Ok(())
    }

    /// Media files past their expiry at `now`: (row id, path). Delete the files, then
    /// [`Store::forget_media`] the rows.
    pub fn expired_media(
        &self,
        now: chrono::DateTime<chrono::FixedOffset>,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = self
            .conn
            .prepare("SELECT id, path, expires_at FROM media WHERE expires_at IS NOT NULL")?
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .filter(|(_, _, at)| chrono::DateTime::parse_from_rfc3339(at).is_ok_and(|t| t <= now))
            .map(|(id, path, _)| (id, path))
            .collect())
    }

    /// Removes media rows whose files are gone.
    pub fn forget_media(&mut self, ids: &[i64]) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for id in ids {
            n += tx.execute("DELETE FROM media WHERE id = ?1", [id])?;
        }
        tx.commit()?;
        Ok(n)
    }
}

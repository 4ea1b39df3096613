//! Candidates: moved through the HR status flow by kiosk decisions and HR users (every change,
//! applied or not, in the history), read per tenant. They are created in `created`.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use deadpool_postgres::Transaction;
use kiosk_protocol::DecisionBody;
use serde::Serialize;
use serde_json::{Value, json};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::db::Cached;
use crate::status::{Status, decision_target};
use crate::{Store, StoreError, TenantPolicy, rosters, webhooks};

/// Filters of `GET /v1/candidates`.
#[derive(Debug, Clone, Default)]
pub struct CandidateFilter {
    /// Only this store.
    pub store: Option<String>,
    /// Only this role.
    pub role: Option<String>,
    /// Only this status.
    pub status: Option<Status>,
    /// Interviewed at or after.
    pub since: Option<DateTime<FixedOffset>>,
    /// At most this many (newest first).
    pub limit: i64,
}

/// One row of the candidate list.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateSummary {
    /// The cloud's id.
    pub candidate_id: Uuid,
    /// The code the kiosk gave the candidate.
    pub receipt: String,
    /// Name (absent if not given or deleted).
    pub name: Option<String>,
    /// Role id.
    pub role: String,
    /// Store.
    pub store_id: String,
    /// Status code.
    pub status: String,
    /// Weighted total.
    pub total: Option<i32>,
    /// The model's suggestion.
    pub recommendation: String,
    /// When the interview ended.
    pub interviewed_at: DateTime<Utc>,
}

/// A status change an HR user asks for.
#[derive(Debug, Clone)]
pub struct StatusChange {
    /// Target.
    pub to: Status,
    /// Why (required).
    pub reason: String,
    /// Who (the API token's user).
    pub actor: String,
    /// Required for `onboarding`.
    pub start_date: Option<NaiveDate>,
}

/// Why a status change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusRefused {
    /// No such candidate in this tenant.
    NotFound,
    /// Not allowed from the current status.
    Invalid {
        /// Current status.
        from: Status,
        /// Where it may go.
        allowed: Vec<Status>,
    },
    /// `onboarding` needs a start date.
    MissingStartDate,
    /// Every change says why.
    MissingReason,
}

/// A decision to apply (from its event, or pending until its interview arrived).
pub(crate) struct Decision<'a> {
    pub(crate) event_id: &'a str,
    pub(crate) decision: &'a str,
    pub(crate) reason: &'a str,
    pub(crate) decided_by: &'a str,
    pub(crate) decided_at: DateTime<FixedOffset>,
}

/// The candidate of a device's interview, if it arrived.
pub(crate) async fn id_by_interview(
    tx: &Transaction<'_>,
    device_id: &str,
    interview_id: &str,
) -> Result<Option<Uuid>, StoreError> {
    Ok(tx
        .opt(
            "SELECT candidate_id FROM candidates WHERE device_id = $1 AND interview_id = $2",
            &[&device_id, &interview_id],
        )
        .await?
        .map(|r| r.get(0)))
}

/// Applies a store manager's decision that just arrived.
pub(crate) async fn apply_decision(
    tx: &Transaction<'_>,
    tenant: &str,
    candidate: Uuid,
    event_id: &str,
    d: &DecisionBody,
    policy: &TenantPolicy,
) -> Result<String, StoreError> {
    let d = Decision {
        event_id,
        decision: &d.decision,
        reason: &d.reason,
        decided_by: &d.decided_by,
        decided_at: d.decided_at,
    };
    decide(tx, tenant, candidate, &d, policy).await
}

/// advance → passed, reject → failed, keep → nothing. A decision older than the candidate's last
/// status change, or one the flow does not allow from where the candidate now is, is recorded as
/// the manager's opinion and not applied.
pub(crate) async fn decide(
    tx: &Transaction<'_>,
    tenant: &str,
    candidate: Uuid,
    d: &Decision<'_>,
    policy: &TenantPolicy,
) -> Result<String, StoreError> {
    tx.run(
        "UPDATE decisions SET candidate_id = $2 WHERE event_id = $1",
        &[&d.event_id, &candidate],
    )
    .await?;
    let Some(to) = decision_target(d.decision) else {
        return Ok("kept_for_later".into());
    };
    let row = tx
        .one(
            "SELECT status, status_changed_at FROM candidates WHERE candidate_id = $1 FOR UPDATE",
            &[&candidate],
        )
        .await?;
    let from = Status::from_code(row.get(0)).unwrap_or(Status::AwaitingReview);
    let changed_at: DateTime<Utc> = row.get(1);
    let actor = format!("store manager ({})", d.decided_by);
    let note = if d.decided_at < changed_at {
        Some(format!(
            "not applied: decided at {} on the kiosk, before the status last changed ({})",
            d.decided_at.to_rfc3339(),
            changed_at.to_rfc3339()
        ))
    } else if !from.can_become(to) {
        Some(format!(
            "not applied: {} → {} is not allowed",
            from.code(),
            to.code()
        ))
    } else {
        None
    };
    if let Some(note) = note {
        history(
            tx,
            candidate,
            Some(from),
            to,
            false,
            "kiosk_manager",
            &actor,
            d.reason,
            Some(&note),
            d.decided_at,
            Some(d.event_id),
        )
        .await?;
        return Ok("opinion".into());
    }
    transition(
        tx,
        tenant,
        candidate,
        from,
        to,
        "kiosk_manager",
        &actor,
        d.reason,
        d.decided_at,
        None,
        Some(d.event_id),
        policy,
    )
    .await?;
    Ok("applied".into())
}

/// Moves a candidate (the caller checked the transition), records it, sends its webhook, and
/// applies the tenant's automatic onboarding after `passed`.
#[allow(clippy::too_many_arguments)]
async fn transition(
    tx: &Transaction<'_>,
    tenant: &str,
    candidate: Uuid,
    from: Status,
    to: Status,
    actor_kind: &str,
    actor: &str,
    reason: &str,
    at: DateTime<FixedOffset>,
    start_date: Option<NaiveDate>,
    event_id: Option<&str>,
    policy: &TenantPolicy,
) -> Result<(), StoreError> {
    let mut step = (
        from,
        to,
        actor_kind.to_string(),
        actor.to_string(),
        reason.to_string(),
        start_date,
    );
    loop {
        let (from, to, kind, who, why, start) = step.clone();
        tx.run(
"UPDATE candidates SET status = $2, status_changed_at = $3, start_date = coalesce($4, start_date)
             WHERE candidate_id = $1",
            &[&candidate, &to.code(), &at, &start],
        )
        .await?;
        history(
            tx,
            candidate,
            Some(from),
            to,
            true,
            &kind,
            &who,
            &why,
            None,
            at,
            event_id,
        )
        .await?;
        if policy.webhooks {
            webhooks::enqueue(
                tx,
                tenant,
                "candidate.status_changed",
                json!({
                    "candidate_id": candidate, "from": from.code(), "to": to.code(),
                    "actor_kind": kind, "reason": why, "at": at, "start_date": start,
                }),
            )
            .await?;
        }
        if to == Status::Onboarding {
            rosters::on_onboarding(tx, tenant, candidate, policy).await?;
        } else if to == Status::Withdrawn && from == Status::Onboarding {
            rosters::on_withdrawn(tx, tenant, candidate, policy).await?;
        }
        match policy.auto_onboarding_days {
            Some(days) if to == Status::Passed => {
                let start = at.date_naive() + Duration::days(i64::from(days));
                step = (
                    Status::Passed,
                    Status::Onboarding,
                    "system".into(),
                    "automatic onboarding".into(),
                    format!(
                        "tenant setting: passed candidates go straight to onboarding, starting {days} days later"
                    ),
                    Some(start),
                );
            }
            _ => return Ok(()),
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn history(
    tx: &Transaction<'_>,
    candidate: Uuid,
    from: Option<Status>,
    to: Status,
    applied: bool,
    actor_kind: &str,
    actor: &str,
    reason: &str,
    note: Option<&str>,
    at: DateTime<FixedOffset>,
    event_id: Option<&str>,
) -> Result<(), StoreError> {
    tx.run(
"INSERT INTO status_history (candidate_id, from_status, to_status, applied, actor_kind, actor, reason, note, occurred_at, event_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[&candidate, &from.map(Status::code), &to.code(), &applied, &actor_kind, &actor, &reason, &note, &at, &event_id],
    )
    .await?;
    Ok(())
}

impl Store {
    /// The tenant's candidates, newest first.
    pub async fn candidates(
        &self,
        tenant: &str,
        f: &CandidateFilter,
    ) -> Result<Vec<CandidateSummary>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .rows(
"SELECT candidate_id, receipt, name, role_id, store_id, status, total, recommendation, interviewed_at
                 FROM candidates
                 WHERE tenant = $1 AND ($2::text IS NULL OR store_id = $2) AND ($3::text IS NULL OR role_id = $3)
                   AND ($4::text IS NULL OR status = $4) AND ($5::timestamptz IS NULL OR interviewed_at >= $5)
                 ORDER BY interviewed_at DESC, candidate_id DESC LIMIT $6",
                &[&tenant, &f.store, &f.role, &f.status.map(Status::code), &f.since, &f.limit.clamp(1, 10_000)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| CandidateSummary {
                candidate_id: r.get(0),
                receipt: r.get(1),
                name: r.get(2),
                role: r.get(3),
                store_id: r.get(4),
                status: r.get(5),
                total: r.get(6),
                recommendation: r.get(7),
                interviewed_at: r.get(8),
            })
            .collect())
    }

    /// The whole record of one of the tenant's candidates: the result with its evidence, the
    /// manager's decisions and the status history.
    pub async fn candidate(&self, tenant: &str, id: Uuid) -> Result<Option<Value>, StoreError> {
        let client = self.pool.get().await?;
        let Some(c) = client
            .opt(
"SELECT candidate_id, receipt, name, phone, role_id, store_id, device_id, interview_id, locale, source,
                        status, start_date, total, pass_threshold, recommendation, interviewed_at, result, deleted_at
                 FROM candidates WHERE tenant = $1 AND candidate_id = $2",
                &[&tenant, &id],
            )
            .await?
        else {
            return Ok(None);
        };
        let decisions = client
            .rows(
"SELECT decision, reason, decided_by, decided_at FROM decisions WHERE candidate_id = $1 ORDER BY decided_at",
                &[&id],
            )
            .await?;
        let history = client
            .rows(
"SELECT from_status, to_status, applied, actor_kind, actor, reason, note, occurred_at, recorded_at
                 FROM status_history WHERE candidate_id = $1 ORDER BY id",
                &[&id],
            )
            .await?;
        Ok(Some(record(&c, &decisions, &history)))
    }

    /// Moves one of the tenant's candidates as an HR user asks; returns the new record, or why not.
    pub async fn change_status(
        &self,
        tenant: &str,
        id: Uuid,
        change: &StatusChange,
    ) -> Result<Result<Value, StatusRefused>, StoreError> {
        if change.reason.trim().is_empty() {
            return Ok(Err(StatusRefused::MissingReason));
        }
        if change.to == Status::Onboarding && change.start_date.is_none() {
            return Ok(Err(StatusRefused::MissingStartDate));
        }
        {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let Some(row) = tx
                .opt(
"SELECT status FROM candidates WHERE tenant = $1 AND candidate_id = $2 FOR UPDATE",
                    &[&tenant, &id],
                )
                .await?
            else {
                return Ok(Err(StatusRefused::NotFound));
            };
            let from = Status::from_code(row.get(0)).unwrap_or(Status::AwaitingReview);
            if !from.can_become(change.to) {
                return Ok(Err(StatusRefused::Invalid {
                    from,
                    allowed: from.allowed_next().to_vec(),
                }));
            }
            let policy = self.policy(tenant);
            transition(
                &tx,
                tenant,
                id,
                from,
                change.to,
                "hr_user",
                &change.actor,
                &change.reason,
                Utc::now().fixed_offset(),
                change.start_date,
                None,
                &policy,
            )
            .await?;
            tx.commit().await?;
        }
        Ok(self
            .candidate(tenant, id)
            .await?
            .ok_or(StatusRefused::NotFound))
    }
}

fn labels(s: Option<Status>) -> Value {
    s.map_or(
        Value::Null,
        |s| json!({"zh": s.label_zh(), "en": s.label_en()}),
    )
}

fn record(c: &Row, decisions: &[Row], history: &[Row]) -> Value {
    let status = Status::from_code(c.get(10));
    let result: Value = c.get(16);
    let mut v = json!({
        "candidate_id": c.get::<_, Uuid>(0), "receipt": c.get::<_, String>(1),
        "name": c.get::<_, Option<String>>(2), "phone": c.get::<_, Option<String>>(3),
        "role": c.get::<_, String>(4), "store_id": c.get::<_, String>(5),
        "device_id": c.get::<_, String>(6), "interview_id": c.get::<_, String>(7),
        "locale": c.get::<_, String>(8), "source": c.get::<_, String>(9),
        "status": c.get::<_, String>(10), "status_label": labels(status),
        "allowed_transitions": status.map(|s| s.allowed_next().iter().map(|s| s.code()).collect::<Vec<_>>()),
        "start_date": c.get::<_, Option<NaiveDate>>(11),
        "total": c.get::<_, Option<i32>>(12), "pass_threshold": c.get::<_, i32>(13),
        "recommendation": c.get::<_, String>(14),
        "interviewed_at": c.get::<_, DateTime<Utc>>(15),
        "personal_data_deleted_at": c.get::<_, Option<DateTime<Utc>>>(17),
        "decisions": decisions.iter().map(|d| json!({
            "decision": d.get::<_, String>(0), "reason": d.get::<_, String>(1),
            "decided_by": d.get::<_, String>(2), "decided_at": d.get::<_, DateTime<Utc>>(3),
        })).collect::<Vec<_>>(),
        "history": history.iter().map(|h| json!({
            "from": h.get::<_, Option<String>>(0), "to": h.get::<_, String>(1),
            "applied": h.get::<_, bool>(2), "actor_kind": h.get::<_, String>(3),
            "actor": h.get::<_, String>(4), "reason": h.get::<_, String>(5),
            "note": h.get::<_, Option<String>>(6), "at": h.get::<_, DateTime<Utc>>(7),
            "recorded_at": h.get::<_, DateTime<Utc>>(8),
        })).collect::<Vec<_>>(),
    });
    if let (Some(obj), Value::Object(r)) = (v.as_object_mut(), result) {
        obj.extend(r);
    }
    v
}

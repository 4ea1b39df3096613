//! Candidates created from interview results, set-based: however many results a batch holds,
//! their candidates, first history rows and webhooks take one statement each, and the decisions
//! that arrived before them one query.

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use kiosk_protocol::InterviewResultBody;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::candidates::{Decision, decide};
use crate::db::Cached;
use crate::status::Status;
use crate::{StoreError, TenantPolicy, webhooks};

/// A result to create a candidate from.
pub(crate) struct NewResult<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) store_id: &'a str,
    pub(crate) device_id: &'a str,
    pub(crate) event_id: &'a str,
    pub(crate) result: &'a InterviewResultBody,
}

/// Creates the candidates (once per device and interview: a result for an interview already
/// known creates nothing), records their first status, enqueues `candidate.interviewed` where
/// the tenant has webhooks, and applies decisions and store-side deletions that were waiting for
/// them. Returns the event
/// ids that created a candidate.
pub(crate) async fn create(
    tx: &Transaction<'_>,
    results: &[NewResult<'_>],
    policy: impl Fn(&str) -> TenantPolicy,
) -> Result<Vec<String>, StoreError> {
    if results.is_empty() {
        return Ok(Vec::new());
    }
    let status = Status::AwaitingReview.code();
    let ids: Vec<Uuid> = results.iter().map(|_| Uuid::now_v7()).collect();
    fn col<'a>(results: &'a [NewResult<'a>], f: fn(&'a NewResult<'a>) -> &'a str) -> Vec<&'a str> {
        results.iter().map(f).collect()
    }
    let tenants = col(results, |n| n.tenant);
    let stores = col(results, |n| n.store_id);
    let devices = col(results, |n| n.device_id);
    let events = col(results, |n| n.event_id);
    let interviews = col(results, |n| &n.result.interview.value);
    let receipts = col(results, |n| &n.result.candidate.reference.value);
    let roles = col(results, |n| &n.result.role.value);
    let locales = col(results, |n| &n.result.locale);
    let sources = col(results, |n| &n.result.source);
    let names: Vec<Option<&str>> = results
        .iter()
        .map(|n| n.result.candidate.name.as_deref())
        .collect();
    let phones: Vec<Option<&str>> = results
        .iter()
        .map(|n| n.result.candidate.phone.as_deref())
        .collect();
    let completed: Vec<DateTime<Utc>> = results
        .iter()
        .map(|n| n.result.completed_at.to_utc())
        .collect();
    let totals: Vec<Option<i32>> = results
        .iter()
        .map(|n| n.result.total.map(|s| i32::from(s.value)))
        .collect();
    let recommendations: Vec<String> = results
        .iter()
        .map(|n| {
            serde_json::to_value(n.result.recommendation)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect();
    let thresholds: Vec<i32> = results
        .iter()
        .map(|n| i32::from(n.result.pass_threshold))
        .collect();
    let bodies: Vec<Value> = results.iter().map(|n| stored_result(n.result)).collect();
    let rows = tx
        .rows(
"INSERT INTO candidates (candidate_id, tenant, store_id, device_id, interview_id, receipt, name, phone,
                 role_id, locale, source, status, status_changed_at, total, recommendation, pass_threshold,
                 result, interviewed_at, event_id)
             SELECT u.id, u.tenant, u.store, u.device, u.interview, u.receipt, u.name, u.phone, u.role,
                    u.locale, u.source, $1, u.at, u.total, u.rec, u.threshold, u.result, u.at, u.event
             FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                         $9::text[], $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::int4[],
                         $15::text[], $16::int4[], $17::jsonb[], $18::text[])
                  AS u(id, tenant, store, device, interview, receipt, name, phone, role, locale, source, at,
                       total, rec, threshold, result, event)
             ON CONFLICT (device_id, interview_id) DO NOTHING
             RETURNING candidate_id",
            &[
                &status, &ids, &tenants, &stores, &devices, &interviews, &receipts, &names, &phones,
                &roles, &locales, &sources, &completed, &totals, &recommendations, &thresholds,
                &bodies, &events,
            ],
        )
        .await?;
    let inserted: std::collections::HashSet<Uuid> = rows.iter().map(|r| r.get(0)).collect();
    let made: Vec<usize> = (0..results.len())
        .filter(|i| inserted.contains(&ids[*i]))
        .collect();
    if made.is_empty() {
        return Ok(Vec::new());
    }
    let pick = |v: &[&str]| -> Vec<String> { made.iter().map(|&i| v[i].to_string()).collect() };
    let made_ids: Vec<Uuid> = made.iter().map(|&i| ids[i]).collect();
    let made_at: Vec<DateTime<Utc>> = made.iter().map(|&i| completed[i]).collect();
    let made_events = pick(&events);
    tx.run(
"INSERT INTO status_history (candidate_id, from_status, to_status, applied, actor_kind, actor, reason, occurred_at, event_id)
         SELECT u.id, NULL, $1, true, 'kiosk', 'screening', 'AI screening done; a person must decide', u.at, u.event
         FROM unnest($2::uuid[], $3::timestamptz[], $4::text[]) AS u(id, at, event)",
        &[&status, &made_ids, &made_at, &made_events],
    )
    .await?;
    let mut hooks: (Vec<String>, Vec<String>, Vec<Value>) = Default::default();
    for &i in made.iter().filter(|&&i| policy(tenants[i]).webhooks) {
        let r = results[i].result;
        let (id, body) = webhooks::message(
            "candidate.interviewed",
            json!({
                "candidate_id": ids[i], "receipt": receipts[i], "store_id": stores[i],
                "role": roles[i], "status": status, "total": totals[i],
                "recommendation": recommendations[i], "interviewed_at": r.completed_at,
            }),
        );
        hooks.0.push(id);
        hooks.1.push(tenants[i].to_string());
        hooks.2.push(body);
    }
    if !hooks.0.is_empty() {
        tx.run(
            "INSERT INTO webhook_outbox (webhook_id, tenant, event_type, payload)
             SELECT u.id, u.tenant, 'candidate.interviewed', u.payload
             FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS u(id, tenant, payload)",
            &[&hooks.0, &hooks.1, &hooks.2],
        )
        .await?;
    }
    let made_tenants = pick(&tenants);
    let made_devices = pick(&devices);
    let made_interviews = pick(&interviews);
    apply_pending(
        tx,
        &made_ids,
        &made_tenants,
        &made_devices,
        &made_interviews,
        &policy,
    )
    .await?;
    crate::deletions::apply_waiting(tx, &made_tenants, &made_devices, &made_interviews, |t| {
        policy(t).webhooks
    })
    .await?;
    Ok(made_events)
}

/// What the candidate record keeps of a result beside its columns.
fn stored_result(r: &InterviewResultBody) -> Value {
    json!({
        "reasons": r.reasons, "knockouts": r.knockouts, "dimensions": r.scores,
        "answers": r.answers, "consents": r.consents, "video": r.video,
        "started_at": r.started_at, "completed_at": r.completed_at,
        "availability": r.availability,
    })
}

/// Applies the decisions that arrived before their interview (in the order they were made);
/// each one's event, which said "pending", records what became of it.
async fn apply_pending(
    tx: &Transaction<'_>,
    candidates: &[Uuid],
    tenants: &[String],
    devices: &[String],
    interviews: &[String],
    policy: impl Fn(&str) -> TenantPolicy,
) -> Result<(), StoreError> {
    let pending = tx
        .rows(
"SELECT d.event_id, d.decision, d.reason, d.decided_by, d.decided_at, u.id, u.tenant
             FROM decisions d
             JOIN unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS u(id, tenant, device, interview)
               ON d.device_id = u.device AND d.interview_id = u.interview
             WHERE d.candidate_id IS NULL ORDER BY d.decided_at, d.event_id",
            &[&candidates, &tenants, &devices, &interviews],
        )
        .await?;
    for p in &pending {
        let d = Decision {
            event_id: p.get(0),
            decision: p.get(1),
            reason: p.get(2),
            decided_by: p.get(3),
            decided_at: p.get::<_, DateTime<Utc>>(4).fixed_offset(),
        };
        let tenant: &str = p.get(6);
        let effect = decide(tx, tenant, p.get(5), &d, &policy(tenant)).await?;
        tx.run(
            "UPDATE events SET outcome = $2 WHERE event_id = $1",
            &[&d.event_id, &effect],
        )
        .await?;
    }
    Ok(())
}

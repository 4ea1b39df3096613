//! Deletion on request: the candidate's personal data removed centrally at once (the record
//! keeps a tombstone: status, scores, times, no name, phone, transcripts or evidence), a
//! `deletion_request` to the device that holds the interview, sent until the device confirms.

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use kiosk_protocol::{DeletionCompletedBody, DeletionRequestBody, Downlink, Id, device_base};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::Cached;
use crate::{Store, StoreError, webhooks};

/// A deletion request due to be (re)sent to its device.
#[derive(Debug, Clone)]
pub struct DueDeletion {
    /// The device's topic base (`kiosk/v1/{tenant}/{store}/{device}`).
    pub device_base: String,
    /// The downlink document to publish on `{base}/down/deletion_request`.
    pub downlink: Downlink,
}

impl Store {
    /// Deletes one of the tenant's candidates' personal data centrally, in one transaction, and
    /// records the request for the device. Returns the request id, or None when the tenant has
    /// no such candidate. Asking again returns the first request (deletion is idempotent).
    pub async fn request_deletion(
        &self,
        tenant: &str,
        candidate: Uuid,
        requested_by: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some(c) = tx
            .opt(
                "SELECT device_id, store_id, interview_id, event_id FROM candidates
                 WHERE tenant = $1 AND candidate_id = $2 FOR UPDATE",
                &[&tenant, &candidate],
            )
            .await?
        else {
            return Ok(None);
        };
        if let Some(r) = tx
            .opt(
                "SELECT request_id FROM deletions WHERE candidate_id = $1",
                &[&candidate],
            )
            .await?
        {
            return Ok(Some(r.get(0)));
        }
        let (device, store, interview, event): (String, String, String, String) =
            (c.get(0), c.get(1), c.get(2), c.get(3));
        let removed = scrub(&tx, candidate, &device, &interview, &event).await?;
        let request = Uuid::now_v7();
        tx.run(
"INSERT INTO deletions (request_id, tenant, candidate_id, device_id, store_id, interview_id,
                                    requested_by, central_removed)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[&request, &tenant, &candidate, &device, &store, &interview, &requested_by, &removed],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(request))
    }

    /// One of the tenant's deletion requests: `{request_id, candidate_id, state, central,
    /// devices: [{device_id, state, removed, completed_at, sends}]}`.
    pub async fn deletion(&self, tenant: &str, request: Uuid) -> Result<Option<Value>, StoreError> {
        let client = self.pool.get().await?;
        Ok(client
            .opt(
"SELECT request_id, candidate_id, requested_by, requested_at, central_removed, device_id,
                        device_state, device_removed, device_completed_at, sends, last_sent_at
                 FROM deletions WHERE tenant = $1 AND request_id = $2",
                &[&tenant, &request],
            )
            .await?
            .map(|r| {
                let device_state: String = r.get(6);
                json!({
                    "request_id": r.get::<_, Uuid>(0), "candidate_id": r.get::<_, Uuid>(1),
                    "requested_by": r.get::<_, String>(2),
                    "requested_at": r.get::<_, DateTime<Utc>>(3),
                    "state": if device_state == "completed" { "completed" } else { "pending" },
                    "central": {"state": "completed", "removed": r.get::<_, Value>(4)},
                    "devices": [{
                        "device_id": r.get::<_, String>(5), "state": device_state,
                        "removed": r.get::<_, Option<Value>>(7),
                        "completed_at": r.get::<_, Option<DateTime<Utc>>>(8),
                        "sends": r.get::<_, i32>(9),
                        "last_sent_at": r.get::<_, Option<DateTime<Utc>>>(10),
                    }],
                })
            }))
    }

    /// Deletion requests whose device has not confirmed and that were not sent in the last
    /// `resend_after_s` seconds; each is marked sent (the caller publishes it).
    pub async fn due_deletions(&self, resend_after_s: u64) -> Result<Vec<DueDeletion>, StoreError> {
        let client = self.pool.get().await?;
        let secs = resend_after_s as f64;
        let rows = client
            .rows(
"UPDATE deletions d SET last_sent_at = now(), sends = sends + 1
                 FROM candidates c
                 WHERE d.candidate_id = c.candidate_id AND d.device_state = 'pending'
                   AND (d.last_sent_at IS NULL OR d.last_sent_at < now() - make_interval(secs => $1))
                 RETURNING d.request_id, d.tenant, d.store_id, d.device_id, d.interview_id, c.receipt,
                           d.requested_at, d.candidate_id",
                &[&secs],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let request: Uuid = r.get(0);
                let body = DeletionRequestBody {
                    request_id: request.to_string(),
                    interview: Id::new(r.get::<_, String>(4), "kiosk_interview_id"),
                    receipt: r.get(5),
                    requested_at: r.get::<_, DateTime<Utc>>(6).to_rfc3339(),
                    candidate_id: Some(r.get::<_, Uuid>(7).to_string()),
                };
                DueDeletion {
                    device_base: device_base(r.get(1), r.get(2), r.get(3)),
                    downlink: Downlink {
                        version: 1,
                        key: request.to_string(),
                        body: serde_json::to_value(body).unwrap_or(Value::Null),
                    },
                }
            })
            .collect())
    }
}

/// Removes the personal data of one candidate from every table that copied it; returns counts.
async fn scrub(
    tx: &Transaction<'_>,
    candidate: Uuid,
    device: &str,
    interview: &str,
    event: &str,
) -> Result<Value, StoreError> {
    let record = tx
        .run(
            "UPDATE candidates SET name = NULL, phone = NULL, deleted_at = now(),
                 result = jsonb_strip_nulls(jsonb_build_object(
                     'started_at', result->'started_at', 'completed_at', result->'completed_at',
                     'consents', result->'consents'))
             WHERE candidate_id = $1",
            &[&candidate],
        )
        .await?;
    let decisions = tx
        .run(
            "UPDATE decisions SET reason = '' WHERE device_id = $1 AND interview_id = $2",
            &[&device, &interview],
        )
        .await?;
    let events = tx
        .run(
"UPDATE events SET payload = NULL
             WHERE event_id = $1
                OR event_id IN (SELECT event_id FROM decisions WHERE device_id = $2 AND interview_id = $3)",
            &[&event, &device, &interview],
        )
        .await?;
    let rejected = tx
        .run(
            "UPDATE rejected SET payload = ''::bytea
             WHERE device_id = $1 AND position(convert_to($2, 'UTF8') IN payload) > 0",
            &[&device, &interview],
        )
        .await?;
    let rosters = tx
        .run(
            "UPDATE rosters r SET body = jsonb_set(jsonb_set(r.body, '{employee,name}', to_jsonb(c.receipt)),
                                             '{first_name}', to_jsonb(c.receipt))
             FROM candidates c WHERE c.candidate_id = r.candidate_id AND r.candidate_id = $1",
            &[&candidate],
        )
        .await?;
    Ok(json!({
        "candidate_record": record, "decision_reasons": decisions,
        "event_payloads": events, "rejected_payloads": rejected, "rosters": rosters,
    }))
}

/// Applies a device's `deletion_completed`: the request becomes completed (once) and the tenant
/// gets a `deletion.completed` webhook. Returns the event's outcome.
pub(crate) async fn complete(
    tx: &Transaction<'_>,
    tenant: &str,
    device: &str,
    d: &DeletionCompletedBody,
    webhooks_on: bool,
) -> Result<String, StoreError> {
    let removed = serde_json::to_value(&d.removed).unwrap_or(Value::Null);
    let row = match Uuid::parse_str(&d.request_id) {
        Ok(request) => {
            tx.opt(
                "UPDATE deletions SET device_state = 'completed', device_removed = $4,
                     device_completed_at = $5
                 WHERE request_id = $1 AND tenant = $2 AND device_id = $3 AND device_state = 'pending'
                 RETURNING request_id, candidate_id, central_removed",
                &[&request, &tenant, &device, &removed, &d.completed_at],
            )
            .await?
        }
        // Not one of ours: asked for at the store (`kiosk forget`, the review screen).
        Err(_) => match complete_local(tx, tenant, device, d, &removed).await? {
            Local::Done(row) => Some(row),
            Local::AlreadyCompleted => None,
            // Its result was sent before the deletion and has not arrived (another instance may
            // hold it): the deletion applies the moment it does (`apply_waiting`).
            Local::NoInterviewYet => return Ok(WAITING.into()),
        },
    };
    let Some(row) = row else {
        return Ok("unknown_or_completed_request".into());
    };
    let request: Uuid = row.get(0);
    if webhooks_on {
        webhooks::enqueue(
            tx,
            tenant,
            "deletion.completed",
            json!({
                "request_id": request, "candidate_id": row.get::<_, Uuid>(1),
                "central": row.get::<_, Value>(2),
                "devices": [{"device_id": device, "removed": removed, "completed_at": d.completed_at}],
            }),
        )
        .await?;
    }
    Ok("applied".into())
}

/// The outcome of a store-side deletion whose interview has not arrived yet.
pub(crate) const WAITING: &str = "waiting_for_interview";

/// What became of a deletion made on the device.
enum Local {
    /// Applied: (request_id, candidate_id, central_removed).
    Done(tokio_postgres::Row),
    /// The candidate's deletion was already completed.
    AlreadyCompleted,
    /// The device's interview has not reached the cloud (yet).
    NoInterviewYet,
}

/// Applies the store-side deletions that arrived before their interview, now that these
/// interviews' candidates exist (in the transaction that created them); each one's event, which
/// said "waiting", records what became of it.
pub(crate) async fn apply_waiting(
    tx: &Transaction<'_>,
    tenants: &[String],
    devices: &[String],
    interviews: &[String],
    webhooks_on: impl Fn(&str) -> bool,
) -> Result<(), StoreError> {
    let waiting = tx
        .rows(
            "SELECT e.event_id, e.payload::text, u.tenant, u.device
             FROM events e
             JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(tenant, device, interview)
               ON e.device_id = u.device AND e.payload->'interview'->>'value' = u.interview
             WHERE e.event_type = 'deletion_completed' AND e.outcome = $4
             ORDER BY e.occurred_at, e.event_id",
            &[&tenants, &devices, &interviews, &WAITING],
        )
        .await?;
    for w in &waiting {
        let event: String = w.get(0);
        let Ok(d) = serde_json::from_str::<DeletionCompletedBody>(&w.get::<_, String>(1)) else {
            continue;
        };
        let (tenant, device): (String, String) = (w.get(2), w.get(3));
        let outcome = complete(tx, &tenant, &device, &d, webhooks_on(&tenant)).await?;
        tx.run(
            "UPDATE events SET outcome = $2 WHERE event_id = $1",
            &[&event, &outcome],
        )
        .await?;
    }
    Ok(())
}

/// A deletion the store manager carried out on the device: the candidate's personal data is
/// removed centrally too, and recorded as a completed request (or an HR request still pending for
/// them is completed).
async fn complete_local(
    tx: &Transaction<'_>,
    tenant: &str,
    device: &str,
    d: &DeletionCompletedBody,
    removed: &Value,
) -> Result<Local, StoreError> {
    let Some(c) = tx
        .opt(
            "SELECT candidate_id, store_id, event_id FROM candidates
             WHERE tenant = $1 AND device_id = $2 AND interview_id = $3 FOR UPDATE",
            &[&tenant, &device, &d.interview.value],
        )
        .await?
    else {
        return Ok(Local::NoInterviewYet);
    };
    let (candidate, store, event): (Uuid, String, String) = (c.get(0), c.get(1), c.get(2));
    let pending = tx
        .opt(
            "UPDATE deletions SET device_state = 'completed', device_removed = $2,
                 device_completed_at = $3
             WHERE candidate_id = $1 AND device_state = 'pending'
             RETURNING request_id, candidate_id, central_removed",
            &[&candidate, removed, &d.completed_at],
        )
        .await?;
    if let Some(row) = pending {
        return Ok(Local::Done(row));
    }
    let central = scrub(tx, candidate, device, &d.interview.value, &event).await?;
    let by = format!("store manager on {device} ({})", d.request_id);
    let row = tx.opt(
        "INSERT INTO deletions (request_id, tenant, candidate_id, device_id, store_id, interview_id,
                                requested_by, central_removed, device_state, device_removed,
                                device_completed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'completed', $9, $10)
         ON CONFLICT (candidate_id) DO NOTHING
         RETURNING request_id, candidate_id, central_removed",
        &[
            &Uuid::now_v7(),
            &tenant,
            &candidate,
            &device,
            &store,
            &d.interview.value,
            &by,
            &central,
            removed,
            &d.completed_at,
        ],
    )
    .await?;
    Ok(row.map_or(Local::AlreadyCompleted, Local::Done))
}

//! The webhook outbox: webhooks are enqueued in the transaction that caused them, then leased
//! one at a time with `FOR UPDATE SKIP LOCKED`, so several bridge instances never send the same
//! webhook at once; the lease is held while it is sent and released with its result.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::Cached;
use crate::{Store, StoreError};

/// A webhook due to be sent.
#[derive(Debug, Clone)]
pub struct DueWebhook {
    /// `webhook-id`: the same on every attempt, the receiver's idempotency key.
    pub webhook_id: String,
    /// Whose endpoint.
    pub tenant: String,
    /// `candidate.interviewed`, `candidate.status_changed` …
    pub event_type: String,
    /// The JSON body (`{type, timestamp, data}`).
    pub payload: Value,
    /// Attempts made before this one.
    pub attempts: i32,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookResult {
    /// 2xx.
    Delivered,
    /// Try again after this long.
    Retry {
        /// How long.
        after: Duration,
        /// What went wrong.
        error: String,
    },
    /// No more attempts (out of attempts, or 410 Gone).
    Dead {
        /// What went wrong.
        error: String,
    },
}

/// A webhook that ran out of attempts.
#[derive(Debug, Clone, Serialize)]
pub struct DeadWebhook {
    /// Its id.
    pub webhook_id: String,
    /// Tenant.
    pub tenant: String,
    /// Type.
    pub event_type: String,
    /// Attempts made.
    pub attempts: i32,
    /// The last error.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
}

/// A new webhook message: its id (the Standard Webhooks `webhook-id`) and body.
pub(crate) fn message(event_type: &str, data: Value) -> (String, Value) {
    let id = format!("msg_{}", Uuid::now_v7().simple());
    (
        id,
        json!({"type": event_type, "timestamp": Utc::now(), "data": data}),
    )
}

/// Enqueues a webhook in the caller's transaction.
pub(crate) async fn enqueue(
    tx: &Transaction<'_>,
    tenant: &str,
    event_type: &str,
    data: Value,
) -> Result<(), StoreError> {
    let (id, body) = message(event_type, data);
    tx.run(
"INSERT INTO webhook_outbox (webhook_id, tenant, event_type, payload) VALUES ($1, $2, $3, $4)",
        &[&id, &tenant, &event_type, &body],
    )
    .await?;
    Ok(())
}

impl Store {
    /// Leases up to `limit` due webhooks, lets `send` attempt them all at once, and records the
    /// results in one statement; returns each id with its result (empty when nothing is due). A
    /// crash before the commit leaves them due again with the same ids (at-least-once).
    pub async fn attempt_webhooks<F, Fut>(
        &self,
        limit: i64,
        send: F,
    ) -> Result<Vec<(String, WebhookResult)>, StoreError>
    where
        F: Fn(DueWebhook) -> Fut,
        Fut: Future<Output = WebhookResult>,
    {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let due: Vec<DueWebhook> = tx
            .rows(
                "SELECT webhook_id, tenant, event_type, payload, attempts FROM webhook_outbox
                 WHERE state = 'pending' AND next_attempt_at <= now()
                 ORDER BY next_attempt_at, webhook_id LIMIT $1 FOR UPDATE SKIP LOCKED",
                &[&limit.max(1)],
            )
            .await?
            .iter()
            .map(|r| DueWebhook {
                webhook_id: r.get(0),
                tenant: r.get(1),
                event_type: r.get(2),
                payload: r.get(3),
                attempts: r.get(4),
            })
            .collect();
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = due.iter().map(|d| d.webhook_id.clone()).collect();
        let results = futures_util::future::join_all(due.into_iter().map(send)).await;
        let mut states = Vec::with_capacity(ids.len());
        let mut errors: Vec<Option<&str>> = Vec::with_capacity(ids.len());
        let mut waits: Vec<Option<f64>> = Vec::with_capacity(ids.len());
        for r in &results {
            let (state, error, wait) = match r {
                WebhookResult::Delivered => ("delivered", None, None),
                WebhookResult::Retry { after, error } => {
                    ("pending", Some(error.as_str()), Some(after.as_secs_f64()))
                }
                WebhookResult::Dead { error } => ("dead", Some(error.as_str()), None),
            };
            states.push(state);
            errors.push(error);
            waits.push(wait);
        }
        tx.run(
"UPDATE webhook_outbox w SET state = u.state, attempts = w.attempts + 1, last_error = u.error,
                 delivered_at = CASE WHEN u.state = 'delivered' THEN now() ELSE w.delivered_at END,
                 next_attempt_at = CASE WHEN u.wait IS NULL THEN w.next_attempt_at
                                        ELSE now() + make_interval(secs => u.wait) END
             FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) AS u(id, state, error, wait)
             WHERE w.webhook_id = u.id",
            &[&ids, &states, &errors, &waits],
        )
        .await?;
        tx.commit().await?;
        Ok(ids.into_iter().zip(results).collect())
    }

    /// Webhooks that ran out of attempts, oldest first.
    pub async fn dead_webhooks(&self) -> Result<Vec<DeadWebhook>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .rows(
"SELECT webhook_id, tenant, event_type, attempts, last_error, created_at FROM webhook_outbox
                 WHERE state = 'dead' ORDER BY created_at",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| DeadWebhook {
                webhook_id: r.get(0),
                tenant: r.get(1),
                event_type: r.get(2),
                attempts: r.get(3),
                last_error: r.get(4),
                created_at: r.get(5),
            })
            .collect())
    }

    /// Makes a dead webhook due again with a fresh count of attempts; false if there is no such
    /// dead webhook.
    pub async fn replay_webhook(&self, id: &str) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        Ok(client
            .run(
                "UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = now()
                 WHERE webhook_id = $1 AND state = 'dead'",
                &[&id],
            )
            .await?
            == 1)
    }

    /// Webhooks of each state (pending, delivered, dead), for status and tests.
    pub async fn webhook_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .rows(
                "SELECT state, count(*) FROM webhook_outbox GROUP BY state ORDER BY state",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

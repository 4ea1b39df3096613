//! Webhook delivery to each tenant's HR system: signed per Standard Webhooks, retried with
//! exponential backoff and jitter (honouring `Retry-After`), dead-lettered after the last attempt
//! or a 410. Several workers per instance, several instances: the store's lease keeps each
//! webhook to one sender at a time. At least once: receivers de-duplicate by `webhook-id`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cloud_store::{DueWebhook, Store, WebhookResult};
use standardwebhooks::Webhook;

use crate::config::{CloudConfig, Webhooks};

/// How many due webhooks a worker leases and sends at once (one transaction for all of them).
const LEASE: i64 = 32;

/// A tenant's endpoint, ready to sign.
struct Target {
    url: String,
    signer: Webhook,
}

/// Sends due webhooks.
pub struct Dispatcher {
    store: Store,
    http: reqwest::Client,
    targets: HashMap<String, Target>,
    settings: Webhooks,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("tenants", &self.targets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// From the tenants' endpoints.
    pub fn new(store: Store, config: &CloudConfig) -> anyhow::Result<Self> {
        let mut targets = HashMap::new();
        for t in &config.tenants {
            if let Some(e) = &t.webhook {
                let signer = Webhook::new(&e.secret)
                    .map_err(|err| anyhow::anyhow!("tenant {}: webhook secret: {err}", t.id))?;
                targets.insert(
                    t.id.clone(),
                    Target {
                        url: e.url.clone(),
                        signer,
                    },
                );
            }
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.webhooks.timeout_s))
            .user_agent(concat!("cloud-bridge/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            store,
            http,
            targets,
            settings: config.webhooks.clone(),
        })
    }

    /// Runs the workers until the process ends.
    pub async fn run(self) {
        let me = Arc::new(self);
        let mut workers = Vec::new();
        for _ in 0..me.settings.workers {
            let me = me.clone();
            workers.push(tokio::spawn(async move { me.work().await }));
        }
        for w in workers {
            let _ = w.await;
        }
    }

    async fn work(&self) {
        let idle = Duration::from_millis(self.settings.poll_ms);
        loop {
            match self
                .store
                .attempt_webhooks(LEASE, |due| self.send(due))
                .await
            {
                Ok(sent) if sent.is_empty() => tokio::time::sleep(idle).await,
                Ok(sent) => {
                    for (id, result) in sent {
                        match result {
                            WebhookResult::Delivered => tracing::debug!(%id, "webhook delivered"),
                            WebhookResult::Retry { after, error } => {
                                tracing::warn!(%id, "webhook failed, retrying in {after:?}: {error}")
                            }
                            WebhookResult::Dead { error } => {
                                tracing::error!(%id, "webhook dead-lettered (cloud-bridge webhooks --replay {id}): {error}")
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!("webhooks paused: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    async fn send(&self, due: DueWebhook) -> WebhookResult {
        let Some(target) = self.targets.get(&due.tenant) else {
            return WebhookResult::Dead {
                error: format!(
                    "tenant {} has no webhook endpoint in cloud.toml",
                    due.tenant
                ),
            };
        };
        let body = due.payload.to_string();
        let ts = chrono::Utc::now().timestamp();
        let signature = match target.signer.sign(&due.webhook_id, ts, body.as_bytes()) {
            Ok(s) => s,
            Err(e) => {
                return WebhookResult::Dead {
                    error: format!("cannot sign: {e}"),
                };
            }
        };
        let sent = self
            .http
            .post(&target.url)
            .header("content-type", "application/json")
            .header(standardwebhooks::HEADER_WEBHOOK_ID, &due.webhook_id)
            .header(standardwebhooks::HEADER_WEBHOOK_TIMESTAMP, ts.to_string())
            .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
            .body(body)
            .send()
            .await;
        let (error, retry_after) = match sent {
            Ok(r) if r.status().is_success() => return WebhookResult::Delivered,
            Ok(r) if r.status() == reqwest::StatusCode::GONE => {
                return WebhookResult::Dead {
                    error: "the endpoint answered 410 Gone".into(),
                };
            }
            Ok(r) => {
                let after = r
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                (format!("the endpoint answered {}", r.status()), after)
            }
            Err(e) => (format!("cannot reach the endpoint: {e}"), None),
        };
        match retry_wait(&self.settings, due.attempts, retry_after) {
            Some(after) => WebhookResult::Retry { after, error },
            None => WebhookResult::Dead { error },
        }
    }
}

/// The wait before the next attempt after `attempts` earlier ones failed (this one included in
/// none of them), or None when the schedule is used up.
pub fn retry_wait(s: &Webhooks, attempts: i32, retry_after: Option<Duration>) -> Option<Duration> {
    let base = *s.retry_schedule_s.get(usize::try_from(attempts).ok()?)?;
    let jitter = 1.0 + s.jitter * (fastrand::f64() * 2.0 - 1.0);
    let wait = Duration::from_secs_f64((base * jitter).max(0.0));
    Some(retry_after.map_or(wait, |r| r.max(wait)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_runs_out_and_retry_after_wins_when_longer() {
        let s = Webhooks {
            retry_schedule_s: vec![1.0, 10.0],
            jitter: 0.2,
            ..Webhooks::default()
        };
        let w = retry_wait(&s, 0, None).expect("first");
        assert!((0.8..=1.2).contains(&w.as_secs_f64()), "{w:?}");
        let w = retry_wait(&s, 1, Some(Duration::from_secs(60))).expect("second");
        assert_eq!(w, Duration::from_secs(60));
        assert_eq!(retry_wait(&s, 2, None), None, "third failure: dead letter");
    }
}

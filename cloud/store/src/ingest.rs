//! Ingest: a batch of MQTT messages applied in one transaction, each event inserted once by id
//! and applied to the candidate tables in the same transaction.

use chrono::{DateTime, FixedOffset};
use deadpool_postgres::Transaction;
use kiosk_protocol::{Envelope, KioskEvent, ParseError, TopicKind, parse_event, parse_topic};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::Cached;
use crate::{Store, StoreError};
use crate::{candidates, deletions};

/// Registry rows by device id: (tenant, store, status).
type Registry = std::collections::HashMap<String, (String, String, String)>;

/// Each message's payload, parsed once.
type Parsed = [Result<Envelope<KioskEvent>, ParseError>];

/// One message as the broker delivered it.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Its topic.
    pub topic: String,
    /// Its bytes.
    pub payload: Vec<u8>,
}

/// What ingesting one message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded and applied; `effect` says how (`created`, `applied`, `pending`, `opinion` …).
    Applied {
        /// The device's topic base (where its receipt goes).
        device_base: String,
        /// The event.
        event_id: String,
        /// What applying did.
        effect: String,
    },
    /// Already recorded with the same body.
    Duplicate {
        /// The device's topic base.
        device_base: String,
        /// The event.
        event_id: String,
    },
    /// Recorded under its id but not applied (invalid, unknown type or version, or a known id
    /// with a different body); reported in `rejected`. The device gets a receipt: sending it
    /// again cannot help.
    Refused {
        /// The device's topic base.
        device_base: String,
        /// The event.
        event_id: String,
        /// Machine-readable reason.
        code: String,
    },
    /// Not from a registered device's own path: held in `rejected`, never applied, and no
    /// receipt (the device sends it again, and it applies once the device is registered).
    Held {
        /// Machine-readable reason.
        code: String,
        /// In words.
        reason: String,
    },
}

impl Outcome {
    /// Where the receipt goes and for which event, if the device gets one.
    pub fn receipt(&self) -> Option<(&str, &str)> {
        match self {
            Outcome::Applied {
                device_base,
                event_id,
                ..
            }
            | Outcome::Duplicate {
                device_base,
                event_id,
            }
            | Outcome::Refused {
                device_base,
                event_id,
                ..
            } => Some((device_base, event_id)),
            Outcome::Held { .. } => None,
        }
    }
}

/// A batch with what is worked out once for it.
struct Batch<'a> {
    messages: &'a [Incoming],
    parsed: &'a Parsed,
    registry: &'a Registry,
    /// Advisory lock keys of the interviews it touches, ascending.
    locks: &'a [i64],
}

/// The advisory lock key of each (device, interview) that a result or decision in the batch
/// names, sorted and without repeats.
fn interview_locks(batch: &[Incoming], parsed: &Parsed) -> Vec<i64> {
    let mut keys: Vec<i64> = batch
        .iter()
        .zip(parsed)
        .filter_map(|(m, e)| {
            let interview = match &e.as_ref().ok()?.body {
                KioskEvent::InterviewResult(r) => &r.interview.value,
                KioskEvent::Decision(d) => &d.interview.value,
                _ => return None,
            };
            let device = parse_topic(&m.topic)?.device;
            let digest = Sha256::new()
                .chain_update(device.as_bytes())
                .chain_update([0])
                .chain_update(interview.as_bytes())
                .finalize();
            let mut first = [0u8; 8];
            first.copy_from_slice(&digest[..8]);
            Some(i64::from_be_bytes(first))
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

struct Origin {
    tenant: String,
    store_id: String,
    device_id: String,
    base: String,
}

impl Store {
    /// Applies a batch in one transaction and commits it; returns one outcome per message, in
    /// order. On error nothing is committed and the caller must not ack any of them.
    ///
    /// The batch is first applied without savepoints (a round trip or two fewer per message).
    /// If a message breaks a constraint, that transaction is rolled back and the batch applied
    /// again with a savepoint per message, so the one message is held and the rest apply.
    pub async fn ingest(&self, batch: &[Incoming]) -> Result<Vec<Outcome>, StoreError> {
        let mut client = self.pool.get().await?;
        let registry = self.registry(&client, batch).await?;
        let parsed: Vec<_> = batch.iter().map(|m| parse_event(&m.payload)).collect();
        let locks = interview_locks(batch, &parsed);
        let batch = Batch {
            messages: batch,
            parsed: &parsed,
            registry: &registry,
            locks: &locks,
        };
        match self.apply_batch(&mut client, &batch, false).await {
            Err(StoreError::Db(e)) if e.as_db_error().is_some() => {
                tracing::debug!("a message broke a constraint ({e}): one savepoint per message");
                self.apply_batch(&mut client, &batch, true).await
            }
            r => r,
        }
    }

    /// The registry rows of every device the batch names, in one query.
    async fn registry(
        &self,
        client: &deadpool_postgres::ClientWrapper,
        batch: &[Incoming],
    ) -> Result<Registry, StoreError> {
        let mut ids: Vec<String> = batch
            .iter()
            .filter_map(|m| parse_topic(&m.topic).map(|t| t.device))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(client
            .rows(
                "SELECT device_id, tenant, store_id, status FROM devices WHERE device_id = ANY($1)",
                &[&ids],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
            .collect())
    }

    async fn apply_batch(
        &self,
        client: &mut deadpool_postgres::ClientWrapper,
        batch: &Batch<'_>,
        savepoints: bool,
    ) -> Result<Vec<Outcome>, StoreError> {
        let mut tx = client.transaction().await?;
        if !batch.locks.is_empty() {
            // An interview and its decision may reach two instances at once; each waits for
            // the other's commit, so the decision finds its candidate or the candidate its
            // pending decision. Taken in one order, so two batches cannot deadlock.
            tx.run(
                "SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::int8[]) AS k",
                &[&batch.locks],
            )
            .await?;
        }
        let mut out = Vec::with_capacity(batch.messages.len());
        for (msg, event) in batch.messages.iter().zip(batch.parsed) {
            if !savepoints {
                out.push(self.ingest_one(&tx, msg, event, batch.registry).await?);
                continue;
            }
            let mut sp = tx.savepoint("msg").await?;
            match self.ingest_one(&sp, msg, event, batch.registry).await {
                Ok(o) => {
                    sp.commit().await?;
                    out.push(o);
                }
                Err(StoreError::Db(e)) if e.as_db_error().is_some() => {
                    // This message broke a constraint: undo it alone and hold it with the reason.
                    sp.rollback().await?;
                    let reason = e.to_string();
                    tracing::warn!(topic = %msg.topic, %reason, "event could not be applied");
                    sp = tx.savepoint("held").await?;
                    reject(&sp, msg, None, None, None, "apply_failed", &reason).await?;
                    sp.commit().await?;
                    out.push(Outcome::Held {
                        code: "apply_failed".into(),
                        reason,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn ingest_one(
        &self,
        tx: &Transaction<'_>,
        msg: &Incoming,
        event: &Result<Envelope<KioskEvent>, ParseError>,
        registry: &Registry,
    ) -> Result<Outcome, StoreError> {
        let Some(topic) = parse_topic(&msg.topic).filter(|t| matches!(t.kind, TopicKind::Event(_)))
        else {
            return held(
                tx,
                msg,
                None,
                "bad_topic",
                "not an events topic of the kiosk tree",
            )
            .await;
        };
        let row = registry.get(&topic.device);
        let (tenant, store_id) = match row {
            Some((tenant, store_id, status)) => {
                if status != "active" {
                    return held(
                        tx,
                        msg,
                        Some(&topic.device),
                        "retired_device",
                        "the device is retired in the registry",
                    )
                    .await;
                }
                if *tenant != topic.tenant || *store_id != topic.store {
                    let reason = format!(
                        "device {} is registered to {tenant}/{store_id} but published under {}/{}",
                        topic.device, topic.tenant, topic.store
                    );
                    return held(tx, msg, Some(&topic.device), "wrong_path", &reason).await;
                }
                (tenant.clone(), store_id.clone())
            }
            None if self.options.auto_register => {
                tx.run(
"INSERT INTO devices (device_id, tenant, store_id, registered_by) VALUES ($1, $2, $3, 'first sight')
                     ON CONFLICT DO NOTHING",
                    &[&topic.device, &topic.tenant, &topic.store],
                )
                .await?;
                tracing::warn!(device = %topic.device, "registered a device on first sight (development setting)");
                (topic.tenant.clone(), topic.store.clone())
            }
            None => {
                let reason = format!(
                    "device {} is not registered (cloud-bridge devices add --tenant {} --store {} --device {})",
                    topic.device, topic.tenant, topic.store, topic.device
                );
                return held(tx, msg, Some(&topic.device), "unregistered_device", &reason).await;
            }
        };
        let origin = Origin {
            base: kiosk_protocol::device_base(&tenant, &store_id, &topic.device),
            tenant,
            store_id,
            device_id: topic.device,
        };
        let sha = Sha256::digest(&msg.payload).to_vec();
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                return self
                    .refuse(tx, msg, &origin, &sha, e.code(), &e.to_string())
                    .await;
            }
        };
        // Parsed once (above); PostgreSQL reads the same text into jsonb itself.
        let json = std::str::from_utf8(&msg.payload).unwrap_or("null");
        // The usual effect is written with the row; only another one costs an update.
        let usual = match &event.body {
            KioskEvent::InterviewResult(_) => "created",
            _ => "applied",
        };
        let inserted = tx
            .run(
"INSERT INTO events (event_id, tenant, store_id, device_id, event_type, schema_version,
                                     occurred_at, body_sha256, payload, outcome)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10) ON CONFLICT (event_id) DO NOTHING",
                &[
                    &event.event_id,
                    &origin.tenant,
                    &origin.store_id,
                    &origin.device_id,
                    &event.event_type,
                    &event.schema_version,
                    &event.occurred_at,
                    &sha,
                    &json,
                    &usual,
                ],
            )
            .await?;
        if inserted == 0 {
            return duplicate(tx, msg, &origin, &event.event_id, &sha).await;
        }
        let effect = self.apply(tx, &origin, event).await?;
        if effect != usual {
            tx.run(
                "UPDATE events SET outcome = $2 WHERE event_id = $1",
                &[&event.event_id, &effect],
            )
            .await?;
        }
        Ok(Outcome::Applied {
            device_base: origin.base,
            event_id: event.event_id.clone(),
            effect,
        })
    }

    async fn apply(
        &self,
        tx: &Transaction<'_>,
        o: &Origin,
        e: &Envelope<KioskEvent>,
    ) -> Result<String, StoreError> {
        match &e.body {
            KioskEvent::InterviewResult(r) => {
                let policy = self.policy(&o.tenant);
                candidates::create(
                    tx,
                    &o.tenant,
                    &o.store_id,
                    &o.device_id,
                    &e.event_id,
                    r,
                    &policy,
                )
                .await
            }
            KioskEvent::Decision(d) => {
                let policy = self.policy(&o.tenant);
                tx.run(
"INSERT INTO decisions (event_id, tenant, device_id, interview_id, decision, reason, decided_by, decided_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[&e.event_id, &o.tenant, &o.device_id, &d.interview.value, &d.decision, &d.reason, &d.decided_by, &d.decided_at],
                )
                .await?;
                let Some(candidate) =
                    candidates::id_by_interview(tx, &o.device_id, &d.interview.value).await?
                else {
                    // Its interview has not arrived yet: it applies when it does.
                    return Ok("pending".into());
                };
                candidates::apply_decision(tx, &o.tenant, candidate, &e.event_id, d, &policy).await
            }
            KioskEvent::EventQuarantined(q) => {
                report(
                    tx,
                    o,
                    &e.event_id,
                    "event_quarantined",
                    json!(q),
                    e.occurred_at,
                )
                .await
            }
            KioskEvent::DownlinkRejected(d) => {
                report(
                    tx,
                    o,
                    &e.event_id,
                    "downlink_rejected",
                    json!(d),
                    e.occurred_at,
                )
                .await
            }
            KioskEvent::Audit(a) => {
                report(
                    tx,
                    o,
                    &e.event_id,
                    "audit",
                    Value::Object(a.clone()),
                    e.occurred_at,
                )
                .await
            }
            KioskEvent::DeletionCompleted(d) => {
                let policy = self.policy(&o.tenant);
                deletions::complete(tx, &o.tenant, &o.device_id, d, policy.webhooks).await
            }
        }
    }

    /// Records an event this build cannot apply under its id (so a resend is a duplicate) and
    /// reports it; without a readable id, holds it.
    async fn refuse(
        &self,
        tx: &Transaction<'_>,
        msg: &Incoming,
        o: &Origin,
        sha: &[u8],
        code: &str,
        reason: &str,
    ) -> Result<Outcome, StoreError> {
        let json: Option<Value> = serde_json::from_slice(&msg.payload).ok();
        let id = json
            .as_ref()
            .and_then(|v| v.get("event_id"))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string);
        let Some(id) = id else {
            return held(tx, msg, Some(&o.device_id), code, reason).await;
        };
        let event_type = json
            .as_ref()
            .and_then(|v| v.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let version = json
            .as_ref()
            .and_then(|v| v.get("schema_version"))
            .and_then(Value::as_i64);
        let inserted = tx
            .run(
"INSERT INTO events (event_id, tenant, store_id, device_id, event_type, schema_version,
                                     body_sha256, payload, outcome)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING",
                &[&id, &o.tenant, &o.store_id, &o.device_id, &event_type, &version, &sha, &json, &code],
            )
            .await?;
        if inserted == 0 {
            return duplicate(tx, msg, o, &id, sha).await;
        }
        tracing::warn!(device = %o.device_id, event_id = %id, code, "event kept, not applied");
        reject(
            tx,
            msg,
            Some(&o.device_id),
            Some(&o.tenant),
            Some(&id),
            code,
            reason,
        )
        .await?;
        Ok(Outcome::Refused {
            device_base: o.base.clone(),
            event_id: id,
            code: code.into(),
        })
    }
}

/// A known id: the same body is a harmless resend; a different body is reported and the first kept.
async fn duplicate(
    tx: &Transaction<'_>,
    msg: &Incoming,
    o: &Origin,
    id: &str,
    sha: &[u8],
) -> Result<Outcome, StoreError> {
    let row = tx
        .one(
            "SELECT body_sha256, device_id FROM events WHERE event_id = $1",
            &[&id],
        )
        .await?;
    let (first, device): (Vec<u8>, String) = (row.get(0), row.get(1));
    if first == sha && device == o.device_id {
        return Ok(Outcome::Duplicate {
            device_base: o.base.clone(),
            event_id: id.into(),
        });
    }
    let reason =
        "an event with this id was already received with a different body; the first is kept";
    tracing::warn!(device = %o.device_id, event_id = %id, "duplicate event id with a different body");
    reject(
        tx,
        msg,
        Some(&o.device_id),
        Some(&o.tenant),
        Some(id),
        "duplicate_id_different_body",
        reason,
    )
    .await?;
    Ok(Outcome::Refused {
        device_base: o.base.clone(),
        event_id: id.into(),
        code: "duplicate_id_different_body".into(),
    })
}

async fn report(
    tx: &Transaction<'_>,
    o: &Origin,
    id: &str,
    kind: &str,
    detail: Value,
    at: DateTime<FixedOffset>,
) -> Result<String, StoreError> {
    tx.run(
"INSERT INTO device_reports (event_id, tenant, device_id, kind, detail, occurred_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&id, &o.tenant, &o.device_id, &kind, &detail, &at],
    )
    .await?;
    Ok("reported".into())
}

async fn held(
    tx: &Transaction<'_>,
    msg: &Incoming,
    device: Option<&str>,
    code: &str,
    reason: &str,
) -> Result<Outcome, StoreError> {
    tracing::warn!(topic = %msg.topic, code, "event held, not applied");
    reject(tx, msg, device, None, None, code, reason).await?;
    Ok(Outcome::Held {
        code: code.into(),
        reason: reason.into(),
    })
}

async fn reject(
    tx: &Transaction<'_>,
    msg: &Incoming,
    device: Option<&str>,
    tenant: Option<&str>,
    event_id: Option<&str>,
    code: &str,
    reason: &str,
) -> Result<(), StoreError> {
    tx.run(
"INSERT INTO rejected (topic, device_id, tenant, event_id, code, reason, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&msg.topic, &device, &tenant, &event_id, &code, &reason, &msg.payload],
    )
    .await?;
    Ok(())
}

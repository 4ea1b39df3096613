//! Ingest: a batch of MQTT messages applied in one transaction, each event inserted once by id
//! and applied to the candidate tables in the same transaction.

mod bulk;
mod refused;

use std::collections::HashSet;

use deadpool_postgres::Transaction;
use kiosk_protocol::{
    DeviceTopic, Envelope, KioskEvent, ParseError, TopicKind, parse_event, parse_topic,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::Cached;
use crate::{Store, StoreError};
use crate::{candidates, created, deletions};

/// Registry rows by device id: (tenant, store, status).
type Registry = std::collections::HashMap<String, (String, String, String)>;

/// A message's topic and payload, each parsed once per batch.
struct Parsed {
    topic: Option<DeviceTopic>,
    event: Result<Envelope<KioskEvent>, ParseError>,
}

impl Parsed {
    fn new(m: &Incoming) -> Self {
        Self {
            topic: parse_topic(&m.topic),
            event: parse_event(&m.payload),
        }
    }
}

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
    parsed: &'a [Parsed],
    registry: &'a Registry,
    /// Advisory lock keys of the interviews it touches, ascending.
    locks: &'a [i64],
}

/// The advisory lock key of each (device, interview) that a result, decision or deletion in the
/// batch names, sorted and without repeats.
fn interview_locks(parsed: &[Parsed]) -> Vec<i64> {
    let mut keys: Vec<i64> = parsed
        .iter()
        .filter_map(|p| {
            let interview = match &p.event.as_ref().ok()?.body {
                KioskEvent::InterviewResult(r) => &r.interview.value,
                KioskEvent::Decision(d) => &d.interview.value,
                KioskEvent::DeletionCompleted(d) => &d.interview.value,
                _ => return None,
            };
            let device = &p.topic.as_ref()?.device;
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

/// A message checked against the registry: an event to record, or already dealt with.
enum Admitted<'e> {
    /// From a registered device's own path, parsed; with its body's digest.
    Ready(Origin, &'e Envelope<KioskEvent>, Vec<u8>),
    /// Held or refused.
    Done(Outcome),
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
    /// The batch is first applied set-based, without savepoints. If a message breaks a
    /// constraint, that transaction is rolled back and the batch applied again with a savepoint
    /// per message, so the one message is held and the rest apply.
    pub async fn ingest(&self, batch: &[Incoming]) -> Result<Vec<Outcome>, StoreError> {
        let mut client = self.pool.get().await?;
        let parsed: Vec<Parsed> = batch.iter().map(Parsed::new).collect();
        let registry = self.registry(&client, &parsed).await?;
        let locks = interview_locks(&parsed);
        let batch = Batch {
            messages: batch,
            parsed: &parsed,
            registry: &registry,
            locks: &locks,
        };
        match self.apply_batch(&mut client, &batch, false).await {
            Err(StoreError::Db(e)) if !crate::transient(&e) => {
                let e = crate::describe(&e);
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
        parsed: &[Parsed],
    ) -> Result<Registry, StoreError> {
        let mut ids: Vec<&str> = parsed
            .iter()
            .filter_map(|p| p.topic.as_ref().map(|t| t.device.as_str()))
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
        if !savepoints {
            let out = self
                .apply_set(&tx, batch.messages, batch.parsed, batch.registry)
                .await?;
            tx.commit().await?;
            return Ok(out);
        }
        let mut out = Vec::with_capacity(batch.messages.len());
        for (i, msg) in batch.messages.iter().enumerate() {
            let one = (&batch.messages[i..=i], &batch.parsed[i..=i]);
            let mut sp = tx.savepoint("msg").await?;
            match self.apply_set(&sp, one.0, one.1, batch.registry).await {
                Ok(o) => {
                    sp.commit().await?;
                    out.extend(o);
                }
                Err(StoreError::Db(e)) if !crate::transient(&e) => {
                    // This message broke a constraint: undo it alone and hold it with the reason.
                    sp.rollback().await?;
                    let reason = crate::describe(&e);
                    tracing::warn!(topic = %msg.topic, %reason, "event could not be applied");
                    sp = tx.savepoint("held").await?;
                    refused::reject(&sp, msg, None, None, None, "apply_failed", &reason).await?;
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

    /// Applies messages in order, set-based: every event row in one statement, every result's
    /// candidate in one more (and its history, webhooks and waiting decisions one each); other
    /// events, rare beside results, one by one after them. Returns one outcome per message.
    async fn apply_set(
        &self,
        tx: &Transaction<'_>,
        messages: &[Incoming],
        parsed: &[Parsed],
        registry: &Registry,
    ) -> Result<Vec<Outcome>, StoreError> {
        let mut out: Vec<Option<Outcome>> = vec![None; messages.len()];
        let mut ready = Vec::with_capacity(messages.len());
        for (i, (msg, p)) in messages.iter().zip(parsed).enumerate() {
            match self.admit(tx, msg, p, registry).await? {
                Admitted::Done(o) => out[i] = Some(o),
                Admitted::Ready(origin, event, sha) => ready.push((i, origin, event, sha)),
            }
        }
        let firsts = bulk::insert_events(
            tx,
            ready
                .iter()
                .map(|(i, o, e, sha)| bulk::Row::new(o, e, sha, &messages[*i].payload)),
        )
        .await?;
        let results: Vec<created::NewResult<'_>> = ready
            .iter()
            .zip(&firsts)
            .filter(|(_, first)| **first)
            .filter_map(|((_, o, e, _), _)| match &e.body {
                KioskEvent::InterviewResult(r) => Some(created::NewResult {
                    tenant: &o.tenant,
                    store_id: &o.store_id,
                    device_id: &o.device_id,
                    event_id: &e.event_id,
                    result: r,
                }),
                _ => None,
            })
            .collect();
        let made: HashSet<String> = created::create(tx, &results, |t| self.policy(t))
            .await?
            .into_iter()
            .collect();
        for ((i, origin, event, sha), first) in ready.into_iter().zip(firsts) {
            if !first {
                let d = refused::duplicate(tx, &messages[i], &origin, &event.event_id, &sha);
                out[i] = Some(d.await?);
                continue;
            }
            let effect = self.apply(tx, &origin, event, &made).await?;
            if effect != bulk::usual(&event.body) {
                tx.run(
                    "UPDATE events SET outcome = $2 WHERE event_id = $1",
                    &[&event.event_id, &effect],
                )
                .await?;
            }
            out[i] = Some(Outcome::Applied {
                device_base: origin.base,
                event_id: event.event_id.clone(),
                effect,
            });
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Checks a message's topic against the registry and its payload; a message that cannot be
    /// applied is recorded here.
    async fn admit<'e>(
        &self,
        tx: &Transaction<'_>,
        msg: &Incoming,
        parsed: &'e Parsed,
        registry: &Registry,
    ) -> Result<Admitted<'e>, StoreError> {
        let Some(topic) = parsed
            .topic
            .as_ref()
            .filter(|t| matches!(t.kind, TopicKind::Event(_)))
        else {
            let o = refused::held(
                tx,
                msg,
                None,
                "bad_topic",
                "not an events topic of the kiosk tree",
            );
            return Ok(Admitted::Done(o.await?));
        };
        let (tenant, store_id) = match registry.get(&topic.device) {
            Some((_, _, status)) if status != "active" => {
                let why = "the device is retired in the registry";
                let o = refused::held(tx, msg, Some(&topic.device), "retired_device", why);
                return Ok(Admitted::Done(o.await?));
            }
            Some((tenant, store_id, _)) if *tenant != topic.tenant || *store_id != topic.store => {
                let why = format!(
                    "device {} is registered to {tenant}/{store_id} but published under {}/{}",
                    topic.device, topic.tenant, topic.store
                );
                let o = refused::held(tx, msg, Some(&topic.device), "wrong_path", &why);
                return Ok(Admitted::Done(o.await?));
            }
            Some((tenant, store_id, _)) => (tenant.clone(), store_id.clone()),
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
                let why = format!(
                    "device {} is not registered (register it with `cloud-bridge devices add --tenant {} --store {} --device {}`)",
                    topic.device, topic.tenant, topic.store, topic.device
                );
                let o = refused::held(tx, msg, Some(&topic.device), "unregistered_device", &why);
                return Ok(Admitted::Done(o.await?));
            }
        };
        let origin = Origin {
            base: kiosk_protocol::device_base(&tenant, &store_id, &topic.device),
            tenant,
            store_id,
            device_id: topic.device.clone(),
        };
        let sha = Sha256::digest(&msg.payload).to_vec();
        match &parsed.event {
            Ok(e) => Ok(Admitted::Ready(origin, e, sha)),
            Err(e) => {
                let why = e.to_string();
                let o = refused::refuse(tx, msg, &origin, &sha, e.code(), &why);
                Ok(Admitted::Done(o.await?))
            }
        }
    }

    /// Applies one recorded event; returns its effect. Results were applied set-based before
    /// (`made` holds the events that created a candidate).
    async fn apply(
        &self,
        tx: &Transaction<'_>,
        o: &Origin,
        e: &Envelope<KioskEvent>,
        made: &HashSet<String>,
    ) -> Result<String, StoreError> {
        match &e.body {
            KioskEvent::InterviewResult(_) if made.contains(&e.event_id) => Ok("created".into()),
            KioskEvent::InterviewResult(_) => Ok("duplicate_interview".into()),
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
                refused::report(
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
                refused::report(
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
                refused::report(
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
            KioskEvent::ConfigApplied(c) => {
                let detail = serde_json::to_value(c).unwrap_or(Value::Null);
                refused::report(tx, o, &e.event_id, "config_applied", detail, e.occurred_at).await
            }
            KioskEvent::ConfigRejected(c) => {
                let detail = serde_json::to_value(c).unwrap_or(Value::Null);
                refused::report(tx, o, &e.event_id, "config_rejected", detail, e.occurred_at).await
            }
        }
    }
}

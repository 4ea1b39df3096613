//! MQTT ingest: a shared subscription to every kiosk's events (instances split the load), plain
//! subscriptions to presence and health (retained messages never reach shared subscriptions),
//! batches committed to the store, each message acked only after its commit, then a receipt to
//! each device naming its committed events.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use cloud_store::{Incoming, Outcome, Store};
use kiosk_protocol::{DeviceTopic, Receipt, TopicKind, downlink_kind, parse_topic, topic};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, Publish};
use rumqttc::v5::{AsyncClient, Event, EventLoop, MqttOptions};
use rumqttc::{TlsConfiguration, Transport};
use tokio::sync::mpsc;

use crate::config::Broker;

/// How long the broker keeps this instance's session (and what it had not acked) while it is away.
const SESSION_EXPIRY_S: u32 = 24 * 3600;

/// How many unacked messages the broker may have out to this instance at once (MQTT v5 Receive
/// Maximum): a few batches, which bounds what a backlog costs this process. Mosquitto 2.0.21
/// (bookworm-backports) keeps to it; Debian 12's 2.0.11 does not (it pushed 16,500 of a 20,000
/// backlog at once), so nothing below relies on it for correctness.
fn receive_maximum(b: &Broker) -> u16 {
    u16::try_from(b.batch_max.saturating_mul(4))
        .unwrap_or(u16::MAX)
        .max(16)
}

/// Connection options for this instance.
pub fn options(b: &Broker) -> anyhow::Result<MqttOptions> {
    let mut o = MqttOptions::new(b.client_id.clone(), b.host.clone(), b.port);
    o.set_keep_alive(Duration::from_secs(10))
        .set_clean_start(false)
        .set_session_expiry_interval(Some(SESSION_EXPIRY_S))
        .set_manual_acks(true)
        .set_receive_maximum(Some(receive_maximum(b)))
        .set_request_channel_capacity(4096);
    if let (Some(u), p) = (&b.username, &b.password) {
        o.set_credentials(u.clone(), p.clone().unwrap_or_default());
    }
    if let (Some(ca), Some(cert), Some(key)) = (&b.ca, &b.cert, &b.key) {
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read {} (check [broker] in cloud.toml): {e}",
                    p.display()
                )
            })
        };
        o.set_transport(Transport::tls_with_config(TlsConfiguration::Simple {
            ca: read(ca)?,
            alpn: None,
            client_auth: Some((read(cert)?, read(key)?)),
        }));
    }
    Ok(o)
}

/// Runs ingest until the process ends: the event loop in one task, batches in another.
pub async fn run(broker: Broker, store: Store) -> anyhow::Result<()> {
    let (client, eventloop) = AsyncClient::new(options(&broker)?, 4096);
    // The event loop hands messages on without ever waiting: it is also what sends the batcher's
    // acks, so a loop waiting for the batcher (which waits for its acks to be taken) would stop
    // both. What this holds is bounded by what the broker has sent and we have not acked.
    let (tx, rx) = mpsc::unbounded_channel::<Publish>();
    let shared = format!("$share/{}/{}", broker.share_group, topic::EVENTS_FILTER);
    let at = format!("{}:{}", broker.host, broker.port);
    let poller = tokio::spawn(poll(eventloop, client.clone(), shared, tx, at));
    let downlinks = tokio::spawn(send_downlinks(
        client.clone(),
        store.clone(),
        broker.downlink_resend_s,
    ));
    let batches = tokio::spawn(process(
        rx,
        client,
        store,
        broker.batch_max,
        broker.batch_wait_ms,
    ));
    tokio::select! {
        r = poller => r?,
        r = batches => r?,
        r = downlinks => r?,
    }
}

/// Publishes what devices have not confirmed: deletion requests (until the device's
/// `deletion_completed`) and the newest role configurations (until the device's health says it
/// holds them) — at once when asked (polled every second), then every `resend_s`. Every
/// instance runs this; the store hands each due message to one of them.
async fn send_downlinks(client: AsyncClient, store: Store, resend_s: u64) -> anyhow::Result<()> {
    loop {
        let deletions = store.due_deletions(resend_s.max(1)).await.map(|v| {
            v.into_iter()
                .map(|d| (d.device_base, downlink_kind::DELETION_REQUEST, d.downlink))
                .collect::<Vec<_>>()
        });
        let configs = store.due_configs(resend_s.max(1)).await.map(|v| {
            v.into_iter()
                .map(|d| (d.device_base, downlink_kind::CONFIG, d.downlink))
                .collect::<Vec<_>>()
        });
        let rosters = store.due_rosters(resend_s.max(1)).await.map(|v| {
            v.into_iter()
                .map(|d| (d.device_base, downlink_kind::ROSTER, d.downlink))
                .collect::<Vec<_>>()
        });
        for due in [deletions, configs, rosters] {
            match due {
                Ok(due) => {
                    for (base, kind, downlink) in due {
                        let topic = format!("{base}/down/{kind}");
                        let body = serde_json::to_vec(&downlink).unwrap_or_default();
                        if body.len() > kiosk_protocol::MAX_DOWNLINK_BYTES {
                            tracing::error!(
                                kind,
                                key = %downlink.key,
                                bytes = body.len(),
                                "not sent: over the {} KiB downlink limit, the device would never receive it",
                                kiosk_protocol::MAX_DOWNLINK_BYTES / 1024
                            );
                            continue;
                        }
                        match client.publish(topic, QoS::AtLeastOnce, false, body).await {
                            Ok(()) => tracing::info!(kind, key = %downlink.key, "downlink sent"),
                            Err(e) => tracing::warn!("cannot queue a {kind} downlink: {e}"),
                        }
                    }
                }
                Err(e) => tracing::debug!("downlinks not checked: {e}"),
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn poll(
    mut eventloop: EventLoop,
    client: AsyncClient,
    shared: String,
    tx: mpsc::UnboundedSender<Publish>,
    at: String,
) -> anyhow::Result<()> {
    let mut connected = false;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                connected = true;
                tracing::info!(
                    session_present = ack.session_present,
                    "connected to the broker"
                );
                // Subscribing again is harmless when the session kept it, and it restores a
                // session the broker lost; retained presence and health come on subscribing.
                // Queued from another task: only this loop takes requests off the queue.
                let (c, shared) = (client.clone(), shared.clone());
                tokio::spawn(async move {
                    for filter in [shared.as_str(), topic::STATUS_FILTER, topic::HEALTH_FILTER] {
                        if let Err(e) = c.subscribe(filter, QoS::AtLeastOnce).await {
                            tracing::error!("cannot subscribe to {filter}: {e}");
                        }
                    }
                });
            }
            Ok(Event::Incoming(Packet::Publish(mut p))) => {
                // Held until its batch commits (a flood can hold thousands): copied out of the
                // read buffer, so a waiting message keeps only its own bytes alive, not the
                // buffer chunk it arrived in.
                p.topic = Bytes::copy_from_slice(&p.topic);
                p.payload = Bytes::copy_from_slice(&p.payload);
                if tx.send(p).is_err() {
                    return Ok(());
                }
            }
            Ok(_) => {}
            Err(e) => {
                if connected {
                    tracing::warn!("connection to the broker {at} lost: {e}");
                } else {
                    tracing::warn!(
                        "cannot connect to the broker {at} ([broker] in cloud.toml): {e}"
                    );
                }
                connected = false;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Batches whose transactions may run while an earlier one commits (besides the one being
/// acked): while PostgreSQL works on one batch, the next is already parsed and sent, so neither
/// side waits for the other. Acks still leave in the order the messages came (MQTT asks for it).
const IN_FLIGHT: usize = 2;

/// A batch on its way: its messages, the events' transaction (committed when it ends), and the
/// presence/health messages it carried.
struct Committing {
    events: Vec<Publish>,
    commit: tokio::task::JoinHandle<Vec<Outcome>>,
    states: Vec<(Publish, DeviceTopic)>,
}

async fn process(
    mut rx: mpsc::UnboundedReceiver<Publish>,
    client: AsyncClient,
    store: Store,
    batch_max: usize,
    batch_wait_ms: u64,
) -> anyhow::Result<()> {
    let (done, committed) = mpsc::channel::<Committing>(IN_FLIGHT);
    let acker = tokio::spawn(ack_in_order(committed, client, store.clone()));
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + Duration::from_millis(batch_wait_ms);
        while batch.len() < batch_max {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(p)) => batch.push(p),
                _ => break,
            }
        }
        let mut events = Vec::with_capacity(batch.len());
        let mut incoming = Vec::with_capacity(batch.len());
        let mut states = Vec::new();
        for p in batch {
            let topic = String::from_utf8_lossy(&p.topic).into_owned();
            match parse_topic(&topic) {
                Some(t) if matches!(t.kind, TopicKind::Status | TopicKind::Health) => {
                    states.push((p, t))
                }
                _ => {
                    incoming.push(Incoming {
                        topic,
                        payload: p.payload.to_vec(),
                    });
                    events.push(p);
                }
            }
        }
        let store = store.clone();
        let commit = tokio::spawn(async move { commit(&store, &incoming).await });
        let batch = Committing {
            events,
            commit,
            states,
        };
        if done.send(batch).await.is_err() {
            break;
        }
    }
    drop(done);
    acker.await?
}

/// Commits a batch, retrying until the database takes it: nothing is acked before.
async fn commit(store: &Store, incoming: &[Incoming]) -> Vec<Outcome> {
    if incoming.is_empty() {
        return Vec::new();
    }
    let mut wait = Duration::from_millis(200);
    loop {
        match store.ingest(incoming).await {
            Ok(o) => return o,
            Err(e) => {
                tracing::error!(
                    events = incoming.len(),
                    "cannot commit, nothing acked, retrying in {wait:?}: {e}"
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Takes batches in the order they came: once a batch's events are committed, records its
/// presence and health (in order, so a device's last word wins), acks every message and sends
/// each device its receipt.
async fn ack_in_order(
    mut committed: mpsc::Receiver<Committing>,
    client: AsyncClient,
    store: Store,
) -> anyhow::Result<()> {
    while let Some(batch) = committed.recv().await {
        // A commit task ends only by committing, or by a panic: then this instance stops with
        // the batch unacked, and the broker sends it again to whichever instance is up.
        let outcomes = batch
            .commit
            .await
            .map_err(|e| anyhow::anyhow!("a batch's commit failed, nothing acked: {e}"))?;
        if !batch.events.is_empty() {
            crash_point_after_commit();
        }
        for (p, t) in &batch.states {
            record_state(&store, p, t).await;
        }
        let committed_at = chrono::Utc::now().to_rfc3339();
        let mut receipts: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for o in &outcomes {
            if let Some((base, id)) = o.receipt() {
                receipts.entry(base).or_default().push(id.to_string());
            }
        }
        for p in batch
            .events
            .iter()
            .chain(batch.states.iter().map(|(p, _)| p))
        {
            if let Err(e) = client.ack(p).await {
                tracing::error!("cannot ack: {e}");
            }
        }
        for (base, event_ids) in receipts {
            let receipt = Receipt {
                event_ids,
                committed_at: committed_at.clone(),
            };
            let body = serde_json::to_vec(&receipt).unwrap_or_default();
            let topic = format!("{base}/down/{}", downlink_kind::RECEIPT);
            if let Err(e) = client.publish(topic, QoS::AtLeastOnce, false, body).await {
                // The device publishes again on the missing receipt; that is a duplicate here.
                tracing::warn!("cannot queue a receipt: {e}");
            }
        }
        tracing::debug!(events = batch.events.len(), "batch committed");
    }
    Ok(())
}

/// Fault injection for the system tests, in debug builds only: with
/// `CLOUD_BRIDGE_TEST_CRASH_AFTER_COMMIT` set, the process dies after its first commit and before
/// any ack (the window that makes the broker redeliver what is already committed).
fn crash_point_after_commit() {
    if cfg!(debug_assertions) && std::env::var_os("CLOUD_BRIDGE_TEST_CRASH_AFTER_COMMIT").is_some()
    {
        tracing::error!("test fault: dying after a commit, before its acks");
        std::process::abort();
    }
}

/// Records a presence or health message (acked with its batch, recorded or not).
async fn record_state(store: &Store, p: &Publish, dt: &DeviceTopic) {
    let t = String::from_utf8_lossy(&p.topic);
    let message: serde_json::Value = match serde_json::from_slice(&p.payload) {
        Ok(v) => v,
        Err(_) if p.payload.is_empty() => serde_json::Value::Null,
        Err(e) => {
            tracing::warn!(topic = %t, "unreadable presence/health ignored: {e}");
            return;
        }
    };
    let health = dt.kind == TopicKind::Health;
    match store
        .record_device_state(&dt.tenant, &dt.store, &dt.device, health, &message)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(topic = %t, "presence/health of an unregistered device or path ignored")
        }
        Err(e) => tracing::warn!(topic = %t, "presence/health not recorded: {e}"),
    }
}

//! The store-and-forward loop: outbox rows → QoS 1 publishes, PUBACK → acked in SQLite;
//! downlink → inbox, acked to the broker only after the commit.
//!
//! The outbox is the only queue. rumqttc keeps in-flight publishes in memory and drops them when a
//! session is lost, so after every disconnect the client's own pending requests are discarded and
//! everything not acked is read again from SQLite. Publishes are matched to rows through the
//! order of `Outgoing::Publish(pkid)` events (requests leave in the order they were given) and
//! then by packet id to the PUBACK, whose v5 reason code is checked.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use kiosk_config::{Station, SyncSettings};
use kiosk_store::{StationIdentity, Store, SyncState};
use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{ConnAck, Packet, PubAck, PubAckReason, Publish};
use rumqttc::v5::{AsyncClient, ConnectionError, Event, EventLoop, StateError};
use serde_json::{Map, Value, json};

use crate::backoff::Backoff;
use crate::downlink;
use crate::mqtt::presence;
use crate::topics::Topics;

/// A request handed to the client, waiting for its `Outgoing::Publish(pkid)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tracked {
    /// An outbox row.
    Outbox(i64),
    /// Presence or health: nothing to record.
    Other,
}

/// The agent's state between events.
pub struct Agent {
    store: Store,
    client: AsyncClient,
    station: Station,
    identity: StationIdentity,
    topics: Topics,
    settings: SyncSettings,
    connected: bool,
    /// Highest outbox seq handed to the client during this connection.
    cursor: i64,
    /// Requests handed to the client, in order, before their packet id is known.
    fifo: VecDeque<Tracked>,
    /// Packet id → request, awaiting PUBACK.
    inflight: HashMap<u16, Tracked>,
    /// Outbox rows in `fifo` or `inflight`.
    outbox_in_flight: usize,
    /// PUBACKed rows not yet committed as acked.
    acks: Vec<i64>,
    /// When refused events may be offered again.
    retry_at: Option<Instant>,
    broker_max_packet: Option<u32>,
    backoff: Backoff,
    /// Delay before refused events are offered again; grows while refusals go on.
    hold_backoff: Backoff,
    /// Quarantined events at the last look.
    quarantined: i64,
    state: SyncState,
    state_saved: Instant,
    receipts_checked: Instant,
    /// What systemd was last told.
    systemd_status: String,
}

impl Agent {
    /// An agent for this station, on an open store and a client whose event loop the caller polls.
    pub fn new(station: Station, store: Store, client: AsyncClient) -> Self {
        let s = &station.config.station;
        let identity = StationIdentity {
            tenant: s.tenant.clone(),
            store_id: s.store_id.clone(),
            device_id: s.device_id.clone(),
        };
        let settings = station.config.sync.clone();
        Self {
            topics: Topics::new(&identity),
            backoff: Backoff::new(
                Duration::from_millis(settings.backoff_initial_ms),
                Duration::from_secs(settings.backoff_max_s),
            ),
            hold_backoff: Backoff::new(
                Duration::from_millis(settings.backoff_initial_ms * 4),
                Duration::from_secs(settings.backoff_max_s),
            ),
            quarantined: 0,
            state: SyncState {
                pid: i64::from(std::process::id()),
                ..SyncState::default()
            },
            store,
            client,
            station,
            identity,
            settings,
            connected: false,
            cursor: 0,
            fifo: VecDeque::new(),
            inflight: HashMap::new(),
            outbox_in_flight: 0,
            acks: Vec::new(),
            retry_at: None,
            broker_max_packet: None,
            state_saved: Instant::now(),
            receipts_checked: Instant::now(),
            systemd_status: String::new(),
        }
    }

    /// Runs until `shutdown` resolves, then leaves cleanly (offline presence, DISCONNECT).
    pub async fn run(mut self, mut eventloop: EventLoop, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        self.save_state();
        let mut tick = tokio::time::interval(Duration::from_millis(self.settings.poll_interval_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut health =
            tokio::time::interval(Duration::from_secs(self.settings.health_interval_s));
        health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // systemd's watchdog is fed from this loop (not a task beside it), so a loop that stops
        // turning is restarted; also while waiting to reconnect.
        let mut watchdog = kiosk_service::Watchdog::from_env();
        let mut dog = tokio::time::interval(watchdog.every().unwrap_or(Duration::from_secs(3600)));
        dog.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        kiosk_service::notify_ready(&format!(
            "store open; connecting to {}:{}",
            self.station.config.broker.host, self.station.config.broker.port
        ));
        loop {
            // The poll future is never cancelled: ticks are served beside it until it yields.
            let polled = {
                let poll = eventloop.poll();
                tokio::pin!(poll);
                loop {
                    tokio::select! {
                        biased;
                        () = &mut shutdown => break None,
                        r = &mut poll => break Some(r),
                        _ = tick.tick() => self.on_tick(),
                        _ = health.tick() => self.on_health(),
                        _ = dog.tick() => { watchdog.feed(); }
                    }
                }
            };
            match polled {
                None => return self.leave(&mut eventloop).await,
                Some(Ok(event)) => self.on_event(event),
                Some(Err(e)) => {
                    // Whatever rumqttc kept for replay is stale: the outbox will be read again.
                    eventloop.pending.clear();
                    let delay = self.on_disconnect(&e);
                    let wait = tokio::time::sleep(delay);
                    tokio::pin!(wait);
                    loop {
                        tokio::select! {
                            () = &mut shutdown => return self.leave(&mut eventloop).await,
                            () = &mut wait => break,
                            _ = dog.tick() => { watchdog.feed(); }
                        }
                    }
                }
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Incoming(Packet::ConnAck(ack)) => self.on_connected(&ack),
            Event::Incoming(Packet::PubAck(ack)) => self.on_puback(&ack),
            Event::Incoming(Packet::Publish(p)) => self.on_downlink(&p),
            Event::Incoming(Packet::Disconnect(d)) => {
                self.state.last_error = Some(format!(
                    "the broker closed the connection: {:?}",
                    d.reason_code
                ));
            }
            Event::Outgoing(Outgoing::Publish(pkid)) => match self.fifo.pop_front() {
                Some(t) if pkid != 0 => {
                    self.inflight.insert(pkid, t);
                }
                Some(_) => {}
                None => tracing::warn!(pkid, "publish that the agent did not make"),
            },
            _ => {}
        }
        if self.outbox_in_flight <= self.settings.window / 2 {
            self.refill();
        }
        if self.acks.len() >= self.settings.window / 2 {
            self.flush_acks();
        }
    }

    fn on_connected(&mut self, ack: &ConnAck) {
        let props = ack.properties.as_ref();
        self.broker_max_packet = props.and_then(|p| p.max_packet_size);
        tracing::info!(
            session_present = ack.session_present,
            max_packet = ?self.broker_max_packet,
            "connected to {}:{}",
            self.station.config.broker.host,
            self.station.config.broker.port
        );
        if self.station.tls.is_none() && !self.station.config.broker.is_loopback() {
            tracing::warn!(
                "plain MQTT to {}: candidates' data crosses the network unencrypted (insecure_plaintext = true); configure TLS",
                self.station.config.broker.host
            );
        }
        self.connected = true;
        self.backoff.reset();
        self.forget_in_flight();
        if let Err(e) = self
            .client
            .try_subscribe(self.topics.downlink_filter(), QoS::AtLeastOnce)
        {
            tracing::error!("cannot subscribe to downlink: {e}");
        }
        self.publish_other(
            self.topics.status(),
            QoS::AtLeastOnce,
            true,
            presence(&self.station, "online", "connected"),
        );
        self.state.connected = true;
        self.state.last_error = None;
        self.state.last_connected_at = Some(now());
        self.save_state();
        self.tell_systemd(format!(
            "connected to {}:{}",
            self.station.config.broker.host, self.station.config.broker.port
        ));
        self.refill();
    }

    /// A new connection starts from scratch: nothing handed to the client before it counts, and
    /// every unacked outbox row is offered again from the first one.
    fn forget_in_flight(&mut self) {
        self.fifo.clear();
        self.inflight.clear();
        self.outbox_in_flight = 0;
        self.cursor = 0;
    }

    fn on_puback(&mut self, ack: &PubAck) {
        match self.inflight.remove(&ack.pkid) {
            Some(Tracked::Outbox(seq)) => {
                self.outbox_in_flight = self.outbox_in_flight.saturating_sub(1);
                match ack.reason {
                    PubAckReason::Success => {
                        self.acks.push(seq);
                        self.hold_backoff.reset();
                    }
                    // The event's own fault: counted, and set aside after `max_attempts`.
                    reason @ (PubAckReason::TopicNameInvalid
                    | PubAckReason::PayloadFormatInvalid) => {
                        self.refuse(seq, &format!("broker refused the event: {reason:?}"));
                    }
                    // The broker's or the ACL's problem, not the event's: kept, and offered again
                    // after a delay that grows while the refusals go on.
                    PubAckReason::NoMatchingSubscribers => self.hold(
                        "no cloud subscriber is listening yet; events are kept and sent again",
                    ),
                    PubAckReason::NotAuthorized => self.hold(
                        "broker refused the event: NotAuthorized — its ACL does not let this device write here (the client certificate's CN must be this station's tenant/store_id/device_id); events are kept and sent again",
                    ),
                    reason => self.hold(&format!(
                        "broker refused the event: {reason:?}; events are kept and sent again"
                    )),
                }
            }
            Some(Tracked::Other) => {}
            None => tracing::warn!(
                pkid = ack.pkid,
                "PUBACK for a packet the agent does not track"
            ),
        }
    }

    fn on_downlink(&mut self, p: &Publish) {
        let topic = String::from_utf8_lossy(&p.topic).to_string();
        if self.topics.downlink_kind(&topic) == Some(kiosk_protocol::downlink_kind::RECEIPT) {
            return self.on_receipt(p);
        }
        let parsed = match self.topics.downlink_kind(&topic) {
            Some(kind) => downlink::parse(kind, &p.payload),
            None => Err(format!("not a downlink topic of this device: {topic}")),
        }
        .and_then(|d| self.check_version(&d).map(|()| d))
        .and_then(|d| downlink::forget_request(&d).map(|f| (d, f)));
        let stored = match parsed {
            Ok((d, forget)) => self.apply_downlink(&d, forget.as_ref()),
            Err(reason) => {
                tracing::warn!(%topic, %reason, "rejected downlink message");
                let mut body = Map::new();
                body.insert("topic".into(), Value::from(topic.clone()));
                body.insert("reason".into(), Value::from(reason));
                // The first bytes help only when the message is not JSON; a readable roster or
                // deletion request would copy a candidate's name into a report no deletion finds.
                let excerpt = if serde_json::from_slice::<Value>(&p.payload).is_ok() {
                    String::new()
                } else {
                    String::from_utf8_lossy(&p.payload[..p.payload.len().min(200)]).to_string()
                };
                body.insert("excerpt".into(), Value::from(excerpt));
                self.store
                    .enqueue_event(&self.identity, "downlink_rejected", body)
                    .map(drop)
            }
        };
        match stored {
            // Committed: now the broker may forget it.
            Ok(()) => {
                if let Err(e) = self.client.try_ack(p) {
                    tracing::error!("cannot ack downlink: {e}");
                }
            }
            // Not acked: the broker delivers it again after the next reconnect.
            Err(e) => {
                tracing::error!(%topic, "downlink not stored, will be redelivered: {e}");
                self.state.last_error = Some(format!("cannot store a downlink message: {e}"));
            }
        }
    }

    /// Refuses a version absurdly far ahead of the one held (more than `max_version_jump`; for a
    /// first document, more than [`downlink::MAX_FIRST_VERSION`]): stored, it would pin the
    /// document, since only a newer version replaces it.
    fn check_version(&self, d: &downlink::Downlink) -> Result<(), String> {
        let held = match self.store.inbox_get(&d.kind, &d.key) {
            Ok(held) => held.map(|(v, _)| v),
            // Not decided here: storing it fails the same way and the broker redelivers it.
            Err(_) => return Ok(()),
        };
        let limit = held.map_or(downlink::MAX_FIRST_VERSION, |v| {
            v.saturating_add(self.settings.max_version_jump)
        });
        if d.version > limit {
            return Err(format!(
                "version {} of {} `{}` is too far ahead of the version held ({}): at most {limit} is accepted",
                d.version,
                d.kind,
                d.key,
                held.map_or("none".to_string(), |v| v.to_string())
            ));
        }
        Ok(())
    }

    /// Stores a valid downlink message; a deletion request is carried out first (in its own
    /// transaction, with its `deletion_completed` event), so the inbox records only what was done.
    fn apply_downlink(
        &mut self,
        d: &downlink::Downlink,
        forget: Option<&kiosk_store::ForgetRequest>,
    ) -> Result<(), kiosk_store::StoreError> {
        if let Some(f) = forget {
            let done = self.store.forget(&self.identity, f)?;
            if !done.wal_truncated {
                tracing::warn!(
                    request = done.request_id,
                    "another process was reading the database: its log is emptied at the next checkpoint"
                );
            }
        }
        let outcome = self
            .store
            .inbox_apply(&d.kind, &d.key, d.version, &d.payload)?;
        tracing::info!(
            kind = d.kind,
            key = d.key,
            version = d.version,
            ?outcome,
            "downlink"
        );
        Ok(())
    }

    /// The cloud committed these events: they are delivered. Acked to the broker after the
    /// commit; a receipt that cannot be read is dropped (the events are simply sent again).
    fn on_receipt(&mut self, p: &Publish) {
        let committed = match serde_json::from_slice::<kiosk_protocol::Receipt>(&p.payload) {
            Ok(r) => self.store.outbox_mark_delivered(&r.event_ids).map(|n| {
                tracing::debug!(events = r.event_ids.len(), newly = n, "receipt");
            }),
            Err(e) => {
                tracing::warn!("unreadable receipt ignored: {e}");
                Ok(())
            }
        };
        match committed {
            Ok(()) => {
                if let Err(e) = self.client.try_ack(p) {
                    tracing::error!("cannot ack a receipt: {e}");
                }
            }
            Err(e) => tracing::error!("receipt not recorded, will be redelivered: {e}"),
        }
    }

    /// Sent events whose receipt is overdue are offered again (same ids: the cloud applies
    /// each once). Covers a broker that acknowledged and then lost them.
    fn resend_unconfirmed(&mut self) {
        self.receipts_checked = Instant::now();
        match self.store.outbox_resend_unconfirmed(
            chrono::Local::now().fixed_offset(),
            self.settings.receipt_timeout_s,
            self.settings.receipt_timeout_max_s,
        ) {
            Ok(seqs) if !seqs.is_empty() => {
                tracing::warn!(
                    events = seqs.len(),
                    "no receipt from the cloud in time: publishing again"
                );
                self.retry_later();
            }
            Ok(_) => {}
            Err(e) => tracing::error!("cannot check for overdue receipts: {e}"),
        }
    }

    /// Quarantined events put back by `sync-agent release` sit behind the cursor: when the
    /// quarantine shrinks, everything unacked is offered again from the first row.
    fn notice_released(&mut self) {
        let Ok(now) = self.store.outbox_backlog().map(|b| b.quarantined) else {
            return;
        };
        if now < self.quarantined {
            tracing::info!(
                released = self.quarantined - now,
                "quarantined events released"
            );
            self.retry_at = Some(Instant::now());
        }
        self.quarantined = now;
    }

    /// Counts a refusal; quarantines the event after `max_attempts` so it stops blocking the queue.
    fn refuse(&mut self, seq: i64, reason: &str) {
        tracing::warn!(seq, reason, "event refused");
        self.state.last_error = Some(reason.to_string());
        let attempts = match self.store.outbox_record_failure(seq, reason) {
            Ok(n) => n,
            Err(e) => return tracing::error!("cannot record a refusal: {e}"),
        };
        if attempts >= self.settings.max_attempts {
            let result = self.store.outbox_quarantine(seq, reason).and_then(|q| {
                // A report is never reported: a refused report would breed another.
                let Some((event_id, event_type)) =
                    q.filter(|(_, t)| t != kiosk_protocol::event_type::EVENT_QUARANTINED)
                else {
                    return Ok(());
                };
                let body = kiosk_protocol::EventQuarantinedBody {
                    seq,
                    event_id: Some(event_id),
                    event_type: Some(event_type),
                    reason: reason.to_string(),
                    attempts,
                };
                let body = match serde_json::to_value(body) {
                    Ok(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                self.store
                    .enqueue_event(
                        &self.identity,
                        kiosk_protocol::event_type::EVENT_QUARANTINED,
                        body,
                    )
                    .map(drop)
            });
            match result {
                Ok(()) => tracing::error!(seq, attempts, reason, "event quarantined"),
                Err(e) => tracing::error!("cannot quarantine event {seq}: {e}"),
            }
        } else {
            self.retry_later();
        }
    }

    /// A refusal that is not the event's fault: the event stays in the queue, `status` says why,
    /// and everything unacked is offered again after a growing delay.
    fn hold(&mut self, reason: &str) {
        if self.state.last_error.as_deref() != Some(reason) {
            tracing::warn!(reason, "events held back");
        }
        self.state.last_error = Some(reason.to_string());
        self.retry_later();
    }

    /// Offers every unacked event again once nothing is in flight and a delay has passed; the
    /// delay doubles with each refusal in a row (full jitter), up to `backoff_max_s`.
    fn retry_later(&mut self) {
        if self.retry_at.is_some() {
            return;
        }
        self.retry_at = Some(Instant::now() + self.hold_backoff.next_delay());
    }

    /// Hands unsent outbox rows to the client, up to the window.
    fn refill(&mut self) {
        if !self.connected {
            return;
        }
        let room = self.settings.window.saturating_sub(self.outbox_in_flight);
        if room == 0 {
            return;
        }
        let rows = match self.store.outbox_pending(self.cursor, room) {
            Ok(rows) => rows,
            Err(e) => return tracing::error!("cannot read the outbox: {e}"),
        };
        for ev in rows {
            let size = ev.payload.len() + ev.topic.len() + 16;
            if let Some(max) = self.broker_max_packet.filter(|m| size > *m as usize) {
                self.cursor = ev.seq;
                self.refuse(ev.seq, &format!("event of about {size} bytes is over the broker's maximum packet size of {max} bytes"));
                continue;
            }
            match self
                .client
                .try_publish(ev.topic, QoS::AtLeastOnce, false, ev.payload)
            {
                Ok(()) => {
                    self.cursor = ev.seq;
                    self.fifo.push_back(Tracked::Outbox(ev.seq));
                    self.outbox_in_flight += 1;
                }
                Err(e) => {
                    tracing::debug!("client queue full, later: {e}");
                    break;
                }
            }
        }
    }

    fn publish_other(&mut self, topic: String, qos: QoS, retain: bool, payload: String) {
        match self.client.try_publish(topic, qos, retain, payload) {
            Ok(()) => self.fifo.push_back(Tracked::Other),
            Err(e) => tracing::warn!("cannot publish presence/health: {e}"),
        }
    }

    fn flush_acks(&mut self) {
        if self.acks.is_empty() {
            return;
        }
        match self.store.outbox_mark_acked_many(&self.acks) {
            Ok(_) => {
                self.acks.clear();
                self.state.last_publish_at = Some(now());
                if self.state_saved.elapsed() >= Duration::from_secs(1) {
                    self.save_state();
                }
            }
            // Kept: committed on a later tick; if the agent dies first the events are sent again (same ids).
            Err(e) => tracing::error!("cannot record acknowledgements yet: {e}"),
        }
    }

    fn on_tick(&mut self) {
        self.flush_acks();
        if self.connected && self.receipts_checked.elapsed() >= Duration::from_secs(1) {
            self.resend_unconfirmed();
            self.notice_released();
        }
        if self.retry_at.is_some_and(|t| Instant::now() >= t) && self.outbox_in_flight == 0 {
            self.retry_at = None;
            self.cursor = 0;
        }
        self.refill();
    }

    fn on_health(&mut self) {
        self.save_state();
        if !self.connected {
            return;
        }
        // What configuration the device holds, by document: the cloud resends a pushed version
        // until it shows here.
        let config_versions: Map<String, Value> = match self.store.inbox_list("config") {
            Ok(docs) => docs
                .into_iter()
                .map(|(key, v, _, _)| (key, json!(v)))
                .collect(),
            Err(e) => return tracing::error!("cannot read the configuration versions: {e}"),
        };
        // Rosters held, by candidate: the cloud resends a roster version until it shows here.
        let roster_versions: Map<String, Value> = match self.store.inbox_list("roster") {
            Ok(docs) => docs
                .into_iter()
                .map(|(key, v, _, _)| (key, json!(v)))
                .collect(),
            Err(e) => return tracing::error!("cannot read the roster versions: {e}"),
        };
        // Interviews older than the retention period the cloud still does not have: kept (never
        // purged before delivery), and central IT should know.
        let days = i64::from(self.station.config.kiosk.personal_data_days);
        let cutoff = chrono::Local::now().fixed_offset() - chrono::Duration::days(days);
        let late = self.store.undelivered_before(cutoff).unwrap_or(0);
        // The box's last `kiosk check` (models, devices, database, disk …) and the disk now.
        let check = match self.store.box_check() {
            Ok(Some((at, summary))) => json!({"at": at, "summary": summary}),
            Ok(None) => Value::Null,
            Err(e) => json!({"error": e.to_string()}),
        };
        let disk_free_mb = kiosk_service::free_bytes(&self.station.data_dir)
            .ok()
            .map(|b| b / (1024 * 1024));
        let body = match self.store.outbox_backlog() {
            Ok(b) => json!({
                "undelivered_past_retention": late,
                "check": check,
                "disk_free_mb": disk_free_mb,
                "config_versions": config_versions,
                "roster_versions": roster_versions,
                "device": self.identity.device_id,
                "backlog": b.pending,
                "oldest_unsent_age_s": b.oldest_age_s(chrono::Local::now().fixed_offset()),
                "quarantined": b.quarantined,
                "unconfirmed": b.unconfirmed,
                "oldest_unconfirmed_age_s": b.oldest_unconfirmed_age_s(chrono::Local::now().fixed_offset()),
                "last_publish_at": self.state.last_publish_at,
                "connected_since": self.state.last_connected_at,
                "app_version": env!("CARGO_PKG_VERSION"),
                "at": now(),
            }),
            Err(e) => return tracing::error!("cannot read the backlog: {e}"),
        };
        self.publish_other(
            self.topics.health(),
            QoS::AtMostOnce,
            true,
            body.to_string(),
        );
    }

    fn on_disconnect(&mut self, e: &ConnectionError) -> Duration {
        self.flush_acks();
        let message = explain(e, &self.station);
        if self.connected {
            tracing::warn!("disconnected: {message}");
        } else {
            tracing::warn!("cannot connect: {message}");
        }
        self.connected = false;
        self.forget_in_flight();
        self.state.connected = false;
        self.tell_systemd(format!("offline: {message}"));
        self.state.last_error = Some(message);
        self.save_state();
        self.backoff.next_delay()
    }

    async fn leave(&mut self, eventloop: &mut EventLoop) {
        tracing::info!("shutting down");
        kiosk_service::notify_stopping();
        self.flush_acks();
        if self.connected {
            self.publish_other(
                self.topics.status(),
                QoS::AtLeastOnce,
                true,
                presence(&self.station, "offline", "shutdown"),
            );
            let _ = self.client.try_disconnect();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
            while let Ok(Ok(event)) = tokio::time::timeout_at(deadline, eventloop.poll()).await {
                match event {
                    Event::Outgoing(Outgoing::Disconnect) => break,
                    other => self.on_event(other),
                }
            }
            self.flush_acks();
        }
        self.state.connected = false;
        self.save_state();
    }

    /// The status line of `systemctl status`, sent when it changes.
    fn tell_systemd(&mut self, status: String) {
        if self.systemd_status != status {
            kiosk_service::notify_status(&status);
            self.systemd_status = status;
        }
    }

    fn save_state(&mut self) {
        self.state_saved = Instant::now();
        if let Err(e) = self.store.write_sync_state(&self.state) {
            tracing::error!("cannot record the agent's state: {e}");
        }
    }
}

fn now() -> String {
    chrono::Local::now().fixed_offset().to_rfc3339()
}

/// A connection error in words a store manager or technician can act on.
fn explain(e: &ConnectionError, station: &Station) -> String {
    let b = &station.config.broker;
    let at = format!("{}:{}", b.host, b.port);
    match e {
        ConnectionError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("broker {at} refused the connection: is it running, and is the port right?")
        }
        ConnectionError::Io(io) => format!("network error talking to {at}: {io}"),
        ConnectionError::Tls(t) => {
            format!(
                "TLS with {at} failed: {t} — check that broker.ca_file signed the broker's certificate and that this device's certificate is valid"
            )
        }
        ConnectionError::ConnectionRefused(code) => {
            format!("broker {at} refused this device: {code:?}")
        }
        ConnectionError::Timeout(_) => format!("no answer from {at} within 10 s"),
        ConnectionError::MqttState(StateError::AwaitPingResp) => {
            format!("{at} stopped answering (keep-alive expired)")
        }
        ConnectionError::MqttState(StateError::Io(io))
            if io.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            format!(
                "{at} closed the connection (a TLS certificate it does not accept, or the broker stopped)"
            )
        }
        other if other.to_string().contains("fatal alert") => format!(
            "{at} rejected this device's TLS certificate ({other}): check that broker.cert_file and key_file were issued by the fleet CA and have not expired"
        ),
        other => format!("{at}: {other}"),
    }
}

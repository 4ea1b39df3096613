//! The cloud side for tests: an MQTT v5 subscriber with a persistent session that records the
//! `event_id` of every event it receives (duplicates kept), and can publish downlink messages.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::Packet;
use rumqttc::v5::{AsyncClient, Event, MqttOptions};

/// A running cloud subscriber.
#[derive(Debug)]
pub struct Cloud {
    received: Arc<Mutex<Vec<(String, String, Instant)>>>,
    client: AsyncClient,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Cloud {
    /// Subscribes to `kiosk/v1/#` on the broker at `port` with a persistent session, and keeps
    /// re-subscribing whenever the broker has lost that session.
    pub fn start(port: u16) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let mut o = MqttOptions::new("cloud-ingest", "127.0.0.1", port);
        o.set_keep_alive(Duration::from_secs(5))
            .set_clean_start(false)
            .set_session_expiry_interval(Some(3600));
        let (client, mut eventloop) = AsyncClient::new(o, 64);
        let received = Arc::new(Mutex::new(Vec::new()));
        let (rx, sub) = (received.clone(), client.clone());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        runtime.spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                        if !ack.session_present {
                            let _ = sub
                                .subscribe("kiosk/v1/+/+/+/events/#", QoS::AtLeastOnce)
                                .await;
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let v: serde_json::Value =
                            serde_json::from_slice(&p.payload).unwrap_or_default();
                        let id = v["event_id"].as_str().unwrap_or("").to_string();
                        let kind = v["type"].as_str().unwrap_or("").to_string();
                        rx.lock().expect("lock").push((id, kind, Instant::now()));
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("cloud subscribed");
        Self {
            received,
            client,
            runtime: Some(runtime),
        }
    }

    /// Every event id received, in order, duplicates included.
    pub fn ids(&self) -> Vec<String> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .map(|(id, _, _)| id.clone())
            .collect()
    }

    /// Event ids of one type, in order.
    pub fn ids_of(&self, kind: &str) -> Vec<String> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .filter(|(_, k, _)| k == kind)
            .map(|(id, _, _)| id.clone())
            .collect()
    }

    /// When each id was first received.
    pub fn first_arrivals(&self) -> std::collections::HashMap<String, Instant> {
        let mut out = std::collections::HashMap::new();
        for (id, _, at) in self.received.lock().expect("lock").iter() {
            out.entry(id.clone()).or_insert(*at);
        }
        out
    }

    /// Distinct ids received, in order of first arrival.
    pub fn unique(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.ids()
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .collect()
    }

    /// Publishes a downlink message (QoS 1), optionally retained.
    pub fn send(&self, topic: &str, payload: &[u8], retain: bool) {
        let (client, topic, payload) = (self.client.clone(), topic.to_string(), payload.to_vec());
        self.runtime
            .as_ref()
            .expect("runtime")
            .block_on(async move {
                client
                    .publish(topic, QoS::AtLeastOnce, retain, payload)
                    .await
            })
            .expect("queued");
    }
}

impl Drop for Cloud {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

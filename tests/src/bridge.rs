//! The cloud side for system tests: `cloud-bridge` instances started on free ports against a
//! private PostgreSQL and a test broker, a blocking HTTP client for the HR API, and a real
//! webhook receiver that verifies Standard Webhooks signatures.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::binary;
use crate::broker::free_port;

/// A tenant's API token in the test configuration (and the other tenant's).
pub const TOKEN: &str = "acme-hr-token-0123456789abcdef";
/// The other tenant's token.
pub const OTHER_TOKEN: &str = "globex-hr-token-0123456789abcdef";
/// The webhook secret of the tenant.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Writes a `cloud.toml` for one instance and returns its path and API port.
pub fn config(
    dir: &Path,
    name: &str,
    db_url: &str,
    broker_port: u16,
    webhook_port: u16,
    extra: &str,
) -> (PathBuf, u16) {
    let api = free_port();
    let text = format!(
        r#"[database]
url = "{db_url}"
max_connections = 4

[broker]
host = "127.0.0.1"
port = {broker_port}
client_id = "{name}"
share_group = "hr"
downlink_resend_s = 2

[api]
listen = "127.0.0.1:{api}"

[webhooks]
retry_schedule_s = [0.5, 0.5, 1, 1, 2]
jitter = 0.1
timeout_s = 2
poll_ms = 50
{extra}
[[tenant]]
id = "acme-retail"
[[tenant.token]]
user = "lin"
token = "{TOKEN}"
[tenant.webhook]
url = "http://127.0.0.1:{webhook_port}/hooks"
secret = "{SECRET}"

[[tenant]]
id = "globex"
[[tenant.token]]
user = "mo"
token = "{OTHER_TOKEN}"
"#
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write cloud.toml");
    (path, api)
}

/// Adds `toml` to the end of the `acme-retail` tenant's section of a file made by [`config`]
/// (e.g. its `[tenant.roster]`), and `top` before the tenants (e.g. a `[[rule_pack]]`).
pub fn with_acme(config: &Path, top: &str, toml: &str) {
    let text = std::fs::read_to_string(config).expect("cloud.toml");
    let text = text
        .replacen(
            "[[tenant]]\nid = \"acme-retail\"",
            &format!("{top}\n[[tenant]]\nid = \"acme-retail\""),
            1,
        )
        .replacen(
            "[[tenant]]\nid = \"globex\"",
            &format!("{toml}\n[[tenant]]\nid = \"globex\""),
            1,
        );
    std::fs::write(config, text).expect("write cloud.toml");
}

/// Runs a `cloud-bridge` command to completion and returns its stdout (asserting success).
pub fn cli(config: &Path, args: &[&str]) -> String {
    let out = Command::new(binary("cloud-bridge"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("cloud-bridge runs");
    assert!(
        out.status.success(),
        "cloud-bridge {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running `cloud-bridge run`, killed when dropped.
#[derive(Debug)]
pub struct Bridge {
    /// Its HR API port.
    pub api: u16,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

/// Registers a device of the test tenant's store (`cloud-bridge devices add`).
pub fn register(config: &Path, device: &str) {
    cli(
        config,
        &[
            "devices",
            "add",
            "--tenant",
            "acme-retail",
            "--store",
            "sh-pudong-001",
            "--device",
            device,
        ],
    );
}

impl Bridge {
    /// Starts `cloud-bridge run` with this configuration, logging to `log`.
    pub fn start(config: &Path, api: u16, log: &Path) -> Self {
        let mut b = Self {
            api,
            config: config.to_path_buf(),
            log: log.to_path_buf(),
            child: None,
        };
        b.resume();
        b
    }

    /// Starts it again after [`Bridge::kill`].
    pub fn resume(&mut self) {
        self.spawn(false);
    }

    /// Starts it again so that it dies after its first commit, before acking anything (a debug
    /// build's fault point); [`Bridge::wait_exit`] waits for that.
    pub fn resume_crashing_after_commit(&mut self) {
        self.spawn(true);
    }

    /// Waits until the process has exited on its own.
    pub fn wait_exit(&mut self, within: Duration) {
        let child = self.child.as_mut().expect("running");
        crate::wait_until("the bridge exits", within, || {
            (child.try_wait().expect("wait").is_some(), ())
        });
        self.child = None;
    }

    fn spawn(&mut self, crash_after_commit: bool) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("bridge log");
        let child = Command::new(binary("cloud-bridge"))
            .arg("--config")
            .arg(&self.config)
            .arg("run")
            .env("RUST_LOG", "info,cloud_bridge=debug")
            // As cloud-bridge.service runs it (what cloud-bench measures is what ships).
            .env("MALLOC_ARENA_MAX", "2")
            .envs(crash_after_commit.then_some(("CLOUD_BRIDGE_TEST_CRASH_AFTER_COMMIT", "1")))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("cloud-bridge starts");
        self.child = Some(child);
        crate::wait_until("the HR API answers", Duration::from_secs(60), || {
            let ok = reqwest::blocking::get(format!("http://127.0.0.1:{}/healthz", self.api))
                .is_ok_and(|r| r.status().is_success());
            (ok, ())
        });
    }

    /// SIGKILL: no chance to ack or commit anything more.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// GET with a bearer token: (status, JSON body).
    pub fn get(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        let r = reqwest::blocking::Client::new()
            .get(format!("http://127.0.0.1:{}{path}", self.api))
            .bearer_auth(token)
            .send()
            .expect("GET");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(serde_json::Value::Null))
    }

    /// POST JSON with a bearer token: (status, JSON body).
    pub fn post(
        &self,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let r = reqwest::blocking::Client::new()
            .post(format!("http://127.0.0.1:{}{path}", self.api))
            .bearer_auth(token)
            .json(body)
            .send()
            .expect("POST");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(serde_json::Value::Null))
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// `webhook-id`.
    pub id: String,
    /// The signature verified against the secret.
    pub verified: bool,
    /// What the receiver answered.
    pub answered: u16,
    /// The body.
    pub body: serde_json::Value,
    /// When it arrived.
    pub at: std::time::Instant,
}

/// A real HTTP webhook receiver: verifies each signature, answers 500 to the first `fail_first`
/// requests and 200 after.
#[derive(Debug)]
pub struct Receiver {
    /// Its port.
    pub port: u16,
    got: Arc<Mutex<Vec<Delivery>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Receiver {
    /// Listens on `port` (0: a free one).
    pub fn start(port: u16, fail_first: usize) -> Self {
        use axum::http::{HeaderMap, StatusCode};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind receiver");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let port = std_listener.local_addr().expect("addr").port();
        let got: Arc<Mutex<Vec<Delivery>>> = Arc::default();
        let g = got.clone();
        let verifier = Arc::new(standardwebhooks::Webhook::new(SECRET).expect("secret"));
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let g = g.clone();
                let verified = verifier.verify(&body, &headers).is_ok();
                async move {
                    let mut got = g.lock().expect("lock");
                    let answered = if got.len() < fail_first { 500 } else { 200 };
                    got.push(Delivery {
                        id: headers
                            .get("webhook-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string(),
                        verified,
                        answered,
                        body: serde_json::from_slice(&body).unwrap_or_default(),
                        at: std::time::Instant::now(),
                    });
                    StatusCode::from_u16(answered).expect("status")
                }
            }),
        );
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
            let _ = axum::serve(listener, app).await;
        });
        Self {
            port,
            got,
            runtime: Some(runtime),
        }
    }

    /// Every request so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.got.lock().expect("lock").clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Publishes raw messages as a device would (QoS 1), and collects the receipts it gets.
#[derive(Debug)]
pub struct RawDevice {
    client: rumqttc::v5::AsyncClient,
    /// Event ids named in the receipts it got.
    pub receipts: Arc<Mutex<Vec<String>>>,
    runtime: tokio::runtime::Runtime,
}

impl RawDevice {
    /// Connects as `raw-{device}` (beside the device's own agent) and subscribes to the
    /// device's receipts.
    pub fn connect(port: u16, device: &str) -> Self {
        use rumqttc::v5::mqttbytes::QoS;
        use rumqttc::v5::mqttbytes::v5::Packet;
        use rumqttc::v5::{AsyncClient, Event, MqttOptions};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("rt");
        let (client, mut el) = AsyncClient::new(
            MqttOptions::new(format!("raw-{device}"), "127.0.0.1", port),
            64,
        );
        let receipts: Arc<Mutex<Vec<String>>> = Default::default();
        let (r, c) = (receipts.clone(), client.clone());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let filter = format!("kiosk/v1/acme-retail/sh-pudong-001/{device}/down/receipt");
        runtime.spawn(async move {
            loop {
                match el.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = c.subscribe(filter.clone(), QoS::AtLeastOnce).await;
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if let Ok(rc) =
                            serde_json::from_slice::<kiosk_protocol::Receipt>(&p.payload)
                        {
                            r.lock().expect("lock").extend(rc.event_ids);
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("subscribed");
        Self {
            client,
            receipts,
            runtime,
        }
    }

    /// Publishes at QoS 1.
    pub fn publish(&self, topic: &str, payload: Vec<u8>) {
        let c = self.client.clone();
        let topic = topic.to_string();
        self.runtime
            .block_on(async move {
                c.publish(
                    topic,
                    rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
                    false,
                    payload,
                )
                .await
            })
            .expect("queued");
    }
}

/// An event of the test device (acme-retail / sh-pudong-001 / `device`) with this body.
pub fn envelope(
    device: &str,
    id: &str,
    kind: &str,
    version: i64,
    body: serde_json::Value,
) -> Vec<u8> {
    let mut v = serde_json::json!({
        "event_id": id, "type": kind, "schema_version": version,
        "occurred_at": "2026-12-03T10:00:00+08:00", "tenant": "acme-retail",
        "store": {"value": "sh-pudong-001", "scheme": "store_id"},
        "device": {"value": device, "scheme": "device_id"},
    });
    for (k, x) in body.as_object().cloned().unwrap_or_default() {
        v[k] = x;
    }
    v.to_string().into_bytes()
}

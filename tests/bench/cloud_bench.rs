//! `cloud-bench`: 200 simulated kiosks (raw MQTT v5 publishers with their own client ids and
//! registered devices, sending the real interview-result payload) publish 20,000 results into
//! Mosquitto; `cloud-bridge` commits them to a private PostgreSQL, with one and then two
//! instances on the shared subscription. Beside it, in the same run, the floor of a
//! commit-per-event design: a plain loop of single-row INSERT + COMMIT into the same database.
//! Then one real sync-agent measures kiosk commit → visible in the HR API and → webhook, and the
//! bridges' peak memory of the ingest; then 20 new hires of a 50-employee store moved to onboarding: status
//! call → roster committed, and → roster in the kiosk's inbox. Prints a table. Not a test.
//!
//! Run: `cargo build --release --workspace --bins && target/release/cloud-bench [RESULTS]`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kiosk_store::Store;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::Packet;
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use serde_json::Value;
use system_tests::bridge::{self, Bridge, Receiver, TOKEN};
use system_tests::broker::Broker;
use system_tests::postgres::Postgres;
use system_tests::sample::{peak_rss_kb, percentile, sample, save};
use system_tests::{FAST_SYNC, configure_broker, start_agent, station, wait_until};

mod roster_phase;

const KIOSKS: usize = 200;

/// The real payload of one saved result, as the kiosk's outbox holds it.
fn template(dir: &std::path::Path) -> Value {
    let (answers, result) = sample();
    let mut store = Store::open(&dir.join("template.db"), &kiosk_store::StoreKey::generate())
        .expect("template store");
    save(&mut store, &answers, &result);
    let payload = store.outbox_pending(0, 1).expect("pending")[0]
        .payload
        .clone();
    serde_json::from_str(&payload).expect("payload")
}

/// `n` results spread over the simulated kiosks: (device, topic, payload).
fn results(template: &Value, n: usize, run: &str) -> Vec<Vec<(String, Vec<u8>)>> {
    let mut per: Vec<Vec<(String, Vec<u8>)>> = vec![Vec::new(); KIOSKS];
    for i in 0..n {
        let k = i % KIOSKS;
        let device = format!("sim-{k:03}");
        let mut v = template.clone();
        v["event_id"] = Value::from(format!("{run}-{i}"));
        v["device"]["value"] = Value::from(device.clone());
        v["interview"]["value"] = Value::from(uuid::Uuid::new_v4().to_string());
        let topic = format!("kiosk/v1/acme-retail/sh-pudong-001/{device}/events/interview_result");
        per[k].push((topic, v.to_string().into_bytes()));
    }
    per
}

/// Publishes every kiosk's results at QoS 1 from its own client; returns when all are PUBACKed.
fn publish_all(port: u16, per: Vec<Vec<(String, Vec<u8>)>>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let mut tasks = Vec::new();
        for (k, msgs) in per.into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let mut o = MqttOptions::new(format!("sim-{k:03}"), "127.0.0.1", port);
                o.set_keep_alive(Duration::from_secs(30))
                    .set_connection_timeout(60);
                let (client, mut el) = AsyncClient::new(o, msgs.len() + 10);
                let want = msgs.len();
                for (topic, payload) in msgs {
                    client
                        .publish(topic, QoS::AtLeastOnce, false, payload)
                        .await
                        .expect("queued");
                }
                let mut acked = 0;
                while acked < want {
                    match el.poll().await {
                        Ok(Event::Incoming(Packet::PubAck(_))) => acked += 1,
                        Ok(_) => {}
                        Err(e) => panic!("simulated kiosk {k}: {e}"),
                    }
                }
                let _ = client.disconnect().await;
            }));
        }
        for t in tasks {
            t.await.expect("publisher");
        }
    });
}

fn count(pg: &Postgres, like: &str) -> usize {
    pg.psql(&format!(
        "SELECT count(*) FROM events WHERE event_id LIKE '{like}-%'"
    ))
    .parse()
    .unwrap_or(0)
}

/// Publishes `n` results and waits until all are committed; returns events per second.
fn ingest_run(pg: &Postgres, port: u16, template: &Value, n: usize, run: &str) -> f64 {
    let per = results(template, n, run);
    let started = Instant::now();
    let publisher = std::thread::spawn(move || publish_all(port, per));
    wait_until("every result committed", Duration::from_secs(900), || {
        let c = count(pg, run);
        (c >= n, c)
    });
    let s = started.elapsed().as_secs_f64();
    publisher.join().expect("publishers");
    n as f64 / s
}

/// The peer: single-row INSERT + COMMIT of the same payloads, one connection.
fn peer_rate(pg: &Postgres, template: &Value, n: usize) -> f64 {
    pg.psql("CREATE TABLE peer_events (event_id text PRIMARY KEY, payload jsonb NOT NULL)");
    let payloads: Vec<String> = results(template, n, "peer")
        .into_iter()
        .flatten()
        .map(|(_, p)| String::from_utf8(p).expect("utf8"))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let url = pg.url();
    rt.block_on(async move {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        let insert = client
            .prepare("INSERT INTO peer_events (event_id, payload) VALUES ($1, $2::text::jsonb)")
            .await
            .expect("prepare");
        let started = Instant::now();
        for (i, p) in payloads.iter().enumerate() {
            client
                .execute(&insert, &[&format!("peer-{i}"), p])
                .await
                .expect("insert");
        }
        n as f64 / started.elapsed().as_secs_f64()
    })
}

/// Kiosk commit → visible in the HR API and → webhook, for `n` results saved one by one.
fn latencies(
    dir: &std::path::Path,
    b: &Bridge,
    receiver: &Receiver,
    n: usize,
) -> (Vec<f64>, Vec<f64>) {
    let (answers, result) = sample();
    let mut store = system_tests::open_store(dir).expect("store");
    let mut committed: HashMap<String, Instant> = HashMap::new();
    let mut api: HashMap<String, Instant> = HashMap::new();
    for _ in 0..n {
        let receipt = save(&mut store, &answers, &result).receipt;
        committed.insert(receipt.clone(), Instant::now());
        wait_until("visible in the HR API", Duration::from_secs(60), || {
            let (_, list) = b.get("/v1/candidates?limit=20", TOKEN);
            let seen = list
                .as_array()
                .is_some_and(|l| l.iter().any(|c| c["receipt"] == receipt.as_str()));
            if seen {
                api.insert(receipt.clone(), Instant::now());
            }
            (seen, ())
        });
        std::thread::sleep(Duration::from_millis(50));
    }
    let hooks = wait_until("every webhook", Duration::from_secs(60), || {
        let d: HashMap<String, Instant> = receiver
            .deliveries()
            .into_iter()
            .filter(|d| d.answered == 200 && d.body["type"] == "candidate.interviewed")
            .filter_map(|d| {
                d.body["data"]["receipt"]
                    .as_str()
                    .map(|r| (r.to_string(), d.at))
            })
            .collect();
        (committed.keys().all(|r| d.contains_key(r)), d)
    });
    let ms = |to: &HashMap<String, Instant>| {
        let mut v: Vec<f64> = committed
            .iter()
            .map(|(r, at)| to[r].saturating_duration_since(*at).as_secs_f64() * 1000.0)
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    (ms(&api), ms(&hooks))
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start(dir.path());
    let broker = Broker::start(
        dir.path(),
        "persistence false\nmax_queued_messages 0\nmax_inflight_messages 0\n",
    );
    let receiver = Receiver::start(0, 0);
    let extra = "";
    let (c1, api1) = bridge::config(
        dir.path(),
        "bridge-1",
        &pg.url(),
        broker.port,
        receiver.port,
        extra,
    );
    let (c2, api2) = bridge::config(
        dir.path(),
        "bridge-2",
        &pg.url(),
        broker.port,
        receiver.port,
        extra,
    );
    for c in [&c1, &c2] {
        bridge::with_acme(c, roster_phase::RULES, roster_phase::ROSTER);
    }
    bridge::cli(&c1, &["migrate"]);
    pg.psql(&format!(
        "INSERT INTO devices (device_id, tenant, store_id, registered_by)
         SELECT 'sim-' || lpad(g::text, 3, '0'), 'acme-retail', 'sh-pudong-001', 'bench'
         FROM generate_series(0, {}) g;
         INSERT INTO devices (device_id, tenant, store_id, registered_by)
         VALUES ('kiosk-01', 'acme-retail', 'sh-pudong-001', 'bench')",
        KIOSKS - 1
    ));
    let template = template(dir.path());
    let bytes = template.to_string().len();

    eprintln!("peer: {n} single-row INSERT + COMMIT…");
    let peer = peer_rate(&pg, &template, n);
    eprintln!("one bridge: {n} results from {KIOSKS} kiosks…");
    let b1 = Bridge::start(&c1, api1, &dir.path().join("bridge-1.log"));
    let one = ingest_run(&pg, broker.port, &template, n, "one");
    eprintln!("two bridges: {n} results…");
    let b2 = Bridge::start(&c2, api2, &dir.path().join("bridge-2.log"));
    let two = ingest_run(&pg, broker.port, &template, n, "two");
    let split: Vec<usize> = [&b1, &b2]
        .iter()
        .map(|b| b.log().matches("batch committed").count())
        .collect();

    let rss = |b: &Bridge| {
        b.pid()
            .and_then(peak_rss_kb)
            .map_or(f64::NAN, |kb| kb as f64 / 1024.0)
    };
    // The ingest target is about the flood: its peak is read before rostering adds its own.
    let (ingest1, ingest2) = (rss(&b1), rss(&b2));

    eprintln!("latency: a real sync-agent, 100 results saved one by one…");
    let st = station(dir.path());
    configure_broker(
        &st,
        broker.port,
        &format!("{FAST_SYNC}receipt_timeout_s = 5\n"),
    );
    let _agent = start_agent(&st, &dir.path().join("agent.log"));
    let (api, hook) = latencies(dir.path(), &b1, &receiver, 100);
    eprintln!("rostering: 20 new hires of the 50-employee sample store moved to onboarding…");
    let (rostered, on_kiosk) = roster_phase::latencies(dir.path(), &b1, api1, 20);
    let (rss1, rss2) = (rss(&b1), rss(&b2));
    let mosquitto = std::process::Command::new("mosquitto")
        .arg("-h")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .replace("mosquitto version ", "")
        })
        .unwrap_or_default();

    println!(
        "cloud-bridge benchmark — {n} interview results of {bytes} bytes from {KIOSKS} simulated kiosks, \
         loopback, PostgreSQL {} and Mosquitto {mosquitto} on the same {} cores",
        pg.psql("SHOW server_version"),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!("| measure | cloud-bridge | peer: single-row INSERT + COMMIT | ratio | target |");
    println!("|---|---:|---:|---:|---|");
    println!(
        "| ingest, events/s, 1 instance | {one:.0} | {peer:.0} | {:.2}× | ≥ 2000 |",
        one / peer
    );
    println!(
        "| ingest, events/s, 2 instances (batches split {}/{}) | {two:.0} | {peer:.0} | {:.2}× | sharing correct |",
        split[0],
        split[1],
        two / peer
    );
    for (what, v, target) in [
        ("kiosk commit → HR API", &api, "p99 ≤ 1000"),
        ("kiosk commit → webhook", &hook, ""),
        (
            "onboarding → roster solved and committed (the status call)",
            &rostered,
            "≤ 100",
        ),
        (
            "onboarding → roster in the kiosk's inbox",
            &on_kiosk,
            "p99 ≤ 2000",
        ),
    ] {
        println!(
            "| {what}, ms p50 / p99 | {:.0} / {:.0} | | | {target} |",
            percentile(v, 0.5),
            percentile(v, 0.99)
        );
    }
    println!(
        "| bridge peak RSS while ingesting, MB (instance 1 / 2) | {ingest1:.0} / {ingest2:.0} | | | ≤ 100 |"
    );
    println!(
        "| bridge peak RSS, whole run with rostering, MB (instance 1 / 2) | {rss1:.0} / {rss2:.0} | | | ≤ 100 |"
    );
    if std::env::var_os("CLOUD_BENCH_STATEMENTS").is_some() {
        // Where PostgreSQL's time went, for whoever tunes ingest.
        pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        println!("\n| PostgreSQL: total ms | calls | rows | statement |\n|---:|---:|---:|---|");
        println!(
            "{}",
            pg.psql(
                "SELECT '| ' || round(total_exec_time) || ' | ' || calls || ' | ' || rows || ' | `' \
                 || left(regexp_replace(query, '\\s+', ' ', 'g'), 110) || '` |' \
                 FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15"
            )
        );
    }
    if std::env::var_os("CLOUD_BENCH_KEEP").is_some() {
        eprintln!("logs kept in {}", dir.keep().display());
    }
}

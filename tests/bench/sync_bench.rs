//! `sync-bench`: drains a 10,000-event backlog through `sync-agent` to a local Mosquitto and
//! compares it with raw QoS 1 publishing by `mosquitto_pub` in the same run; then measures
//! commit-to-receipt latency and the agent's peak memory. Prints a table. Not a test.
//!
//! Run: `cargo build --release --workspace --bins && target/release/sync-bench [EVENTS]`.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use system_tests::broker::Broker;
use system_tests::cloud::Cloud;
use system_tests::sample::{peak_rss_kb, percentile, sample, save};
use system_tests::{configure_broker, start_agent, station, wait_until};

/// Raw QoS 1 throughput of `mosquitto_pub -l` (one message per line) with the same payloads.
fn mosquitto_pub_rate(port: u16, payload: &str, n: usize) -> f64 {
    let started = Instant::now();
    let mut child = Command::new("mosquitto_pub")
        .args([
            "-V",
            "mqttv5",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-q",
            "1",
            "-t",
            "bench/raw",
            "-l",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .expect("mosquitto_pub (apt-get install mosquitto-clients)");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        let line = format!("{payload}\n");
        for _ in 0..n {
            stdin.write_all(line.as_bytes()).expect("write");
        }
    }
    assert!(child.wait().expect("mosquitto_pub").success());
    n as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tmp");
    let broker = Broker::start(
        dir.path(),
        "persistence false\nmax_queued_messages 0\nmax_inflight_messages 0\n",
    );
    let st = station(dir.path());
    configure_broker(&st, broker.port, "");
    let cloud = Cloud::start(broker.port);
    let (answers, result) = sample();

    eprintln!("writing a backlog of {n} results (offline period)…");
    let mut store = system_tests::open_store(dir.path()).expect("store");
    let mut payload = String::new();
    for i in 0..n {
        save(&mut store, &answers, &result);
        if i == 0 {
            payload = store.outbox_pending(0, 1).expect("pending")[0]
                .payload
                .clone();
        }
    }

    eprintln!("draining through sync-agent…");
    let started = Instant::now();
    let agent = start_agent(&st, &dir.path().join("agent.log"));
    wait_until("the backlog delivered", Duration::from_secs(600), || {
        let got = cloud.unique().len();
        (got >= n, got)
    });
    let drain_s = started.elapsed().as_secs_f64();
    wait_until("acks committed", Duration::from_secs(60), || {
        let b = store.outbox_backlog().expect("backlog").pending;
        (b == 0, b)
    });
    let ours = n as f64 / drain_s;

    eprintln!("raw QoS 1 with mosquitto_pub…");
    let raw = mosquitto_pub_rate(broker.port, &payload, n);

    eprintln!("latency: 300 results committed one by one, every 20 ms…");
    let mut committed = Vec::new();
    for _ in 0..300 {
        let id = save(&mut store, &answers, &result).event_id;
        committed.push((id, Instant::now()));
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_until("latency events delivered", Duration::from_secs(60), || {
        let got = cloud.first_arrivals();
        (
            committed.iter().all(|(id, _)| got.contains_key(id)),
            got.len(),
        )
    });
    let arrivals = cloud.first_arrivals();
    let mut lat: Vec<f64> = committed
        .iter()
        .map(|(id, at)| arrivals[id].saturating_duration_since(*at).as_secs_f64() * 1000.0)
        .collect();
    lat.sort_by(f64::total_cmp);
    let rss_mb = peak_rss_kb(agent.id()).map_or(f64::NAN, |kb| kb as f64 / 1024.0);
    drop(agent);

    let version = Command::new("mosquitto")
        .arg("-h")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        });
    println!(
        "sync-agent benchmark — {n} events of {} bytes, loopback, {}",
        payload.len(),
        version.unwrap_or_default()
    );
    println!("| measure | sync-agent | peer | ratio / target |");
    println!("|---|---:|---:|---|");
    println!(
        "| backlog drain, msg/s (PUBACKed and committed) | {ours:.0} | {raw:.0} (mosquitto_pub -q 1) | {:.2}× |",
        ours / raw
    );
    println!(
        "| commit → subscriber latency p50, ms | {:.1} | | |",
        percentile(&lat, 0.5)
    );
    println!(
        "| commit → subscriber latency p99, ms | {:.1} | | target < 100 |",
        percentile(&lat, 0.99)
    );
    println!("| agent peak RSS, MB | {rss_mb:.1} | | target < 30 |");
}

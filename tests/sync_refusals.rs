//! What the broker refuses, and what the cloud sends that the device must refuse, with a real
//! agent and Mosquitto: a downlink over rumqttc's old 10 KiB limit is applied, one over the
//! device's limit never arrives, and uploads go on in both cases; an absurd version jump is
//! refused and reported; a refusal that is the ACL's fault keeps the events (backing off, the
//! reason in `status`) instead of quarantining them; `sync-agent release` puts quarantined events
//! back.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use system_tests::broker::Broker;
use system_tests::cloud::Cloud;
use system_tests::{
    FAST_SYNC, agent_status, binary, configure_broker, produce, start_agent, station, wait_until,
};

const LONG: Duration = Duration::from_secs(90);

fn down(kind: &str) -> String {
    format!("kiosk/v1/acme-retail/sh-pudong-001/kiosk-01/down/{kind}")
}

fn roster(key: &str, version: i64, padding: usize) -> Vec<u8> {
    serde_json::json!({
        "version": version, "key": key,
        "body": {"kind": "roster", "shifts": [], "note": "x".repeat(padding)},
    })
    .to_string()
    .into_bytes()
}

fn inbox_version(dir: &Path, key: &str) -> Option<i64> {
    system_tests::open_store(dir)
        .expect("store")
        .inbox_get("roster", key)
        .expect("inbox")
        .map(|(v, _)| v)
}

fn delivered(dir: &Path, cloud: &Cloud) -> usize {
    let log = system_tests::open_store(dir)
        .expect("store")
        .outbox_log()
        .expect("log");
    let ids: std::collections::HashSet<String> = cloud.ids().into_iter().collect();
    log.iter().filter(|e| ids.contains(&e.event_id)).count()
}

#[test]
fn large_downlinks_and_absurd_versions_never_stop_uploads() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    let broker = Broker::start(dir.path(), "persistence false\n");
    configure_broker(&st, broker.port, FAST_SYNC);
    let cloud = Cloud::start(broker.port);
    let _agent = start_agent(&st, &dir.path().join("agent.log"));
    wait_until("agent connected", LONG, || {
        let s = agent_status(&st);
        (s["connected"] == true, s)
    });

    // 11 KiB: over rumqttc's default incoming limit, which broke the connection for good.
    cloud.send(&down("roster"), &roster("big-week", 1, 11 * 1024), false);
    // 300 KiB: over the limit the device announces, so the broker never sends it.
    cloud.send(&down("roster"), &roster("huge-week", 1, 300 * 1024), false);
    wait_until("the 11 KiB roster applied", LONG, || {
        let v = inbox_version(dir.path(), "big-week");
        (v == Some(1), v)
    });
    produce(&st, 1);
    wait_until("uploads go on", LONG, || {
        let n = delivered(dir.path(), &cloud);
        (n == 4, n)
    });
    assert_eq!(inbox_version(dir.path(), "huge-week"), None);
    let log = std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
    assert_eq!(
        log.matches(" connected to ").count(),
        1,
        "the connection never broke:\n{log}"
    );

    // A typo'd version would pin the roster for good: refused and reported, the next one applies.
    cloud.send(&down("roster"), &roster("big-week", 50_000, 10), false);
    let rejected = wait_until("the jump reported", LONG, || {
        let r = cloud.ids_of("downlink_rejected");
        (r.len() == 1, r)
    });
    assert_eq!(rejected.len(), 1);
    assert_eq!(inbox_version(dir.path(), "big-week"), Some(1));
    // The report names the document, not what it says (a roster names the new hire).
    let report: String = system_tests::raw_database(dir.path())
        .query_row(
            "SELECT payload FROM outbox WHERE event_type = 'downlink_rejected'",
            [],
            |r| r.get(0),
        )
        .expect("the report");
    assert!(
        report.contains("too far ahead") && !report.contains("xxxxxxxxxx"),
        "{report}"
    );
    cloud.send(&down("roster"), &roster("big-week", 2, 10), false);
    wait_until("the next version applied", LONG, || {
        let v = inbox_version(dir.path(), "big-week");
        (v == Some(2), v)
    });
}

#[test]
fn an_acl_refusal_keeps_the_events_and_release_puts_quarantined_ones_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    let acl = dir.path().join("acl");
    // Anonymous clients may read everything but write nothing: every event is NotAuthorized.
    std::fs::write(&acl, "topic read kiosk/v1/#\n").expect("acl");
    let broker = Broker::start_with_listener(
        dir.path(),
        &format!("allow_anonymous true\nacl_file {}\n", acl.display()),
        "persistence false\n",
    );
    configure_broker(&st, broker.port, FAST_SYNC);
    let cloud = Cloud::start(broker.port);
    let agent = start_agent(&st, &dir.path().join("agent.log"));
    produce(&st, 1);
    let s = wait_until("the refusal shown in status", LONG, || {
        let s = agent_status(&st);
        let shown = s["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("NotAuthorized"));
        (shown, s)
    });
    // Well past max_attempts (3) refusals: nothing is quarantined, everything waits.
    std::thread::sleep(Duration::from_secs(4));
    let s2 = agent_status(&st);
    assert_eq!(
        (s2["quarantined"].as_i64(), s2["backlog"].as_i64()),
        (Some(0), Some(4)),
        "{s}\n{s2}"
    );
    let log = std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
    let tries = log.matches("events held back").count();
    assert!(
        tries <= 2,
        "the reason is logged once per change, not per refusal:\n{log}"
    );

    // The ACL is fixed: the events go out without anyone touching the kiosk.
    std::fs::write(&acl, "topic readwrite kiosk/v1/#\n").expect("acl");
    broker.reload();
    wait_until("the held events delivered", LONG, || {
        let n = delivered(dir.path(), &cloud);
        (n == 4, n)
    });

    // A quarantined event (set aside by an earlier fault, say a broker limit since raised) is
    // put back with `release`, and the running agent sends it.
    drop(agent);
    produce(&st, 1);
    let event_id = {
        let mut store = system_tests::open_store(dir.path()).expect("store");
        let last = store.outbox_log().expect("log").pop().expect("an event");
        store
            .outbox_quarantine(last.seq, "over the broker's maximum packet size")
            .expect("quarantine");
        last.event_id
    };
    let _agent = start_agent(&st, &dir.path().join("agent2.log"));
    wait_until("the others delivered", LONG, || {
        let n = delivered(dir.path(), &cloud);
        (n == 7, n)
    });
    let s = agent_status(&st);
    assert_eq!(s["quarantined"], 1, "{s}");
    assert_eq!(
        s["quarantined_events"][0]["event_id"],
        event_id.as_str(),
        "{s}"
    );
    let st_arg = st.to_str().expect("utf8");
    let release = |args: &[&str]| {
        Command::new(binary("sync-agent"))
            .args(["release", "--station", st_arg])
            .args(args)
            .output()
            .expect("sync-agent runs")
    };
    let out = release(&["--event", "no-such-event"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown id is a usage mistake"
    );
    let out = release(&[]);
    assert_eq!(out.status.code(), Some(2), "--event or --all is required");
    let out = release(&["--event", &event_id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("released 1 event"));
    wait_until("the released event delivered", LONG, || {
        let ids = cloud.ids();
        (ids.contains(&event_id), ids.len())
    });
    assert_eq!(agent_status(&st)["quarantined"], 0);
}

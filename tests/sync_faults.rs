//! Store-and-forward under faults, with real processes: `kiosk` writing results, `sync-agent`
//! draining them, a real Mosquitto, and a cloud subscriber recording event ids. In every case
//! nothing committed is lost and the cloud's de-duplicated count is exact.

use std::path::Path;
use std::time::Duration;

use system_tests::broker::Broker;
use system_tests::cloud::Cloud;
use system_tests::{
    FAST_SYNC, agent_status, configure_broker, produce, start_agent, station, wait_until,
};

const LONG: Duration = Duration::from_secs(90);

/// Event ids of interview results in commit order, and whether each is acked.
fn outbox(dir: &Path) -> Vec<(String, String, bool)> {
    system_tests::open_store(dir)
        .expect("store")
        .outbox_log()
        .expect("log")
        .into_iter()
        .map(|e| (e.event_id, e.event_type, e.acked))
        .collect()
}

fn results(dir: &Path) -> Vec<String> {
    outbox(dir)
        .into_iter()
        .filter(|(_, t, _)| t == "interview_result")
        .map(|(id, _, _)| id)
        .collect()
}

/// Waits until the cloud holds every committed result and the store has every one acked.
fn drained(dir: &Path, cloud: &Cloud) -> Vec<String> {
    wait_until("every event delivered and acked", LONG, || {
        let log = outbox(dir);
        let unique = cloud.unique();
        let all_there = log.iter().all(|(id, _, _)| unique.contains(id));
        let all_acked = log.iter().all(|(_, _, acked)| *acked);
        (
            all_there && all_acked,
            (log.len(), unique.len(), log.iter().filter(|e| e.2).count()),
        )
    });
    cloud.unique()
}

/// Duplicates are allowed only as the same id: the de-duplicated set equals what was committed.
fn assert_exact(dir: &Path, cloud: &Cloud) {
    let committed: std::collections::HashSet<String> =
        outbox(dir).into_iter().map(|(id, _, _)| id).collect();
    let received: std::collections::HashSet<String> = cloud.ids().into_iter().collect();
    assert_eq!(
        received, committed,
        "the cloud must see exactly the committed events"
    );
}

struct Setup {
    dir: tempfile::TempDir,
    station: std::path::PathBuf,
    broker: Broker,
    cloud: Cloud,
}

fn setup(broker_extra: &str) -> Setup {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    let broker = Broker::start(dir.path(), broker_extra);
    configure_broker(&st, broker.port, FAST_SYNC);
    let cloud = Cloud::start(broker.port);
    Setup {
        dir,
        station: st,
        broker,
        cloud,
    }
}

#[test]
fn broker_down_while_results_are_produced_then_everything_drains_in_order() {
    let mut s = setup("persistence true\nautosave_interval 1\n");
    let agent = start_agent(&s.station, &s.dir.path().join("agent.log"));
    produce(&s.station, 2);
    drained(s.dir.path(), &s.cloud);

    s.broker.stop();
    produce(&s.station, 5);
    let status = wait_until("status to show the agent offline", LONG, || {
        let st = agent_status(&s.station);
        (st["connected"] == false && st["last_error"].is_string(), st)
    });
    assert_eq!(status["backlog"], 20, "{status}");
    assert_eq!(status["agent_running"], true);
    std::thread::sleep(Duration::from_secs(2));
    s.broker.resume();

    let unique = drained(s.dir.path(), &s.cloud);
    assert_exact(s.dir.path(), &s.cloud);
    // First arrivals follow commit order.
    let committed = results(s.dir.path());
    let arrived: Vec<&String> = unique.iter().filter(|id| committed.contains(id)).collect();
    assert_eq!(
        arrived,
        committed.iter().collect::<Vec<_>>(),
        "results must arrive in commit order"
    );
    let st = agent_status(&s.station);
    assert_eq!(
        (st["backlog"].as_i64(), st["connected"].as_bool()),
        (Some(0), Some(true)),
        "{st}"
    );
    drop(agent);
}

#[test]
fn broker_restarted_without_persistence_gets_everything_unacked_again() {
    let mut s = setup("persistence false\n");
    let agent = start_agent(&s.station, &s.dir.path().join("agent.log"));
    let producer = {
        let st = s.station.clone();
        std::thread::spawn(move || produce(&st, 60))
    };
    // Mid-stream: some delivered, some not.
    wait_until("the first deliveries", LONG, || {
        (s.cloud.unique().len() >= 20, s.cloud.unique().len())
    });
    s.broker.kill();
    std::thread::sleep(Duration::from_millis(300));
    s.broker.resume();
    producer.join().expect("producer");
    drained(s.dir.path(), &s.cloud);
    assert_exact(s.dir.path(), &s.cloud);
    assert_eq!(results(s.dir.path()).len(), 240);
    drop(agent);
}

#[test]
fn agent_sigkilled_mid_flight_resends_after_restart() {
    let s = setup("persistence false\n");
    let log = s.dir.path().join("agent.log");
    produce(&s.station, 75);
    let mut agent = start_agent(&s.station, &log);
    // As soon as the first events arrive (hundreds are still to come) …
    let deadline = std::time::Instant::now() + LONG;
    while s.cloud.unique().is_empty() {
        assert!(std::time::Instant::now() < deadline, "nothing delivered");
        std::thread::sleep(Duration::from_millis(1));
    }
    // … between PUBACK and the ack commit: hold the database's write lock so the agent receives
    // PUBACKs it cannot commit, see the cloud get more than the store has marked, then SIGKILL it.
    let lock = system_tests::raw_database(s.dir.path());
    lock.execute_batch("BEGIN IMMEDIATE").expect("write lock");
    std::thread::sleep(Duration::from_millis(500));
    let acked = outbox(s.dir.path()).iter().filter(|e| e.2).count();
    let seen = s.cloud.unique().len();
    assert!(
        seen > acked,
        "delivered {seen}, acked {acked}: the window must be open"
    );
    agent.kill();
    lock.execute_batch("ROLLBACK").expect("release");
    drop(lock);
    // Then kill at arbitrary moments: mostly between publish and PUBACK.
    for pause in [40u64, 90, 15, 150] {
        agent = start_agent(&s.station, &log);
        std::thread::sleep(Duration::from_millis(pause));
        agent.kill();
    }
    let agent = start_agent(&s.station, &log);
    drained(s.dir.path(), &s.cloud);
    assert_exact(s.dir.path(), &s.cloud);
    assert!(
        s.cloud.ids().len() > s.cloud.unique().len(),
        "the events delivered but not committed as acked must be sent again (same ids)"
    );
    drop(agent);
}

#[test]
fn kiosk_writing_while_the_agent_drains_never_sees_busy() {
    let s = setup("persistence false\n");
    let log = s.dir.path().join("agent.log");
    let agent = start_agent(&s.station, &log);
    let producers: Vec<_> = (0..2)
        .map(|_| {
            let st = s.station.clone();
            std::thread::spawn(move || produce(&st, 40))
        })
        .collect();
    for p in producers {
        p.join().expect("kiosk finished without an error");
    }
    drained(s.dir.path(), &s.cloud);
    assert_exact(s.dir.path(), &s.cloud);
    assert_eq!(results(s.dir.path()).len(), 320);
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(
        !text.to_lowercase().contains("locked") && !text.contains("ERROR"),
        "agent log:\n{text}"
    );
    drop(agent);
}

#[test]
fn downlink_is_applied_once_newest_wins_and_bad_messages_are_reported() {
    let s = setup("persistence false\n");
    let agent = start_agent(&s.station, &s.dir.path().join("agent.log"));
    wait_until("agent connected", LONG, || {
        let st = agent_status(&s.station);
        (st["connected"] == true, st)
    });
    let down = |kind: &str| format!("kiosk/v1/acme-retail/sh-pudong-001/kiosk-01/down/{kind}");
    let messages: &[(&str, &str)] = &[
        (
            "config",
            r#"{"version": 2, "body": {"pass_threshold": 65}}"#,
        ),
        (
            "config",
            r#"{"version": 2, "body": {"pass_threshold": 65}}"#,
        ),
        ("config", "{this is not json"),
        (
            "config",
            r#"{"version": 1, "body": {"pass_threshold": 50}}"#,
        ),
        ("firmware", r#"{"version": 9, "body": {}}"#),
        (
            "config",
            r#"{"version": 3, "body": {"pass_threshold": 70}}"#,
        ),
        (
            "roster",
            r#"{"version": 1, "key": "emp-7", "body": {"shifts": []}}"#,
        ),
        ("roster", r#"{"version": 1, "body": {}}"#),
        (
            "config",
            r#"{"version": 2, "body": {"pass_threshold": 60}}"#,
        ),
    ];
    for (kind, payload) in messages {
        s.cloud.send(&down(kind), payload.as_bytes(), false);
    }
    let rejected = wait_until("three rejections reported upstream", LONG, || {
        let r = s.cloud.ids_of("downlink_rejected");
        (r.len() == 3, r)
    });
    assert_eq!(rejected.len(), 3);
    let store = system_tests::open_store(s.dir.path()).expect("store");
    let (version, payload) = store
        .inbox_get("config", "station")
        .expect("inbox")
        .expect("config held");
    assert_eq!(version, 3);
    assert!(payload.contains("70"), "{payload}");
    assert_eq!(
        store
            .inbox_get("roster", "emp-7")
            .expect("inbox")
            .map(|r| r.0),
        Some(1)
    );
    let st = agent_status(&s.station);
    assert_eq!(
        (st["agent_running"].as_bool(), st["connected"].as_bool()),
        (Some(true), Some(true)),
        "{st}"
    );
    drop(agent);
}

#[test]
fn an_event_over_the_broker_packet_limit_is_quarantined_without_blocking_the_rest() {
    let s = setup("persistence false\nmax_packet_size 20000\n");
    let agent = start_agent(&s.station, &s.dir.path().join("agent.log"));
    produce(&s.station, 1);
    let huge = "我想找一份稳定的工作".repeat(2000);
    let out = system_tests::kiosk(&[
        "score",
        "--station",
        s.station.to_str().expect("utf8"),
        "--role",
        "factory-worker",
        "--json",
        "--answer",
        &huge,
        "--answer",
        "可以",
        "--answer",
        "在工厂做过两年",
    ]);
    assert!(out.status.success());
    let big: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    produce(&s.station, 1);
    let st = wait_until("the big event quarantined", LONG, || {
        let st = agent_status(&s.station);
        (st["quarantined"] == 1 && st["backlog"] == 0, st)
    });
    assert_eq!(st["quarantined"], 1, "{st}");
    let store = system_tests::open_store(s.dir.path()).expect("store");
    let q = store.outbox_quarantined().expect("list");
    assert_eq!(q[0].1, big["event_id"].as_str().expect("id"));
    assert!(q[0].2.contains("maximum packet size"), "{q:?}");
    // Everything else went through, including the report of the quarantine.
    wait_until("the report of the quarantine", LONG, || {
        (s.cloud.ids_of("event_quarantined").len() == 1, ())
    });
    let delivered: std::collections::HashSet<String> = s.cloud.ids().into_iter().collect();
    let others: Vec<String> = results(s.dir.path())
        .into_iter()
        .filter(|id| id != big["event_id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(others.len(), 8);
    assert!(others.iter().all(|id| delivered.contains(id)));
    drop(agent);
}

#[test]
fn a_half_open_connection_is_detected_by_keep_alive() {
    let s = setup("persistence false\n");
    let agent = start_agent(&s.station, &s.dir.path().join("agent.log"));
    wait_until("agent connected", LONG, || {
        let st = agent_status(&s.station);
        (st["connected"] == true, st)
    });
    s.broker.freeze();
    produce(&s.station, 1);
    // keep_alive_s = 5: a missing PINGRESP is noticed within about two keep-alive periods.
    let st = wait_until("the dead link noticed", Duration::from_secs(25), || {
        let st = agent_status(&s.station);
        (st["connected"] == false, st)
    });
    assert!(st["last_error"].is_string(), "{st}");
    s.broker.thaw();
    drained(s.dir.path(), &s.cloud);
    assert_exact(s.dir.path(), &s.cloud);
    drop(agent);
}

#[test]
fn sigterm_stops_the_agent_cleanly() {
    let s = setup("persistence false\n");
    let mut agent = start_agent(&s.station, &s.dir.path().join("agent.log"));
    produce(&s.station, 1);
    drained(s.dir.path(), &s.cloud);
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &agent.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
    let status = agent.wait();
    assert!(status.success(), "graceful exit on SIGTERM: {status:?}");
    let st = agent_status(&s.station);
    assert_eq!(
        (
            st["agent_running"].as_bool(),
            st["connected"].as_bool(),
            st["backlog"].as_i64()
        ),
        (Some(false), Some(false), Some(0)),
        "{st}"
    );
}

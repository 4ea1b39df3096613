//! The cloud side end to end, all real: `kiosk demo` results and a manager's decisions → sync-agent
//! → Mosquitto → two `cloud-bridge` instances on one shared subscription → a private PostgreSQL
//! → the HR API and a webhook receiver that verifies signatures. Then bad input, and faults.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use kiosk_store::{Decision, StationIdentity};
use system_tests::bridge::{self, Bridge, OTHER_TOKEN, RawDevice, Receiver, TOKEN, envelope};
use system_tests::broker::Broker;
use system_tests::postgres::Postgres;
use system_tests::{
    FAST_SYNC, agent_status, configure_broker, produce, start_agent, station, wait_until,
};

const LONG: Duration = Duration::from_secs(120);
const DEVICE: &str = "kiosk-01";

fn identity() -> StationIdentity {
    StationIdentity {
        tenant: "acme-retail".into(),
        store_id: "sh-pudong-001".into(),
        device_id: DEVICE.into(),
    }
}

/// Receipts come quickly in these tests; a late one is resent after 3 s.
fn sync_settings() -> String {
    format!("{FAST_SYNC}receipt_timeout_s = 3\nreceipt_timeout_max_s = 10\n")
}

fn interview_ids(dir: &Path) -> Vec<String> {
    system_tests::open_store(dir)
        .expect("store")
        .list_results(10_000)
        .expect("results")
        .into_iter()
        .map(|r| r.interview_id)
        .collect()
}

fn outbox_ids(dir: &Path) -> HashSet<String> {
    system_tests::open_store(dir)
        .expect("store")
        .outbox_log()
        .expect("log")
        .into_iter()
        .map(|e| e.event_id)
        .collect()
}

/// Every committed event is in PostgreSQL once and the agent has a receipt for each.
fn wait_delivered(dir: &Path, station: &Path, pg: &Postgres) {
    wait_until(
        "every event committed centrally and confirmed on the kiosk",
        LONG,
        || {
            let want = outbox_ids(dir);
            let have: HashSet<String> = pg
                .psql("SELECT event_id FROM events")
                .lines()
                .map(str::to_string)
                .collect();
            let s = agent_status(station);
            let done = want.is_subset(&have) && s["backlog"] == 0 && s["unconfirmed"] == 0;
            (
                done,
                (
                    want.len(),
                    have.len(),
                    s["backlog"].clone(),
                    s["unconfirmed"].clone(),
                ),
            )
        },
    );
}

#[test]
fn kiosk_results_reach_hr_once_with_receipts_api_and_signed_webhooks() {
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start(dir.path());
    let broker = Broker::start(dir.path(), "");
    let receiver = Receiver::start(0, 2);
    let st = station(dir.path());
    configure_broker(&st, broker.port, &sync_settings());
    let (c1, api1) = bridge::config(
        dir.path(),
        "bridge-1",
        &pg.url(),
        broker.port,
        receiver.port,
        "",
    );
    let (c2, api2) = bridge::config(
        dir.path(),
        "bridge-2",
        &pg.url(),
        broker.port,
        receiver.port,
        "",
    );
    bridge::cli(&c1, &["migrate"]);
    bridge::register(&c1, DEVICE);
    let b1 = Bridge::start(&c1, api1, &dir.path().join("bridge-1.log"));
    let b2 = Bridge::start(&c2, api2, &dir.path().join("bridge-2.log"));

    produce(&st, 4);
    let interviews = interview_ids(dir.path());
    assert!(interviews.len() >= 4, "{interviews:?}");
    // The store manager advances the first and rejects the second on the kiosk.
    {
        let mut store = system_tests::open_store(dir.path()).expect("store");
        store
            .record_decision(
                &identity(),
                &interviews[0],
                Decision::Advance,
                "good answers",
                "manager",
            )
            .expect("advance");
        store
            .record_decision(
                &identity(),
                &interviews[1],
                Decision::Reject,
                "cannot do shifts",
                "manager",
            )
            .expect("reject");
    }
    let _agent = start_agent(&st, &dir.path().join("agent.log"));
    wait_delivered(dir.path(), &st, &pg);

    // Each interview exactly once, each event once.
    let rows = pg.psql("SELECT interview_id FROM candidates ORDER BY interview_id");
    let mut central: Vec<&str> = rows.lines().collect();
    let mut local: Vec<&str> = interviews.iter().map(String::as_str).collect();
    central.sort_unstable();
    local.sort_unstable();
    assert_eq!(central, local, "every interview once");
    assert_eq!(
        pg.psql("SELECT count(*) FROM events WHERE outcome IN ('created', 'applied')"),
        (interviews.len() + 2).to_string()
    );
    assert_eq!(pg.psql("SELECT count(*) FROM rejected"), "0");
    assert_eq!(
        pg.psql(
            "SELECT string_agg(DISTINCT coalesce(pg_column_compression(result), 'none'), ',') \
             FROM candidates"
        ),
        "lz4",
        "stored results are lz4-compressed (migration 4)"
    );

    // The HR API, through either instance.
    let (code, list) = b2.get("/v1/candidates", TOKEN);
    assert_eq!(code, 200, "{list}");
    let list = list.as_array().expect("list").clone();
    assert_eq!(list.len(), interviews.len());
    let by_interview: HashMap<String, String> = pg
        .psql("SELECT interview_id || '|' || candidate_id FROM candidates")
        .lines()
        .filter_map(|l| {
            l.split_once('|')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        })
        .collect();
    let advanced = &by_interview[&interviews[0]];
    let rejected = &by_interview[&interviews[1]];
    let (code, rec) = b1.get(&format!("/v1/candidates/{advanced}"), TOKEN);
    assert_eq!(code, 200, "{rec}");
    assert_eq!(rec["status"], "passed", "{rec}");
    assert_eq!(rec["status_label"]["zh"], "面试通过");
    assert_eq!(rec["decisions"][0]["decision"], "advance");
    let history = rec["history"].as_array().expect("history");
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[1]["actor_kind"], "kiosk_manager");
    assert!(
        rec["dimensions"]
            .as_array()
            .is_some_and(|d| !d.is_empty() && d[0]["evidence"].is_array()),
        "{rec}"
    );
    assert!(rec["answers"].as_array().is_some_and(|a| !a.is_empty()));
    assert!(rec["name"].is_string(), "the demo candidates have names");

    // The status flow: onboarding needs a start date; failed cannot skip to onboarding.
    let path = format!("/v1/candidates/{advanced}/status");
    let (code, e) = b1.post(
        &path,
        TOKEN,
        &serde_json::json!({"status": "onboarding", "reason": "offer accepted"}),
    );
    assert_eq!(code, 422, "{e}");
    let (code, rec) = b1.post(
        &path,
        TOKEN,
        &serde_json::json!({"status": "onboarding", "reason": "offer accepted", "start_date": "2026-12-14"}),
    );
    assert_eq!(code, 200, "{rec}");
    assert_eq!(
        (rec["status"].as_str(), rec["start_date"].as_str()),
        (Some("onboarding"), Some("2026-12-14"))
    );
    assert_eq!(rec["history"][2]["actor"], "HR user lin");
    let (code, e) = b2.post(
        &format!("/v1/candidates/{rejected}/status"),
        TOKEN,
        &serde_json::json!({"status": "onboarding", "reason": "x", "start_date": "2026-12-14"}),
    );
    assert_eq!(code, 409, "{e}");
    assert_eq!(e["status"], "failed");
    assert_eq!(e["allowed"], serde_json::json!(["passed", "withdrawn"]));

    // Tenants are isolated; a bad token is refused.
    let (code, _) = b1.get(&format!("/v1/candidates/{advanced}"), OTHER_TOKEN);
    assert_eq!(
        code, 404,
        "another tenant's candidate does not exist for globex"
    );
    let (code, other) = b1.get("/v1/candidates", OTHER_TOKEN);
    assert_eq!((code, other), (200, serde_json::json!([])));
    let (code, e) = b1.post(
        &path,
        OTHER_TOKEN,
        &serde_json::json!({"status": "withdrawn", "reason": "x"}),
    );
    assert_eq!(code, 404, "{e}");
    let (code, e) = b1.get("/v1/candidates", "not-a-token");
    assert_eq!(code, 401);
    assert!(e["error"].is_string());
    let (code, _) = b1.get("/v1/devices", OTHER_TOKEN);
    assert_eq!(code, 200);

    // Presence and health from the retained messages.
    wait_until("the device shows online with its backlog", LONG, || {
        let (_, d) = b2.get("/v1/devices", TOKEN);
        let ok = d[0]["device_id"] == DEVICE && d[0]["online"] == true && d[0]["unconfirmed"] == 0;
        (ok, d)
    });

    // Pass rates: one passed (now onboarding), one failed in the only store.
    let (code, r) = b1.get("/v1/reports/pass-rates?group_by=store", TOKEN);
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["groups"][0]["group"], "sh-pudong-001");
    assert_eq!(r["groups"][0]["decided"], 2);
    assert_eq!(r["groups"][0]["pass_rate"], 0.5);
    assert_eq!(r["groups"][0]["impact_ratio"], 1.0);

    // Webhooks: the receiver failed the first two requests; everything arrives, signed, and each
    // id is answered 200 exactly once.
    let total: usize = pg
        .psql("SELECT count(*) FROM webhook_outbox")
        .parse()
        .expect("n");
    assert!(
        total >= interviews.len() + 3,
        "interviewed ×n, passed, failed, onboarding: {total}"
    );
    let deliveries = wait_until("every webhook delivered", LONG, || {
        let d = receiver.deliveries();
        let ok: HashSet<String> = d
            .iter()
            .filter(|x| x.answered == 200)
            .map(|x| x.id.clone())
            .collect();
        (ok.len() == total, d)
    });
    assert!(
        deliveries.iter().all(|d| d.verified),
        "every signature verifies"
    );
    assert_eq!(deliveries.iter().filter(|d| d.answered == 500).count(), 2);
    let mut oks: Vec<&str> = deliveries
        .iter()
        .filter(|d| d.answered == 200)
        .map(|d| d.id.as_str())
        .collect();
    let n = oks.len();
    oks.sort_unstable();
    oks.dedup();
    assert_eq!(oks.len(), n, "no webhook delivered twice");
    let failed_ids: Vec<&str> = deliveries
        .iter()
        .filter(|d| d.answered == 500)
        .map(|d| d.id.as_str())
        .collect();
    for id in failed_ids {
        assert!(
            oks.contains(&id),
            "{id} was retried with the same webhook-id"
        );
    }
    let kinds: HashSet<&str> = deliveries
        .iter()
        .filter_map(|d| d.body["type"].as_str())
        .collect();
    assert!(
        kinds.contains("candidate.interviewed") && kinds.contains("candidate.status_changed"),
        "{kinds:?}"
    );
    assert_eq!(
        pg.psql("SELECT count(*) FROM webhook_outbox WHERE state = 'delivered'"),
        total.to_string()
    );
    assert!(
        !b1.log().contains("张") && !b2.log().contains("张"),
        "no candidate names in the logs"
    );
}

fn decision(reason: &str) -> serde_json::Value {
    serde_json::json!({
        "interview": {"value": "not-yet-arrived", "scheme": "interview_id"}, "receipt": "AB12CD34E",
        "decision": "advance", "conclusion_code": 2, "reason": reason, "decided_by": "manager",
        "decided_at": "2026-12-03T10:00:00+08:00"
    })
}

#[test]
fn bad_input_is_kept_and_reported_never_applied_and_the_bridge_keeps_going() {
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start(dir.path());
    let broker = Broker::start(dir.path(), "");
    let (c1, api1) = bridge::config(dir.path(), "bridge-1", &pg.url(), broker.port, 9, "");
    bridge::register(&c1, DEVICE);
    let b1 = Bridge::start(&c1, api1, &dir.path().join("bridge-1.log"));
    let dev = RawDevice::connect(broker.port, DEVICE);
    let base = format!("kiosk/v1/acme-retail/sh-pudong-001/{DEVICE}/events");

    dev.publish(&format!("{base}/interview_result"), b"{not json".to_vec());
    dev.publish(
        &format!("{base}/teleport"),
        envelope(DEVICE, "e-unknown", "teleport", 1, serde_json::json!({})),
    );
    dev.publish(
        &format!("{base}/decision"),
        envelope(DEVICE, "e-version", "decision", 99, decision("x")),
    );
    dev.publish(
        &format!("{base}/decision"),
        envelope(
            DEVICE,
            "e-invalid",
            "decision",
            1,
            serde_json::json!({"receipt": 5}),
        ),
    );
    dev.publish(
        &format!("kiosk/v1/globex/sh-pudong-001/{DEVICE}/events/decision"),
        envelope(DEVICE, "e-wrong-tenant", "decision", 1, decision("x")),
    );
    dev.publish(
        "kiosk/v1/acme-retail/sh-pudong-001/kiosk-99/events/decision",
        envelope(DEVICE, "e-unregistered", "decision", 1, decision("x")),
    );
    dev.publish(
        &format!("{base}/decision"),
        envelope(DEVICE, "e-dup", "decision", 1, decision("first")),
    );
    dev.publish(
        &format!("{base}/decision"),
        envelope(DEVICE, "e-dup", "decision", 1, decision("second")),
    );
    // PostgreSQL cannot store U+0000 in text: this one breaks the batch's statement, which is
    // then applied one message per savepoint, so only it is held and its neighbour applies.
    dev.publish(
        &format!("{base}/decision"),
        envelope(DEVICE, "e-nul", "decision", 1, decision("a\u{0}b")),
    );
    dev.publish(
        &format!("{base}/decision"),
        envelope(DEVICE, "e-after-nul", "decision", 1, decision("fine")),
    );
    dev.publish(
        &format!("{base}/audit"),
        envelope(
            DEVICE,
            "e-audit",
            "audit",
            1,
            serde_json::json!({"action": "pin_failed"}),
        ),
    );

    let codes = wait_until("every bad message reported", LONG, || {
        let codes: HashSet<String> = pg
            .psql("SELECT code FROM rejected")
            .lines()
            .map(str::to_string)
            .collect();
        (codes.len() >= 8, codes)
    });
    let want: HashSet<String> = [
        "apply_failed",
        "malformed",
        "unknown_type",
        "unsupported_version",
        "invalid_body",
        "wrong_path",
        "unregistered_device",
        "duplicate_id_different_body",
    ]
    .map(String::from)
    .into();
    assert_eq!(codes, want);
    // The first e-dup is kept (pending until its interview arrives); the second is not applied.
    assert_eq!(
        pg.psql("SELECT reason FROM decisions WHERE event_id = 'e-dup'"),
        "first"
    );
    assert_eq!(
        pg.psql("SELECT outcome FROM events WHERE event_id = 'e-dup'"),
        "pending"
    );
    assert_eq!(
        pg.psql("SELECT kind FROM device_reports WHERE event_id = 'e-audit'"),
        "audit"
    );
    assert_eq!(
        pg.psql("SELECT string_agg(event_id, ',' ORDER BY event_id) FROM events WHERE event_id LIKE 'e-%nul'"),
        "e-after-nul",
        "the message that broke the statement is held alone"
    );
    let why = pg.psql("SELECT reason FROM rejected WHERE code = 'apply_failed'");
    assert!(
        why.contains("0x00 (SQLSTATE 22021)"),
        "the database's reason is kept: {why}"
    );
    assert_eq!(
        pg.psql(
            "SELECT count(*) FROM events WHERE event_id IN ('e-wrong-tenant', 'e-unregistered')"
        ),
        "0"
    );
    assert!(
        pg.psql("SELECT payload FROM events WHERE event_id = 'e-unknown'")
            .contains("teleport"),
        "kept"
    );
    // Receipts: what the cloud recorded under its id stops being resent; what it held does not.
    let receipts = wait_until("receipts for every recorded id", LONG, || {
        let r: HashSet<String> = dev.receipts.lock().expect("lock").iter().cloned().collect();
        let ok = ["e-unknown", "e-version", "e-invalid", "e-dup", "e-audit"]
            .iter()
            .all(|id| r.contains(*id));
        (ok, r)
    });
    assert!(!receipts.contains("e-wrong-tenant") && !receipts.contains("e-unregistered"));
    let (code, _) = b1.get("/v1/candidates", TOKEN);
    assert_eq!(code, 200, "the bridge is still serving");
    assert!(bridge::cli(&c1, &["rejected"]).contains("wrong_path"));
}

#[test]
fn database_down_broker_killed_and_bridge_killed_lose_nothing_and_apply_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut pg = Postgres::start(dir.path());
    // A broker that writes its persistence file only hourly: SIGKILL loses what it had PUBACKed.
    let mut broker = Broker::start(dir.path(), "persistence true\nautosave_interval 3600\n");
    let st = station(dir.path());
    configure_broker(&st, broker.port, &sync_settings());
    let (c1, api1) = bridge::config(dir.path(), "bridge-1", &pg.url(), broker.port, 9, "");
    bridge::register(&c1, DEVICE);
    let _agent = start_agent(&st, &dir.path().join("agent.log"));

    // 1. The bridge has a session on the shared subscription and is SIGKILLed; the broker
    //    queues for it and PUBACKs, then dies before any bridge consumed: the kiosk sends again
    //    on the missing receipt.
    let mut b1 = Bridge::start(&c1, api1, &dir.path().join("bridge-1.log"));
    wait_until(
        "the bridge is subscribed (sees the device online)",
        LONG,
        || {
            let (_, d) = b1.get("/v1/devices", TOKEN);
            (d[0]["online"] == true, d)
        },
    );
    b1.kill();
    produce(&st, 1);
    wait_until("sent, not confirmed", LONG, || {
        let s = agent_status(&st);
        (
            s["backlog"] == 0 && s["unconfirmed"].as_i64().unwrap_or(0) > 0,
            s,
        )
    });
    broker.kill();
    broker.resume();
    b1.resume();
    wait_delivered(dir.path(), &st, &pg);

    // 2. PostgreSQL goes down: nothing is acked or confirmed; the bridge is SIGKILLed holding an
    //    uncommitted batch; both come back and everything applies once.
    pg.stop();
    produce(&st, 1);
    wait_until("the bridge cannot commit", LONG, || {
        (b1.log().contains("cannot commit"), ())
    });
    let s = agent_status(&st);
    assert!(
        s["unconfirmed"].as_i64().unwrap_or(0) + s["backlog"].as_i64().unwrap_or(0) > 0,
        "{s}"
    );
    b1.kill();
    pg.resume();
    b1.resume();
    wait_delivered(dir.path(), &st, &pg);

    // 3. The bridge dies after its commit and before its acks: the broker redelivers what is
    //    already committed, which is a duplicate, receipted and applied once.
    b1.kill();
    b1.resume_crashing_after_commit();
    let before = outbox_ids(dir.path());
    produce(&st, 1);
    b1.wait_exit(LONG);
    assert!(b1.log().contains("test fault: dying after a commit"));
    let new_ids: Vec<String> = outbox_ids(dir.path())
        .difference(&before)
        .cloned()
        .collect();
    let committed: usize = pg
        .psql(&format!(
            "SELECT count(*) FROM events WHERE event_id IN ('{}')",
            new_ids.join("','")
        ))
        .parse()
        .expect("n");
    assert!(committed > 0, "the crashed bridge had committed");
    assert!(agent_status(&st)["unconfirmed"].as_i64().unwrap_or(0) > 0);
    b1.resume();
    wait_delivered(dir.path(), &st, &pg);

    let interviews = interview_ids(dir.path());
    assert_eq!(
        pg.psql("SELECT count(*) FROM candidates"),
        interviews.len().to_string()
    );
    assert_eq!(
        pg.psql("SELECT count(*) FROM events"),
        outbox_ids(dir.path()).len().to_string(),
        "each event once, however often it was sent"
    );
    assert_eq!(pg.psql("SELECT count(*) FROM rejected"), "0");
}

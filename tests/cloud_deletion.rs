//! Deletion on request, cloud side, all real: a `kiosk demo` interview reaches PostgreSQL through
//! the agent, Mosquitto and `cloud-bridge`; HR asks for its deletion; the personal data is gone
//! from every table at once (searched in a `pg_dump`), the device's agent receives the request,
//! and the device's `deletion_completed` completes it with a signed webhook.

use std::time::Duration;

use kiosk_store::Store;
use system_tests::bridge::{self, Bridge, OTHER_TOKEN, RawDevice, Receiver, TOKEN, envelope};
use system_tests::broker::Broker;
use system_tests::postgres::Postgres;
use system_tests::{
    FAST_SYNC, agent_status, configure_broker, database, produce, start_agent, station, wait_until,
};

const LONG: Duration = Duration::from_secs(120);
const DEVICE: &str = "kiosk-01";

#[test]
fn a_deletion_removes_the_candidate_centrally_reaches_the_device_and_completes_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start(dir.path());
    let broker = Broker::start(dir.path(), "");
    let receiver = Receiver::start(0, 0);
    let st = station(dir.path());
    configure_broker(
        &st,
        broker.port,
        &format!("{FAST_SYNC}receipt_timeout_s = 3\n"),
    );
    let (cfg, api) = bridge::config(
        dir.path(),
        "bridge-1",
        &pg.url(),
        broker.port,
        receiver.port,
        "",
    );
    bridge::cli(
        &cfg,
        &[
            "devices",
            "add",
            "--tenant",
            "acme-retail",
            "--store",
            "sh-pudong-001",
            "--device",
            DEVICE,
        ],
    );
    let b = Bridge::start(&cfg, api, &dir.path().join("bridge.log"));
    produce(&st, 1);
    let _agent = start_agent(&st, &dir.path().join("agent.log"));
    wait_until("delivered", LONG, || {
        let s = agent_status(&st);
        (s["backlog"] == 0 && s["unconfirmed"] == 0, s)
    });

    // A candidate with a name, a phone and a transcript, as HR sees them.
    let (_, list) = b.get("/v1/candidates", TOKEN);
    let (id, rec) = list
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["candidate_id"].as_str().expect("id").to_string())
        .map(|id| {
            let (_, rec) = b.get(&format!("/v1/candidates/{id}"), TOKEN);
            (id, rec)
        })
        .find(|(_, rec)| rec["phone"].is_string() && rec["name"].is_string())
        .expect("a demo candidate with a name and a phone");
    let name = rec["name"].as_str().expect("name").to_string();
    let phone = rec["phone"].as_str().expect("phone").to_string();
    let transcript = rec["answers"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find_map(|x| x["transcript"].as_str().filter(|t| t.len() > 12))
        })
        .expect("a transcript")
        .to_string();
    let phrase: String = transcript.chars().take(12).collect();
    let before = pg.dump();
    for needle in [&name, &phone, &phrase] {
        assert!(
            before.contains(needle.as_str()),
            "{needle} is stored before"
        );
    }

    // Another tenant can neither delete nor see it.
    let (code, _) = b.post(
        &format!("/v1/candidates/{id}/deletion"),
        OTHER_TOKEN,
        &serde_json::json!({}),
    );
    assert_eq!(code, 404);

    let (code, r) = b.post(
        &format!("/v1/candidates/{id}/deletion"),
        TOKEN,
        &serde_json::json!({}),
    );
    assert_eq!(code, 202, "{r}");
    let request = r["request_id"].as_str().expect("request id").to_string();
    let (code, again) = b.post(
        &format!("/v1/candidates/{id}/deletion"),
        TOKEN,
        &serde_json::json!({}),
    );
    assert_eq!(
        (code, again["request_id"].as_str()),
        (202, Some(request.as_str())),
        "idempotent"
    );

    // Centrally: gone from every table at once; the record keeps a tombstone.
    let after = pg.dump();
    for needle in [&name, &phone, &phrase] {
        assert!(
            !after.contains(needle.as_str()),
            "{needle} is still stored centrally"
        );
    }
    let (_, rec) = b.get(&format!("/v1/candidates/{id}"), TOKEN);
    assert!(rec["name"].is_null() && rec["answers"].is_null(), "{rec}");
    assert!(rec["personal_data_deleted_at"].is_string(), "{rec}");
    assert_eq!(
        rec["status"], "awaiting_review",
        "the status and scores stay for the bias report"
    );
    let (code, d) = b.get(&format!("/v1/deletions/{request}"), TOKEN);
    assert_eq!(code, 200, "{d}");
    assert_eq!(d["state"], "pending");
    assert_eq!(d["devices"][0]["device_id"], DEVICE);
    let (code, _) = b.get(&format!("/v1/deletions/{request}"), OTHER_TOKEN);
    assert_eq!(code, 404, "another tenant's request does not exist for it");

    // The device's agent received the request (the kiosk carries it out: privacy issue), and it
    // is sent again until the device confirms.
    let interview = rec["interview_id"].as_str().expect("interview").to_string();
    wait_until("the agent holds the deletion request", LONG, || {
        let got = Store::open(&database(dir.path()))
            .expect("store")
            .inbox_get("deletion_request", &request)
            .expect("inbox");
        let ok = got
            .as_ref()
            .is_some_and(|(_, body)| body.contains(&interview));
        (ok, got)
    });
    wait_until("sent again while unconfirmed", LONG, || {
        let (_, d) = b.get(&format!("/v1/deletions/{request}"), TOKEN);
        (d["devices"][0]["sends"].as_i64().unwrap_or(0) >= 2, d)
    });

    // The device confirms; a second confirmation changes nothing.
    let dev = RawDevice::connect(broker.port, DEVICE);
    let done = serde_json::json!({
        "request_id": request, "interview": {"value": interview, "scheme": "kiosk_interview_id"},
        "removed": {"candidate": 1, "answers": 3, "audio_files": 3, "outbox_events": 2},
        "completed_at": "2026-12-03T10:05:00+08:00",
    });
    let topic = format!("kiosk/v1/acme-retail/sh-pudong-001/{DEVICE}/events/deletion_completed");
    dev.publish(
        &topic,
        envelope(DEVICE, "del-1", "deletion_completed", 1, done.clone()),
    );
    dev.publish(
        &topic,
        envelope(DEVICE, "del-2", "deletion_completed", 1, done),
    );
    let d = wait_until("the deletion is completed", LONG, || {
        let (_, d) = b.get(&format!("/v1/deletions/{request}"), TOKEN);
        (d["state"] == "completed", d)
    });
    assert_eq!(d["devices"][0]["removed"]["audio_files"], 3, "{d}");
    let hooks = wait_until("the deletion.completed webhook", LONG, || {
        let got: Vec<_> = receiver
            .deliveries()
            .into_iter()
            .filter(|x| x.body["type"] == "deletion.completed")
            .collect();
        (!got.is_empty(), got)
    });
    std::thread::sleep(Duration::from_secs(1));
    let n = receiver
        .deliveries()
        .iter()
        .filter(|x| x.body["type"] == "deletion.completed")
        .count();
    assert_eq!(n, 1, "one webhook for one deletion");
    assert!(hooks[0].verified);
    assert_eq!(hooks[0].body["data"]["request_id"], request.as_str());
    assert_eq!(
        pg.psql("SELECT outcome FROM events WHERE event_id = 'del-2'"),
        "unknown_or_completed_request"
    );
    assert!(
        !b.log().contains(&name) && !b.log().contains(&phone),
        "no personal data in the log"
    );
}

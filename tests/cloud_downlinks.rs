//! What HR sends down, cloud side, all real (agent, Mosquitto, `cloud-bridge`, PostgreSQL).
//! Deletion on request: a `kiosk demo` interview's personal data is gone from every table at once
//! (searched in a `pg_dump`), the device's agent receives the request, and the device's
//! `deletion_completed` completes it with a signed webhook. Role configuration: validated with the
//! kiosk's validator, versioned, sent until each device's health says it holds it.

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

/// PUT with a raw body and content type: (status, JSON answer).
fn put(
    api: u16,
    path: &str,
    token: &str,
    content_type: &str,
    body: String,
) -> (u16, serde_json::Value) {
    let r = reqwest::blocking::Client::new()
        .put(format!("http://127.0.0.1:{api}{path}"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .expect("PUT");
    let code = r.status().as_u16();
    (code, r.json().unwrap_or(serde_json::Value::Null))
}

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
    bridge::register(&cfg, DEVICE);
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

#[test]
fn a_role_push_is_validated_versioned_and_sent_until_each_device_holds_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start(dir.path());
    let broker = Broker::start(dir.path(), "");
    let st = station(dir.path());
    configure_broker(&st, broker.port, FAST_SYNC);
    let (cfg, api) = bridge::config(dir.path(), "bridge-1", &pg.url(), broker.port, 9, "");
    bridge::register(&cfg, DEVICE);
    bridge::register(&cfg, "kiosk-02"); // registered, never online
    let b = Bridge::start(&cfg, api, &dir.path().join("bridge.log"));
    let _agent = start_agent(&st, &dir.path().join("agent.log"));
    let path = "/v1/tenants/acme-retail/roles/factory-worker";
    let toml = std::fs::read_to_string(system_tests::examples().join("roles/factory-worker.toml"))
        .expect("shipped role");

    // Refused with the kiosk validator's errors; nothing is stored or sent.
    let bad = toml.replace("pass_threshold = 60", "pass_threshold = 160");
    let (code, e) = put(api, path, TOKEN, "application/toml", bad);
    assert_eq!(code, 422, "{e}");
    assert_eq!(e["errors"][0]["field"], "pass_threshold", "{e}");
    assert_eq!(e["errors"][0]["role"], "factory-worker", "{e}");
    let (code, e) = put(api, path, TOKEN, "application/toml", "id = [".into());
    assert_eq!(
        (code, e["errors"][0]["field"].as_str()),
        (422, Some("(file)")),
        "{e}"
    );
    let (code, e) = put(
        api,
        "/v1/tenants/acme-retail/roles/nurse",
        TOKEN,
        "application/toml",
        toml.clone(),
    );
    assert_eq!(
        (code, e["errors"][0]["field"].as_str()),
        (422, Some("id")),
        "{e}"
    );
    assert_eq!(b.get(path, TOKEN).0, 404, "nothing stored");
    // Another tenant's path does not exist for this token, and the other token cannot write here.
    assert_eq!(
        put(
            api,
            "/v1/tenants/globex/roles/factory-worker",
            TOKEN,
            "application/toml",
            toml.clone()
        )
        .0,
        404
    );
    assert_eq!(
        put(api, path, OTHER_TOKEN, "application/toml", toml.clone()).0,
        404
    );

    // Accepted: version 1; the same body again is no new version; a change as JSON is version 2.
    let (code, r) = put(api, path, TOKEN, "application/toml", toml.clone());
    assert_eq!((code, r["version"].as_i64()), (200, Some(1)), "{r}");
    let (_, r) = put(api, path, TOKEN, "application/toml", toml.clone());
    assert_eq!(r["version"], 1, "unchanged");
    let mut role = r["role"].clone();
    role["pass_threshold"] = serde_json::json!(65);
    let (code, r) = put(api, path, TOKEN, "application/json", role.to_string());
    assert_eq!((code, r["version"].as_i64()), (200, Some(2)), "{r}");

    // The online device gets version 2 and says so in its health; the offline one does not.
    let status = wait_until("the device holds version 2", LONG, || {
        let (_, r) = b.get(path, TOKEN);
        let mine = r["devices"]
            .as_array()
            .and_then(|d| d.iter().find(|x| x["device_id"] == DEVICE).cloned());
        (
            mine.is_some_and(|m| m["up_to_date"] == true && m["holds_version"] == 2),
            r,
        )
    });
    let (_, held) = Store::open(&database(dir.path()))
        .expect("store")
        .inbox_get("config", "role:factory-worker")
        .expect("inbox")
        .expect("the agent stored it");
    let held: serde_json::Value = serde_json::from_str(&held).expect("json");
    assert_eq!(held["body"]["role"]["pass_threshold"], 65);
    let other = status["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|x| x["device_id"] == "kiosk-02").cloned())
        .expect("kiosk-02 listed");
    assert_eq!(other["up_to_date"], false, "{other}");
    assert!(other["sends"].as_i64().unwrap_or(0) >= 1, "{other}");
    let (_, devices) = b.get("/v1/devices", TOKEN);
    assert_eq!(
        devices[0]["config_versions"]["role:factory-worker"], 2,
        "{devices}"
    );
}

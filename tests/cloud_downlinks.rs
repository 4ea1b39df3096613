//! What HR sends down, cloud side, all real (agent, Mosquitto, `cloud-bridge`, PostgreSQL).
//! Deletion on request: a `kiosk demo` interview's personal data is gone from every table at once
//! (searched in a `pg_dump`), the device's agent carries the request out (searched in every
//! byte of the kiosk's data folder), and its `deletion_completed` completes it with a signed
//! webhook. A deletion asked for at the store (`kiosk forget`) reaches the cloud's copy too. Role configuration: validated with the
//! kiosk's validator, versioned, sent until each device's health says it holds it.

use std::time::Duration;

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

/// One kiosk (`kiosk demo` results, its sync agent) and one bridge, with PostgreSQL, the broker
/// and a webhook receiver, once everything the kiosk made is delivered.
struct Deployed {
    pg: Postgres,
    broker: Broker,
    receiver: Receiver,
    st: std::path::PathBuf,
    b: Bridge,
    _agent: system_tests::AgentProcess,
}

fn deploy(dir: &std::path::Path, sync_extra: &str) -> Deployed {
    let pg = Postgres::start(dir);
    let broker = Broker::start(dir, "");
    let receiver = Receiver::start(0, 0);
    let st = station(dir);
    configure_broker(&st, broker.port, &format!("{FAST_SYNC}{sync_extra}"));
    let (cfg, api) = bridge::config(dir, "bridge-1", &pg.url(), broker.port, receiver.port, "");
    bridge::register(&cfg, DEVICE);
    let b = Bridge::start(&cfg, api, &dir.join("bridge.log"));
    produce(&st, 1);
    let agent = start_agent(&st, &dir.join("agent.log"));
    wait_until("delivered", LONG, || {
        let s = agent_status(&st);
        (s["backlog"] == 0 && s["unconfirmed"] == 0, s)
    });
    Deployed {
        pg,
        broker,
        receiver,
        st,
        b,
        _agent: agent,
    }
}

#[test]
fn a_deletion_removes_the_candidate_centrally_reaches_the_device_and_completes_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let Deployed {
        pg,
        broker,
        receiver,
        st: _,
        b,
        _agent,
    } = deploy(dir.path(), "receipt_timeout_s = 3\n");

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

    // The device carries the request out: the candidate's name, phone and transcript are in no
    // byte of the kiosk's data folder (database, WAL, media), and it confirms with its counts.
    let interview = rec["interview_id"].as_str().expect("interview").to_string();
    let d = wait_until("the device completes the deletion", LONG, || {
        let (_, d) = b.get(&format!("/v1/deletions/{request}"), TOKEN);
        (d["state"] == "completed", d)
    });
    assert_eq!(d["devices"][0]["removed"]["candidate"], 1, "{d}");
    assert_eq!(d["devices"][0]["removed"]["answers"], 3, "{d}");
    assert!(
        d["devices"][0]["removed"]["outbox_events"].as_i64() >= Some(1),
        "{d}"
    );
    let store = system_tests::open_store(dir.path()).expect("store");
    assert!(
        store.result_row(&interview).is_err(),
        "the interview is gone from the kiosk"
    );
    let tomb = store.tombstone(&request).expect("read").expect("tombstone");
    assert_eq!(tomb.interviews, vec![interview.clone()]);
    assert!(store.check_consistency().expect("check").is_empty());
    drop(store);
    let data = database(dir.path())
        .parent()
        .expect("data folder")
        .to_path_buf();
    let bytes = all_bytes(&data);
    for needle in [&name, &phone, &phrase] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} is still on the kiosk's disk"
        );
    }
    let hooks = wait_until("the deletion.completed webhook", LONG, || {
        let got: Vec<_> = receiver
            .deliveries()
            .into_iter()
            .filter(|x| x.body["type"] == "deletion.completed")
            .collect();
        (!got.is_empty(), got)
    });
    // A second confirmation of the same request changes nothing.
    let dev = RawDevice::connect(broker.port, DEVICE);
    let done = serde_json::json!({
        "request_id": request, "interview": {"value": interview, "scheme": "kiosk_interview_id"},
        "removed": {"candidate": 1},
        "completed_at": "2026-12-03T10:05:00+08:00",
    });
    let topic = format!("kiosk/v1/acme-retail/sh-pudong-001/{DEVICE}/events/deletion_completed");
    dev.publish(
        &topic,
        envelope(DEVICE, "del-2", "deletion_completed", 1, done),
    );
    wait_until("the repeat is recorded", LONG, || {
        let o = pg.psql("SELECT outcome FROM events WHERE event_id = 'del-2'");
        (!o.is_empty(), o)
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
    let agent_log = std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
    assert!(
        !agent_log.contains(&name) && !agent_log.contains(&phone),
        "no personal data in the agent's log"
    );
}

/// Every byte of the files under `dir`.
fn all_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            out.extend(b);
        }
    }
    out
}

#[test]
fn a_deletion_asked_for_at_the_store_removes_the_cloud_copy_too() {
    let dir = tempfile::tempdir().expect("tmp");
    let Deployed {
        pg,
        broker,
        receiver,
        st,
        b,
        _agent: agent,
    } = deploy(dir.path(), "");
    let (_, list) = b.get("/v1/candidates", TOKEN);
    let c = list
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["name"].is_string())
        .expect("a named candidate")
        .clone();
    let (id, receipt) = (
        c["candidate_id"].as_str().expect("id"),
        c["receipt"].as_str().expect("receipt"),
    );
    let name = c["name"].as_str().expect("name");

    // The manager deletes the candidate on the kiosk by their receipt code.
    let station_arg = st.to_str().expect("utf8");
    let out = system_tests::kiosk(&[
        "forget",
        "--station",
        station_arg,
        "--receipt",
        &receipt.to_lowercase(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(done["removed"]["candidate"], 1, "{done}");
    // Naming nobody is a usage mistake, and says so.
    let out = system_tests::kiosk(&["forget", "--station", station_arg, "--receipt", "ZZZZ-ZZZZ"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no candidate on this kiosk matches"));

    // The cloud hears of it and deletes its copy, recorded as the store manager's request.
    let rec = wait_until("the cloud's copy deleted", LONG, || {
        let (_, rec) = b.get(&format!("/v1/candidates/{id}"), TOKEN);
        (rec["personal_data_deleted_at"].is_string(), rec)
    });
    assert!(rec["name"].is_null() && rec["answers"].is_null(), "{rec}");
    assert!(
        !pg.dump().contains(name),
        "{name} is still stored centrally"
    );
    let hook = wait_until("the deletion.completed webhook", LONG, || {
        let got: Vec<_> = receiver
            .deliveries()
            .into_iter()
            .filter(|x| x.body["type"] == "deletion.completed")
            .collect();
        (got.len() == 1, got)
    });
    assert_eq!(hook[0].body["data"]["candidate_id"], id);
    let by = pg.psql(&format!(
        "SELECT requested_by || ' ' || device_state FROM deletions WHERE candidate_id = '{id}'"
    ));
    assert!(
        by.starts_with("store manager on kiosk-01") && by.ends_with("completed"),
        "{by}"
    );

    // A result sent just before the manager deleted it, held up on its way (another bridge, a
    // slow broker), reaches the cloud after the deletion: the deletion waits for it and applies
    // the moment it arrives.
    drop(agent);
    let out = system_tests::kiosk(&[
        "score",
        "--station",
        station_arg,
        "--role",
        "factory-worker",
        "--json",
        "--answer",
        "我想找稳定的工作",
        "--answer",
        "可以",
        "--answer",
        "在纺织厂做过三年",
        "--name",
        "林小雨",
        "--phone",
        "13912340000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scored: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let interview = scored["interview_id"].as_str().expect("interview");
    let result = system_tests::open_store(dir.path())
        .expect("store")
        .outbox_pending(0, 100)
        .expect("outbox")
        .into_iter()
        .find(|e| e.payload.contains(interview))
        .expect("the result's event");
    let dev = RawDevice::connect(broker.port, DEVICE);
    let done = serde_json::json!({
        "request_id": "local-late", "interview": {"value": interview, "scheme": "kiosk_interview_id"},
        "removed": {"candidate": 1}, "completed_at": "2026-12-06T10:05:00+08:00",
    });
    dev.publish(
        &format!("kiosk/v1/acme-retail/sh-pudong-001/{DEVICE}/events/deletion_completed"),
        envelope(DEVICE, "del-late", "deletion_completed", 1, done),
    );
    wait_until("the deletion waits for its interview", LONG, || {
        let o = pg.psql("SELECT outcome FROM events WHERE event_id = 'del-late'");
        (o == "waiting_for_interview", o)
    });
    dev.publish(&result.topic, result.payload.into_bytes());
    let by = wait_until("deleted as it arrived", LONG, || {
        let by = pg.psql(&format!(
            "SELECT d.requested_by FROM deletions d JOIN candidates c USING (candidate_id)
             WHERE c.interview_id = '{interview}' AND c.deleted_at IS NOT NULL"
        ));
        (!by.is_empty(), by)
    });
    assert!(by.contains("local-late"), "{by}");
    assert!(
        !pg.dump().contains("林小雨"),
        "the late result's name is stored centrally"
    );
    assert_eq!(
        pg.psql("SELECT outcome FROM events WHERE event_id = 'del-late'"),
        "applied"
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
    let (_, held) = system_tests::open_store(dir.path())
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

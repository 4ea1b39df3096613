//! Rostering end to end, all real (kiosk demo, agent, Mosquitto, `cloud-bridge`, PostgreSQL): HR
//! puts a 20-nurse ward's rota; the store manager advances the demo's nurse on the kiosk (she
//! said when she can work); HR moves her to onboarding, and the solved first week — the two open
//! nights — reaches HR's API and webhook and the store's kiosk inbox;
//! a changed rota re-solves it as version 2, a withdrawal cancels it as version 3. Bad rotas
//! (API and CSV) are refused with the row named; another tenant sees nothing.

use std::time::Duration;

use chrono::{Datelike, Duration as Days, NaiveDate, Utc};
use kiosk_store::{Decision, StationIdentity};
use serde_json::{Value, json};
use system_tests::bridge::{self, Bridge, OTHER_TOKEN, Receiver, TOKEN};
use system_tests::broker::Broker;
use system_tests::postgres::Postgres;
use system_tests::{
    FAST_SYNC, agent_status, configure_broker, produce, start_agent, station, wait_until,
};

const LONG: Duration = Duration::from_secs(120);
const DEVICE: &str = "kiosk-01";
const STORE: &str = "sh-pudong-001";

const RULES: &str = r#"
[[rule_pack]]
region = "cn"
min_rest_hours = 11
max_consecutive_nights = 3
"#;

const ROSTER: &str = r#"
[tenant.roster]
region = "cn"
skills = ["nurse", "cashier"]
[tenant.roster.roles."*"]
skills = ["nurse"]
contract = { max_hours_week = 40, max_shifts_day = 1, nights_allowed = true }
"#;

/// Next Monday (the rota's week, always ahead so the roster is current).
fn monday() -> NaiveDate {
    let today = Utc::now().date_naive();
    today + Days::days(7 - i64::from(today.weekday().num_days_from_monday()))
}

/// The brief's ward: 20 nurses, 12 h days 08:00–20:00 and nights 20:00–08:00, every place taken
/// but one on each night in `open`.
fn ward(start: NaiveDate, open: &[i64]) -> Value {
    let employees: Vec<Value> = (0..20)
        .map(|i| {
            json!({"id": format!("n{i:02}"), "first_name": format!("Nurse{i:02}"), "skills": ["nurse"],
                   "contract": {"max_hours_week": 48}, "experienced": i % 4 == 0})
        })
        .collect();
    let (mut demand, mut assignments, mut next) = (vec![], vec![], 0);
    for day in 0..7 {
        for (kind, from, needed) in [("day", 8, 3), ("night", 20, 2)] {
            let id = format!("{kind}-{day}");
            let s = (start + Days::days(day))
                .and_hms_opt(from, 0, 0)
                .expect("time");
            demand.push(
                json!({"id": id, "start": s, "end": s + Days::hours(12), "skill": "nurse",
                               "needed": needed, "location": "Ward 3"}),
            );
            let free = usize::from(kind == "night" && open.contains(&day));
            for _ in 0..needed - free {
                assignments.push(json!({"demand": id, "employee": format!("n{:02}", next % 20)}));
                next += 1;
            }
        }
    }
    json!({"week_start": start, "employees": employees, "demand": demand, "assignments": assignments})
}

fn put(api: u16, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let r = reqwest::blocking::Client::new()
        .put(format!("http://127.0.0.1:{api}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .expect("PUT");
    let code = r.status().as_u16();
    (code, r.json().unwrap_or(Value::Null))
}

fn demands(roster: &Value) -> Vec<String> {
    roster["shifts"]
        .as_array()
        .map(|s| {
            s.iter()
                .map(|x| x["demand"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The roster the kiosk holds for `candidate`: (version, body).
fn on_kiosk(dir: &std::path::Path, candidate: &str) -> Option<(i64, Value)> {
    let (v, body) = system_tests::open_store(dir)
        .ok()?
        .inbox_get("roster", candidate)
        .ok()??;
    let doc: Value = serde_json::from_str(&body).ok()?;
    Some((v, doc["body"].clone()))
}

#[test]
fn an_onboarding_nurse_gets_the_open_nights_on_the_kiosk_and_changes_publish_new_versions() {
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start(dir.path());
    let broker = Broker::start(dir.path(), "");
    let receiver = Receiver::start(0, 0);
    let st = station(dir.path());
    configure_broker(&st, broker.port, FAST_SYNC);
    let (cfg, api) = bridge::config(
        dir.path(),
        "bridge-1",
        &pg.url(),
        broker.port,
        receiver.port,
        "",
    );
    bridge::with_acme(&cfg, RULES, ROSTER);
    bridge::register(&cfg, DEVICE);
    let b = Bridge::start(&cfg, api, &dir.path().join("bridge.log"));
    produce(&st, 1);
    let _agent = start_agent(&st, &dir.path().join("agent.log"));
    wait_until("delivered", LONG, || {
        let s = agent_status(&st);
        (s["backlog"] == 0 && s["unconfirmed"] == 0, s)
    });
    let start = monday();
    let path = format!("/v1/stores/{STORE}/roster");

    // Bad rotas are refused with what to fix; nothing is stored.
    let mut bad = ward(start, &[1, 4]);
    bad["demand"][3]["skill"] = json!("surgeon");
    let (code, e) = put(api, &path, TOKEN, &bad);
    assert_eq!(code, 422, "{e}");
    assert!(e["error"].as_str().unwrap_or("").contains("surgeon"), "{e}");
    let mut bad = ward(start, &[1, 4]);
    bad["demand"][0]["start"] = json!("Monday 8am");
    let (code, e) = put(api, &path, TOKEN, &bad);
    assert_eq!(code, 422, "{e}");
    let mut bad = ward(start, &[1, 4]);
    bad["assignments"][0]["demand"] = json!("night-0");
    bad["assignments"][1]["demand"] = json!("night-0");
    bad["assignments"][2]["demand"] = json!("night-0");
    let (code, e) = put(api, &path, TOKEN, &bad);
    assert_eq!(code, 422, "{e}");
    let week = format!("{path}?week_start={start}");
    assert_eq!(b.get(&week, TOKEN).0, 404, "nothing stored");

    // The rota; another tenant cannot read it, and has no rostering to write to.
    let (code, r) = put(api, &path, TOKEN, &ward(start, &[1, 4]));
    assert_eq!(code, 200, "{r}");
    assert_eq!(b.get(&week, TOKEN).0, 200);
    assert_eq!(b.get(&week, OTHER_TOKEN).0, 404);
    assert_eq!(put(api, &path, OTHER_TOKEN, &ward(start, &[1])).0, 409);

    // The nurse the demo interviewed (she said "I can do nights but not Sundays"): the store
    // manager advances her on the kiosk, and the decision reaches HR as `passed`.
    let mut kiosk = system_tests::open_store(dir.path()).expect("kiosk store");
    let nurse = kiosk
        .list_results(10)
        .expect("results")
        .into_iter()
        .find(|r| r.role == "nurse")
        .expect("the demo's nurse");
    let station = StationIdentity {
        tenant: "acme-retail".into(),
        store_id: STORE.into(),
        device_id: DEVICE.into(),
    };
    kiosk
        .record_decision(
            &station,
            &nurse.interview_id,
            Decision::Advance,
            "reason_fit",
            "manager",
        )
        .expect("decision");
    let (_, list) = b.get("/v1/candidates", TOKEN);
    let id = list
        .as_array()
        .and_then(|l| l.iter().find(|c| c["receipt"] == nurse.receipt.as_str()))
        .and_then(|c| c["candidate_id"].as_str())
        .expect("the nurse in HR's list")
        .to_string();
    let status = format!("/v1/candidates/{id}/status");
    let rec = wait_until("the manager's advance reaches HR", LONG, || {
        let (_, r) = b.get(&format!("/v1/candidates/{id}"), TOKEN);
        (r["status"] == "passed", r)
    });
    assert_eq!(rec["availability"]["parts"], json!(["night"]), "{rec}");
    assert_eq!(rec["availability"]["days"], json!(["weekdays"]), "{rec}");
    assert_eq!(
        b.get(&format!("/v1/candidates/{id}/roster"), TOKEN).0,
        404,
        "not onboarding yet"
    );
    let (code, r) = b.post(
        &status,
        TOKEN,
        &json!({"status": "onboarding", "reason": "offer accepted", "start_date": start}),
    );
    assert_eq!(code, 200, "{r}");

    // Solved in that transaction: the two open nights, with rest between them.
    let (code, roster) = b.get(&format!("/v1/candidates/{id}/roster"), TOKEN);
    assert_eq!(code, 200, "{roster}");
    assert_eq!(demands(&roster), ["night-1", "night-4"], "{roster}");
    assert_eq!(roster["version"], 1);
    assert!(
        roster["unfilled"].as_array().is_some_and(Vec::is_empty),
        "{roster}"
    );
    assert!(
        roster["shifts"][1]["rest_before_hours"]
            .as_f64()
            .unwrap_or(0.0)
            >= 11.0
    );
    assert_eq!(
        b.get(&format!("/v1/candidates/{id}/roster"), OTHER_TOKEN).0,
        404
    );

    // HR's webhook and the store's kiosk get the same week.
    let hook = wait_until("roster.published webhook", LONG, || {
        let d = receiver.deliveries();
        let hit = d
            .iter()
            .find(|x| x.body["type"] == "roster.published")
            .map(|x| x.body.clone());
        (hit.is_some(), hit)
    })
    .expect("hook");
    assert_eq!(demands(&hook["data"]), ["night-1", "night-4"], "{hook}");
    assert!(
        hook["data"].get("employee").is_none() && hook["data"].get("first_name").is_none(),
        "webhook bodies carry no names: {hook}"
    );
    let (v, held) = wait_until("the kiosk holds version 1", LONG, || {
        let r = on_kiosk(dir.path(), &id);
        (r.as_ref().is_some_and(|(v, _)| *v == 1), r)
    })
    .expect("held");
    assert_eq!(v, 1);
    assert_eq!(demands(&held), ["night-1", "night-4"]);
    assert_eq!(held["shifts"][0]["location"], "Ward 3");

    // Night 4 gets staffed: re-solved as version 2, which replaces version 1 on the kiosk.
    let (code, r) = put(api, &path, TOKEN, &ward(start, &[1]));
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["resolved"][0], id.as_str(), "{r}");
    let (_, roster) = b.get(&format!("/v1/candidates/{id}/roster"), TOKEN);
    assert_eq!(
        (demands(&roster), roster["version"].as_i64()),
        (vec!["night-1".to_string()], Some(2))
    );
    wait_until("the kiosk holds version 2", LONG, || {
        let r = on_kiosk(dir.path(), &id);
        (
            r.as_ref()
                .is_some_and(|(v, b)| *v == 2 && demands(b) == ["night-1"]),
            r,
        )
    });

    // The candidate withdraws: version 3, cancelled, no shifts.
    let (code, r) = b.post(
        &status,
        TOKEN,
        &json!({"status": "withdrawn", "reason": "took another job"}),
    );
    assert_eq!(code, 200, "{r}");
    let (_, held) = wait_until("the kiosk holds version 3", LONG, || {
        let r = on_kiosk(dir.path(), &id);
        (r.as_ref().is_some_and(|(v, _)| *v == 3), r)
    })
    .expect("held");
    assert_eq!(held["state"], "cancelled");
    assert!(demands(&held).is_empty());
}

#[test]
fn a_csv_rota_is_imported_or_refused_with_the_file_line_and_cell() {
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start(dir.path());
    let (cfg, _) = bridge::config(dir.path(), "bridge-1", &pg.url(), 1, 1, "");
    bridge::with_acme(&cfg, RULES, ROSTER);
    let employees = dir.path().join("employees.csv");
    let shifts = dir.path().join("shifts.csv");
    let assignments = dir.path().join("assignments.csv");
    std::fs::write(
        &employees,
        "id,first_name,skills,max_hours_week,max_shifts_day,nights_allowed,unavailable,experienced\n\
         n1,Li,nurse,40,1,yes,2026-12-09,yes\n\
         n2,Wang,nurse;cashier,24,1,no,,no\n",
    )
    .expect("write");
    std::fs::write(
        &shifts,
        "id,start,end,skill,needed,location\n\
         mon-night,2026-12-07 20:00,2026-12-08 08:00,nurse,2,Ward 3\n\
         tue-day,2026-12-08 08:00,2026-12-08 20:00,nurse,1,Ward 3\n",
    )
    .expect("write");
    std::fs::write(&assignments, "shift,employee\nmon-night,n1\n").expect("write");
    let import = |extra: &[&str]| {
        let mut args = vec![
            "roster",
            "import",
            "--tenant",
            "acme-retail",
            "--store",
            STORE,
            "--week",
            "2026-12-07",
            "--employees",
            employees.to_str().expect("utf8"),
            "--shifts",
            shifts.to_str().expect("utf8"),
        ];
        args.extend_from_slice(extra);
        std::process::Command::new(system_tests::binary("cloud-bridge"))
            .arg("--config")
            .arg(&cfg)
            .args(&args)
            .output()
            .expect("runs")
    };
    let ok = import(&["--assignments", assignments.to_str().expect("utf8")]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        out.contains("2 employees, 2 shifts, 1 assignments"),
        "{out}"
    );

    // A time in the wrong format: the file, the line and the column.
    std::fs::write(
        &shifts,
        "id,start,end,skill,needed,location\n\
         mon-night,2026-12-07 20:00,2026-12-08 08:00,nurse,2,Ward 3\n\
         tue-day,Tuesday 8am,2026-12-08 20:00,nurse,1,Ward 3\n",
    )
    .expect("write");
    let bad = import(&[]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("shifts.csv line 3") && err.contains("start") && err.contains("Tuesday 8am"),
        "{err}"
    );

    // An unknown skill is refused by the tenant's list, naming the shift.
    std::fs::write(
        &shifts,
        "id,start,end,skill,needed,location\nmon-night,2026-12-07 20:00,2026-12-08 08:00,midwife,2,Ward 3\n",
    )
    .expect("write");
    let bad = import(&[]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && err.contains("mon-night") && err.contains("midwife"),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
}

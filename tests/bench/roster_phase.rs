//! cloud-bench's rostering phase: the sample 50-employee store's rota put through the HR API,
//! then new hires moved to onboarding one by one — the status call (which commits the solved
//! roster) timed, and the time until the roster is in the kiosk's inbox over MQTT.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{Datelike, Duration as Days, Utc};
use cloud_roster::{RulePack, sample, solve_store};
use serde_json::json;
use system_tests::bridge::{Bridge, TOKEN};

/// The rule pack and the tenant's rostering settings the bridges get for this phase.
pub const RULES: &str = "[[rule_pack]]\nregion = \"cn\"\n";
/// The tenant's `[tenant.roster]`.
pub const ROSTER: &str = "[tenant.roster]\nregion = \"cn\"\n[tenant.roster.roles.\"*\"]\n\
    skills = [\"cashier\", \"stock\"]\ncontract = { max_hours_week = 40 }\n";

/// (status call → roster committed, status call → roster in the kiosk inbox), ms, sorted.
pub fn latencies(dir: &Path, b: &Bridge, api: u16, hires: usize) -> (Vec<f64>, Vec<f64>) {
    let today = Utc::now().date_naive();
    let monday = today + Days::days(7 - i64::from(today.weekday().num_days_from_monday()));
    let mut week = sample::store_week(monday);
    week.assignments = solve_store(&week, &RulePack::default(), Duration::from_secs(5))
        .expect("sample solves")
        .assignments;
    // Every seventh place left open: the gaps the new hires fill.
    let mut i = 0;
    week.assignments.retain(|_| {
        i += 1;
        i % 7 != 0
    });
    let r = reqwest::blocking::Client::new()
        .put(format!(
            "http://127.0.0.1:{api}/v1/stores/sh-pudong-001/roster"
        ))
        .bearer_auth(TOKEN)
        .json(&week)
        .send()
        .expect("PUT rota");
    assert!(r.status().is_success(), "{:?}", r.text());
    let (_, list) = b.get("/v1/candidates?status=awaiting_review&limit=200", TOKEN);
    let ids: Vec<String> = list
        .as_array()
        .expect("candidates")
        .iter()
        .filter_map(|c| c["candidate_id"].as_str().map(String::from))
        .take(hires)
        .collect();
    assert_eq!(ids.len(), hires, "enough candidates awaiting review");
    let (mut committed, mut kiosk) = (vec![], vec![]);
    for id in &ids {
        let path = format!("/v1/candidates/{id}/status");
        let (code, r) = b.post(
            &path,
            TOKEN,
            &json!({"status": "passed", "reason": "bench"}),
        );
        assert_eq!(code, 200, "{r}");
        let t = Instant::now();
        let (code, r) = b.post(
            &path,
            TOKEN,
            &json!({"status": "onboarding", "reason": "bench", "start_date": monday}),
        );
        committed.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(code, 200, "{r}");
        loop {
            let held = system_tests::open_store(dir)
                .ok()
                .and_then(|s| s.inbox_get("roster", id).ok().flatten())
                .is_some();
            if held {
                kiosk.push(t.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "roster of {id} never reached the kiosk"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    committed.sort_by(f64::total_cmp);
    kiosk.sort_by(f64::total_cmp);
    (committed, kiosk)
}

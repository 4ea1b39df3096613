//! `cargo bench -p cloud-roster`: a 50-employee store, 3 shift types, 7 days — the first week of
//! one new hire and a whole-store re-solve — ours (good_lp + microlp) beside OR-Tools CP-SAT on
//! the identical programme, same run. Prints a table. Not a test.
//!
//! The peer runs in `ROSTER_BENCH_PYTHON` (default `/var/tmp/kiosk-bench-venv/bin/python`, where
//! `dev.sh bench` installs `ortools`); its time is CP-SAT's own wall time of the solve.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use cloud_roster::{
    Availability, Contract, DayPart, Lp, NewHire, RulePack, new_hire_model, solve_new_hire,
    solve_store, store_model,
};

const STORE_LIMIT: Duration = Duration::from_secs(5);

struct Peer {
    ms: f64,
    objective: f64,
    status: String,
}

fn peer(lp: &Lp, limit: Duration) -> Result<Peer, String> {
    let python = std::env::var("ROSTER_BENCH_PYTHON")
        .unwrap_or_else(|_| "/var/tmp/kiosk-bench-venv/bin/python".into());
    let dir = std::env::temp_dir().join(format!("roster-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("model.json");
    std::fs::write(&path, serde_json::to_vec(lp).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/cpsat_peer.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(&path)
        .arg(limit.as_secs_f64().to_string())
        .output()
        .map_err(|e| format!("{python}: {e} (dev.sh bench installs ortools there)"))?;
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let values: Vec<f64> = v["values"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
        .unwrap_or_default();
    if !lp.feasible(&values, 1e-6) {
        return Err(format!("CP-SAT's answer breaks the model: {}", v["status"]));
    }
    Ok(Peer {
        ms: v["solve_s"].as_f64().unwrap_or(f64::NAN) * 1000.0,
        objective: lp.objective_of(&values),
        status: v["status"].as_str().unwrap_or("?").to_lowercase(),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn row(case: &str, lp: &Lp, ms: f64, objective: f64, status: &str, limit: Duration) {
    let p = peer(lp, limit);
    match p {
        Ok(p) => println!(
            "| {case} | {} | {} | {ms:.1} | {objective:.2} | {status} | {:.1} | {:.2} | {} | {:.2}× | {:.4} |",
            lp.vars.len(),
            lp.rows.len(),
            p.ms,
            p.objective,
            p.status,
            ms / p.ms,
            objective / p.objective
        ),
        Err(e) => println!(
            "| {case} | {} | {} | {ms:.1} | {objective:.2} | {status} | peer not run: {} | | | | |",
            lp.vars.len(),
            lp.rows.len(),
            e.lines().last().unwrap_or("")
        ),
    }
}

fn main() {
    let mut rng = fastrand::Rng::with_seed(2026);
    let rules = RulePack::default();
    let mut week =
        cloud_roster::sample::store_week(NaiveDate::from_ymd_opt(2026, 12, 7).expect("date"));

    // The whole store, everyone movable.
    let (lp, _) = store_model(&week, &rules).expect("model");
    let t = Instant::now();
    let whole = solve_store(&week, &rules, STORE_LIMIT).expect("solves");
    let whole_ms = t.elapsed().as_secs_f64() * 1000.0;
    let whole_status = if whole.optimal {
        "optimal".to_string()
    } else {
        format!("gap {:.2} %", whole.gap.unwrap_or(f64::NAN) * 100.0)
    };

    // That roster with ten people taken off it is the week the new hire joins.
    week.assignments = whole.assignments.clone();
    for _ in 0..10 {
        let i = rng.usize(0..week.assignments.len());
        week.assignments.remove(i);
    }
    let hire = NewHire {
        id: "cand-1".into(),
        first_name: "Mei".into(),
        skills: ["cashier", "stock"].iter().map(|s| s.to_string()).collect(),
        contract: Contract {
            max_hours_week: 40.0,
            max_shifts_day: 1,
            nights_allowed: true,
        },
        availability: Availability {
            prefers: [DayPart::Morning].into(),
            ..Default::default()
        },
        unavailable: BTreeSet::new(),
    };
    let one = new_hire_model(&week, &hire, &rules).expect("model");
    let mut times = vec![];
    let mut roster = None;
    for _ in 0..21 {
        let t = Instant::now();
        roster = Some(solve_new_hire(&week, &hire, &rules).expect("solves"));
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let roster = roster.expect("ran");

    println!(
        "rostering benchmark — 50 employees, 3 shift types × 2 skills, 7 days ({} shifts, {} places); \
         ours: good_lp + microlp, 1 thread; peer: OR-Tools CP-SAT, default workers on this box, \
         same programme, solve time only",
        week.demand.len(),
        week.demand.iter().map(|d| d.needed).sum::<u32>()
    );
    println!(
        "| case | vars | rows | ours ms | ours objective | ours status | CP-SAT ms | CP-SAT objective | CP-SAT status | time ratio (ours/peer) | objective ratio |"
    );
    println!("|---|---:|---:|---:|---:|---|---:|---:|---|---:|---:|");
    row(
        "one new hire (median of 21, model + solve + explanations)",
        &one,
        median(times),
        roster.objective,
        if roster.optimal {
            "optimal"
        } else {
            "not proven"
        },
        Duration::from_secs(5),
    );
    row(
        "whole store re-solve",
        &lp,
        whole_ms,
        whole.objective,
        &whole_status,
        STORE_LIMIT,
    );
    println!(
        "new hire: {} shifts, {} h, {} nights; {} open shifts left; whole store: {} of {} h covered",
        roster.shifts.len(),
        roster.hours,
        roster.nights,
        roster.unfilled.len(),
        whole.covered_hours,
        whole.covered_hours + whole.open_hours
    );
}

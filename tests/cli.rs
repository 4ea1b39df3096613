//! The `kiosk` command line as role authors and tools use it: real binary, real station, real SQLite file.

use std::path::Path;

use serde_json::Value;
use system_tests::{database, kiosk, station};

fn score_json(station: &Path, answers: &[&str]) -> Value {
    let mut args = vec![
        "score",
        "--station",
        station.to_str().expect("utf8"),
        "--role",
        "factory-worker",
        "--json",
    ];
    for a in answers {
        args.extend(["--answer", a]);
    }
    let out = kiosk(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn willingness(v: &Value) -> i64 {
    v["dimensions"]
        .as_array()
        .expect("dims")
        .iter()
        .find(|d| d["id"] == "willingness")
        .expect("w")["score"]
        .as_i64()
        .expect("scored")
}

#[test]
fn score_reads_yes_no_and_empty_answers_like_the_brief_says() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    let yes = score_json(
        &st,
        &[
            "I want a stable job near home",
            "yes, two shifts are fine",
            "two years in a factory",
        ],
    );
    assert!(willingness(&yes) >= 80, "{yes}");
    for field in [
        "interview_id",
        "role",
        "total",
        "recommendation",
        "status",
        "reasons",
        "dimensions",
        "answers",
    ] {
        assert!(yes.get(field).is_some(), "missing {field}");
    }
    assert_eq!(yes["status"], "awaiting_review");
    assert_eq!(yes["answers"][1]["question_id"], "two-shifts");
    assert_eq!(yes["answers"][1]["transcript"], "yes, two shifts are fine");
    let d = &yes["dimensions"][0];
    assert!(
        d.get("id").is_some()
            && d.get("score").is_some()
            && d.get("weight").is_some()
            && d["evidence"].is_array()
    );

    let no = score_json(
        &st,
        &["我想找稳定的工作", "我不能接受两班倒", "在工厂做过两年"],
    );
    assert!(willingness(&no) <= 30, "{no}");
    assert_eq!(no["recommendation"], "not_recommended");

    let empty = score_json(&st, &["", "", ""]);
    assert_eq!(empty["recommendation"], "review");
    assert!(
        empty["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r["code"] == "no_speech")
    );

    // Everything scored was stored as a typed interview, unsynced.
    let out = kiosk(&["results", "--station", st.to_str().expect("utf8"), "--json"]);
    assert!(out.status.success());
    let rows: Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r["source"] == "typed" && r["synced"] == false)
    );
    assert!(
        rows.iter()
            .any(|r| r["interview_id"] == yes["interview_id"])
    );

    let table = kiosk(&["results", "--station", st.to_str().expect("utf8")]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("RECOMMENDATION")
            && text.contains("not_recommended")
            && text.contains("3 event(s) waiting"),
        "{text}"
    );
}

#[test]
fn mistakes_exit_2_with_a_clear_message_and_store_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    let s = st.to_str().expect("utf8");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "score",
                "--station",
                s,
                "--role",
                "astronaut",
                "--answer",
                "yes",
            ],
            "no role `astronaut`",
        ),
        (
            vec![
                "score",
                "--station",
                s,
                "--role",
                "factory-worker",
                "--answer",
                "yes",
            ],
            "3 questions (motivation, two-shifts, experience) but 1 answers",
        ),
        (
            vec![
                "score",
                "--station",
                "/nonexistent/station.toml",
                "--role",
                "nurse",
                "--answer",
                "x",
            ],
            "/nonexistent/station.toml",
        ),
        (vec!["score", "--station", s, "--role", "nurse"], "--answer"),
    ];
    for (args, message) in cases {
        let out = kiosk(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    // A broken role file names the file, the role and the field, and nothing starts.
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    let s = st.to_str().expect("utf8");
    let role = dir.path().join("roles/nurse.toml");
    let text = std::fs::read_to_string(&role)
        .expect("read")
        .replace("weight = 40", "weight = 45");
    std::fs::write(&role, text).expect("write");
    let out = kiosk(&[
        "score",
        "--station",
        s,
        "--role",
        "factory-worker",
        "--answer",
        "a",
        "--answer",
        "b",
        "--answer",
        "c",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("nurse.toml") && err.contains("role `nurse`") && err.contains("sum to 105"),
        "{err}"
    );
    assert!(
        !database(dir.path()).exists(),
        "an invalid config must not touch the store"
    );
}

#[test]
fn demo_scores_the_samples_and_lists_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    let out = kiosk(&["demo", "--station", st.to_str().expect("utf8")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("4 interview(s) saved"), "{text}");
    assert!(
        text.contains("factory-worker → advance")
            && text.contains("factory-worker → not_recommended")
            && text.contains("nurse → review"),
        "{text}"
    );
}

#[test]
fn the_manager_pin_is_read_from_stdin_and_the_example_one_runs_only_demos() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let set_pin = |input: &str| {
        let mut child = Command::new(system_tests::binary("kiosk"))
            .arg("set-pin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kiosk runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
        child.wait_with_output().expect("output")
    };
    let out = set_pin("1357\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        line.starts_with("manager_pin_hash = \"$argon2id$"),
        "{line}"
    );
    for bad in ["12\n", "12ab\n", "2468\n"] {
        let out = set_pin(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
    // A PIN on the command line (process list, shell history) is not taken.
    assert_eq!(kiosk(&["set-pin", "1357"]).status.code(), Some(2));

    // The example station's hash is the demo PIN: a real kiosk refuses to start with it.
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    let out = kiosk(&["run", "--station", st.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("example's") && err.contains("kiosk set-pin"),
        "{err}"
    );
}

#[test]
fn a_backup_restores_on_a_replacement_box_with_the_kept_key_only() {
    let old = tempfile::tempdir().expect("tmp");
    let st = station(old.path());
    score_json(&st, &["我想找稳定的工作", "可以", "在电子厂做过两年"]);
    let key = std::fs::read(old.path().join("store.key")).expect("the first start made a key");
    let out = old.path().join("backup");
    let arg = |p: &Path| p.to_str().expect("utf8").to_string();
    let b = kiosk(&[
        "backup",
        "--station",
        &arg(&st),
        "--out",
        &arg(&out),
        "--json",
    ]);
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let m: Value = serde_json::from_slice(&b.stdout).expect("manifest");
    assert_eq!(m["interviews"], 1);
    assert!(
        !String::from_utf8_lossy(&std::fs::read(out.join("kiosk.sqlite3")).expect("db"))
            .contains("电子厂"),
        "the backup is encrypted"
    );

    // A replacement box: without the key the restore refuses; with it, the interview is back.
    let new = tempfile::tempdir().expect("tmp");
    let st2 = station(new.path());
    let r = kiosk(&["restore", "--station", &arg(&st2), "--from", &arg(&out)]);
    assert_eq!(r.status.code(), Some(2), "no key");
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("store key"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    std::fs::write(new.path().join("store.key"), &key).expect("the kept key");
    let r = kiosk(&["restore", "--station", &arg(&st2), "--from", &arg(&out)]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let list = kiosk(&["results", "--station", &arg(&st2), "--json"]);
    let rows: Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
}

#[test]
fn keygen_makes_a_private_key_once_and_never_replaces_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    let st = st.to_str().expect("utf8");
    let out = kiosk(&["keygen", "--station", st]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("fingerprint"));
    let key = dir.path().join("store.key");
    let made = std::fs::read(&key).expect("key");
    let mode = std::fs::metadata(&key).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let again = kiosk(&["keygen", "--station", st]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("never replaced"));
    assert_eq!(std::fs::read(&key).expect("key"), made, "the key is kept");
    // The kiosk uses the key that was made.
    score_json(Path::new(st), &["我想找稳定的工作", "可以", ""]);
    assert_eq!(std::fs::read(&key).expect("key"), made);
}

#[test]
fn check_json_reports_the_box_health_for_tools() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = system_tests::station_with_models(dir.path());
    score_json(&st, &["我想找稳定的工作", "可以", ""]);
    // No camera here: the check fails (exit 1), but the JSON says what passed and what did not.
    let out = kiosk(&["check", "--station", st.to_str().expect("utf8"), "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let checks = v["checks"].as_array().expect("checks");
    let row = |name: &str| {
        checks
            .iter()
            .find(|c| c["check"].as_str().is_some_and(|s| s.starts_with(name)))
            .unwrap_or_else(|| panic!("no {name} row in {v}"))
    };
    for name in [
        "store key",
        "database",
        "disk free",
        "configuration",
        "model whisper-base",
    ] {
        assert_eq!(row(name)["ok"], true, "{}", row(name));
    }
    assert!(
        row("database")["detail"]
            .as_str()
            .expect("detail")
            .contains("1 event(s) waiting")
    );
    let failed = checks.iter().filter(|c| c["ok"] == false).count();
    assert_eq!(v["failed"].as_u64(), Some(failed as u64));
    assert_eq!(v["ok"], failed == 0);
    assert_eq!(out.status.success(), failed == 0);
    assert!(row("camera").is_object() && row("microphone").is_object());
}

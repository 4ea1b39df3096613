//! The boxes' processes under systemd, without systemd: the notify protocol (readiness, watchdog,
//! stopping) against a socket the test provides as `NOTIFY_SOCKET`, the single-instance lock,
//! exit codes the units rely on, and journald-friendly logs at the station's level.

use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use system_tests::broker::free_port;
use system_tests::notify::NotifySocket;
use system_tests::{binary, configure_broker, station};

fn agent(station: &Path, notify: Option<&Path>, log: &Path) -> Child {
    let mut c = Command::new(binary("sync-agent"));
    c.args(["--station", station.to_str().expect("utf8")])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log"));
    if let Some(sock) = notify {
        c.env("NOTIFY_SOCKET", sock).env("WATCHDOG_USEC", "1000000");
    }
    c.spawn().expect("sync-agent starts")
}

fn term(child: &mut Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().expect("reaped")
}

#[test]
fn the_agent_is_ready_once_its_store_is_open_and_feeds_the_watchdog_while_offline() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    // No broker on this port: the agent keeps trying, and must still feed the watchdog.
    configure_broker(&st, free_port(), system_tests::FAST_SYNC);
    let sock = NotifySocket::bind(&dir.path().join("notify.sock"), false);
    let log = dir.path().join("agent.log");
    let mut child = agent(&st, Some(sock.path()), &log);

    let got = sock.collect(Duration::from_secs(20), |m| m.contains("READY=1"));
    let ready = got.iter().find(|m| m.contains("READY=1"));
    assert!(ready.is_some(), "READY=1 within 20 s: {got:?}");
    assert!(
        ready.is_some_and(|m| m.contains("STATUS=store open")),
        "{got:?}"
    );
    assert!(
        system_tests::database(dir.path()).exists(),
        "ready after the store is open"
    );
    // WATCHDOG_USEC = 1 s: fed every half second, also while it cannot connect.
    let t0 = Instant::now();
    let next = sock.collect(Duration::from_secs(3), |_| false);
    let dogs = next.iter().filter(|m| *m == "WATCHDOG=1").count();
    assert!(
        dogs >= 4,
        "{dogs} WATCHDOG=1 in {:?} (want one per ≤ 0.5 s): {next:?}",
        t0.elapsed()
    );
    let offline = next
        .iter()
        .chain(&got)
        .filter(|m| m.starts_with("STATUS=offline"))
        .count();
    assert_eq!(
        offline, 1,
        "the status line says it is offline, once: {got:?} {next:?}"
    );
    let status = term(&mut child);
    assert!(status.success(), "SIGTERM is a clean stop: {status:?}");
    let rest = sock.collect(Duration::from_millis(500), |_| false);
    assert!(
        rest.iter().any(|m| m.contains("STOPPING=1")),
        "STOPPING=1 on SIGTERM: {rest:?}"
    );
}

#[test]
fn a_second_agent_on_the_same_station_exits_with_who_holds_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    configure_broker(&st, free_port(), system_tests::FAST_SYNC);
    let sock = NotifySocket::bind(&dir.path().join("notify.sock"), false);
    let mut first = agent(&st, Some(sock.path()), &dir.path().join("first.log"));
    let got = sock.collect(Duration::from_secs(20), |m| m.contains("READY=1"));
    assert!(got.iter().any(|m| m.contains("READY=1")), "{got:?}");

    let second = Command::new(binary("sync-agent"))
        .args(["--station", st.to_str().expect("utf8")])
        .output()
        .expect("second agent");
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(3), "{err}");
    assert!(
        err.contains("another sync-agent is already running")
            && err.contains(&first.id().to_string()),
        "names the running one's pid: {err}"
    );
    // The first is unaffected, and once it is gone the station is free again.
    assert!(
        first.try_wait().expect("poll").is_none(),
        "first still runs"
    );
    term(&mut first);
    let mut again = agent(&st, None, &dir.path().join("again.log"));
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        again.try_wait().expect("poll").is_none(),
        "a new agent takes the freed station: {}",
        std::fs::read_to_string(dir.path().join("again.log")).unwrap_or_default()
    );
    term(&mut again);
}

#[test]
fn a_configuration_error_exits_2_so_systemd_does_not_restart_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    let text = std::fs::read_to_string(&st).expect("station");
    std::fs::write(&st, text.replace("locale = \"zh-CN\"", "locale = \"fr\"")).expect("write");
    let out = Command::new(binary("sync-agent"))
        .args(["--station", st.to_str().expect("utf8")])
        .output()
        .expect("agent");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("station.locale"), "{err}");
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning/systemd/sync-agent.service"),
    )
    .expect("unit");
    assert!(unit.contains("RestartPreventExitStatus=2"), "{unit}");
}

/// Runs the agent for a moment with its stderr in `log`, as journald would connect it when
/// `journal` (JOURNAL_STREAM naming that very file), and returns what it wrote.
fn short_run(dir: &Path, st: &Path, journal: bool) -> String {
    let log = dir.join(if journal { "journal.log" } else { "plain.log" });
    let file = std::fs::File::create(&log).expect("log");
    let meta = file.metadata().expect("stat");
    let mut c = Command::new(binary("sync-agent"));
    c.args(["--station", st.to_str().expect("utf8")])
        .env_remove("RUST_LOG")
        .env_remove("JOURNAL_STREAM")
        .stdout(Stdio::null())
        .stderr(file);
    if journal {
        c.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()));
    }
    let mut child = c.spawn().expect("agent");
    std::thread::sleep(Duration::from_millis(1500));
    term(&mut child);
    std::fs::read_to_string(&log).expect("log")
}

#[test]
fn logs_suit_the_journal_and_follow_the_stations_level() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    configure_broker(&st, free_port(), system_tests::FAST_SYNC);

    let journal = short_run(dir.path(), &st, true);
    let lines: Vec<&str> = journal.lines().collect();
    assert!(!lines.is_empty(), "it logged something");
    assert!(
        lines.iter().all(|l| l.starts_with('<')),
        "every line carries a syslog priority: {journal}"
    );
    assert!(
        journal.contains("<6> INFO sync_agent") || journal.contains("<6>INFO sync_agent"),
        "info at priority 6, no timestamp before it: {journal}"
    );
    assert!(
        journal.contains("<4>") && journal.contains("cannot connect"),
        "the failed connection is a warning (priority 4): {journal}"
    );
    assert!(!journal.contains('\u{1b}'), "no colour: {journal:?}");
    assert!(
        !journal.contains("2026-") && !journal.contains("T0"),
        "no timestamps under journald: {journal}"
    );

    let plain = short_run(dir.path(), &st, false);
    assert!(
        !plain.contains('\u{1b}'),
        "no colour when not a terminal: {plain:?}"
    );
    assert!(
        plain
            .lines()
            .next()
            .is_some_and(|l| l.as_bytes()[0].is_ascii_digit()),
        "a timestamp first outside the journal: {plain}"
    );

    // [log] level = "warn": the info lines go.
    let text = std::fs::read_to_string(&st).expect("station");
    std::fs::write(&st, format!("{text}\n[log]\nlevel = \"warn\"\n")).expect("write");
    let quiet = short_run(dir.path(), &st, true);
    assert!(!quiet.contains("INFO"), "{quiet}");
    assert!(quiet.contains("cannot connect"), "warnings stay: {quiet}");
}

#[test]
fn the_agents_health_report_carries_the_boxs_last_check_and_free_disk() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    // No models in this station: the check fails, and says which rows did.
    let check = Command::new(binary("kiosk"))
        .args(["check", "--json", "--station"])
        .arg(&st)
        .output()
        .expect("kiosk check");
    assert_eq!(check.status.code(), Some(1), "some checks fail here");
    let broker = system_tests::broker::Broker::start(dir.path(), "");
    configure_broker(&st, broker.port, system_tests::FAST_SYNC);
    let log = dir.path().join("agent.log");
    let mut child = agent(&st, None, &log);
    let out = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &broker.port.to_string()])
        .args(["-t", "kiosk/v1/+/+/+/health", "-C", "1", "-W", "20"])
        .output()
        .expect("mosquitto_sub (apt-get install mosquitto-clients)");
    term(&mut child);
    let health: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    let summary = &health["check"]["summary"];
    assert_eq!(summary["ok"], false, "{health}");
    assert!(
        summary["failing"]
            .as_array()
            .is_some_and(|f| f.iter().any(|r| r["check"]
                .as_str()
                .is_some_and(|c| c.starts_with("model whisper-base")))),
        "names what failed: {health}"
    );
    assert!(health["check"]["at"].is_string(), "{health}");
    assert!(
        health["disk_free_mb"].as_u64().is_some_and(|mb| mb > 0),
        "{health}"
    );
}

#[test]
fn root_running_a_tool_in_the_kiosk_users_data_folder_is_told_to_use_that_user() {
    if !system_tests::is_root() {
        eprintln!("not root: nothing to check");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    let made = system_tests::kiosk(&["results", "--station", st.to_str().expect("utf8")]);
    assert!(made.status.success());
    let data = dir.path().join("data");
    let owned = Command::new("chown")
        .args(["-R", "nobody:nogroup"])
        .arg(&data)
        .status()
        .expect("chown");
    assert!(owned.success());
    let out = system_tests::kiosk(&["results", "--station", st.to_str().expect("utf8")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("sudo -u nobody"), "{err}");
    let files: Vec<_> = std::fs::read_dir(&data)
        .expect("data")
        .map(|e| e.expect("entry").metadata().expect("meta"))
        .collect();
    assert!(
        files
            .iter()
            .all(|m| std::os::unix::fs::MetadataExt::uid(m) != 0),
        "nothing of root's left in the folder"
    );
}

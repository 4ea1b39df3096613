//! SIGKILL in the middle of a loop of saves never leaves a partial interview, nor an interview
//! without its result or outbox event: real `kiosk` process, real SQLite file, real kill.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use system_tests::{binary, station};

fn count(dir: &std::path::Path) -> i64 {
    system_tests::open_store(dir)
        .and_then(|s| s.interview_count())
        .unwrap_or(0)
}

#[test]
fn sigkill_during_saves_leaves_only_whole_interviews() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    let mut before = 0;
    for round in 0..8u64 {
        let mut child = Command::new(binary("kiosk"))
            .args([
                "demo",
                "--quiet",
                "--rounds",
                "1000000",
                "--station",
                st.to_str().expect("utf8"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("kiosk starts");
        // Let it commit some interviews, then kill it at a different moment each round.
        let deadline = Instant::now() + Duration::from_secs(30);
        while count(dir.path()) < before + 8 {
            assert!(Instant::now() < deadline, "kiosk saved nothing in 30 s");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(3 + round * 7));
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("reaped");
        assert!(
            !status.success(),
            "the loop must have been killed, not finished"
        );

        let store = system_tests::open_store(dir.path()).expect("re-opens after the kill");
        let problems = store.check_consistency().expect("check runs");
        assert!(problems.is_empty(), "round {round}: {problems:#?}");
        let now = store.interview_count().expect("count");
        assert!(
            now > before,
            "round {round}: committed interviews must survive ({before} → {now})"
        );
        let backlog = store.outbox_backlog().expect("backlog");
        assert_eq!(
            backlog.pending, now,
            "one unsent outbox event per interview"
        );
        before = now;
    }
}

//! kiosk.service's command for real: the app fullscreen under cage, as the unit starts it
//! (`cage -d -- env -u WATCHDOG_PID kiosk run …`), as an unprivileged user (cage refuses root),
//! with wlroots' headless backend and pixman renderer (no GPU, no seat here). A scripted interview
//! goes from attract screen to the manager's decision; systemd's side is a notify socket:
//! READY=1, then the watchdog all the way through, although WATCHDOG_PID names another process
//! (cage's, under systemd) until the unit's `env -u` drops it.
//!
//! Not exercised here: tty1 and logind's seat (PAMName, TTYPath), DRM/KMS outputs, real input
//! devices, group-based device access; `systemd-analyze verify` checks those lines' syntax.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use system_tests::notify::{NotifySocket, watchdog};
use system_tests::{alsa_file_conf, binary, repo_models, speak, station_with_models};

fn open_to_all(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn the_app_runs_a_whole_interview_under_cage_and_feeds_the_watchdog() {
    let dir = tempfile::tempdir().expect("tmp");
    // The unprivileged user (nobody here, kiosk on a box) works in this folder.
    open_to_all(dir.path(), 0o777);
    let st = station_with_models(dir.path());
    let clips = dir.path().join("clips/en");
    std::fs::create_dir_all(&clips).expect("mkdir");
    for (i, t) in [
        "Hello, can you hear me?",
        "I want a stable job close to home.",
        "Yes, two shifts are no problem for me.",
        "I worked on a production line for two years.",
    ]
    .iter()
    .enumerate()
    {
        speak(&clips, &format!("{i}"), "en-us", t);
    }
    let infile = dir.path().join("mic.raw");
    let conf = alsa_file_conf(dir.path(), &infile);
    let runtime = dir.path().join("xdg");
    std::fs::create_dir(&runtime).expect("mkdir");
    let nobody = Command::new("id")
        .args(["-u", "nobody"])
        .output()
        .expect("id");
    let uid: u32 = String::from_utf8_lossy(&nobody.stdout)
        .trim()
        .parse()
        .expect("uid");
    std::os::unix::fs::chown(&runtime, Some(uid), None).expect("chown");
    open_to_all(&runtime, 0o700);
    for p in ["clips", "clips/en", "station.toml", "roles", "alsa.conf"] {
        let p = dir.path().join(p);
        open_to_all(&p, if p.is_dir() { 0o777 } else { 0o666 });
    }
    for entry in std::fs::read_dir(dir.path().join("roles")).expect("roles") {
        open_to_all(&entry.expect("entry").path(), 0o644);
    }
    for entry in std::fs::read_dir(&clips).expect("clips") {
        open_to_all(&entry.expect("entry").path(), 0o644);
    }

    let notify = NotifySocket::bind(&dir.path().join("notify.sock"), true);

    let as_root = system_tests::is_root();
    let mut cmd = if as_root {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "cage",
        ]);
        c
    } else {
        Command::new("cage")
    };
    let run = cmd
        .args(["-d", "--", "/usr/bin/env", "-u", "WATCHDOG_PID"])
        .arg(binary("kiosk"))
        .args(["run", "--demo", "--exit", "--station"])
        .arg(&st)
        .arg("--clips")
        .arg(dir.path().join("clips"))
        .arg("--alsa-infile")
        .arg(&infile)
        .arg("--camera-file")
        .arg(repo_models().join("fixtures/astronaut.png"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("RUST_LOG")
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("HOME", dir.path())
        .env("WLR_BACKENDS", "headless")
        .env("WLR_RENDERER", "pixman")
        .env("WLR_LIBINPUT_NO_DEVICES", "1")
        .env("ALSA_CONFIG_PATH", &conf)
        .env("NOTIFY_SOCKET", notify.path())
        .env("WATCHDOG_USEC", "4000000")
        // Under systemd this is cage's pid: the app would take the watchdog as not its own.
        .env("WATCHDOG_PID", "1")
        .output()
        .expect("cage (apt-get install cage xwayland)");
    let notes = notify.finish();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("kiosk app ready"),
        "the app came up under cage:\n{stderr}"
    );
    let dog = watchdog(&notes);
    assert!(dog.ready, "READY=1: {notes:?}\n{stderr}");
    assert!(dog.pings >= 10, "{} WATCHDOG=1:\n{stderr}", dog.pings);
    assert!(
        dog.longest_gap < Duration::from_secs(4),
        "longest watchdog gap {:?}",
        dog.longest_gap
    );
    // The interview went through the app and into the store (the folder is given back to root
    // first: the store refuses root in a folder another user owns).
    if as_root {
        let back = Command::new("chown")
            .args(["-R", "0:0"])
            .arg(dir.path().join("data"))
            .status()
            .expect("chown");
        assert!(back.success());
    }
    let store = system_tests::open_store(dir.path()).expect("store");
    let rows = store.list_results(10).expect("results");
    assert_eq!(rows.len(), 1, "one interview stored: {rows:?}\n{stderr}");
    let d = store
        .interview_detail(&rows[0].interview_id)
        .expect("detail");
    assert_eq!(d.answers.len(), 3);
    assert_eq!(d.decisions.len(), 1, "the manager decided");
}

//! The Debian packages on a bare Debian 12 (debootstrap root, chroot): what they install (files,
//! the kiosk user and its groups, permissions, the store key, units enabled), that
//! `systemd-analyze verify` passes on every unit and `kiosk check --json` runs inside as the
//! kiosk user; an upgrade N → N+1 migrates the offline interviews to the new schema and keeps
//! them, the store key and the admin's edits to the conffile, and the agent of N+1 drains the
//! backlog to a TLS broker; removing keeps
//! the data, a non-interactive purge keeps it too, and a purge answered "yes" (debconf) deletes it.
//! Not exercised here (no systemd as PID 1, no display device): units started by systemd, tty1,
//! logind's seat. tests/cage.rs and tests/service.rs run the same command lines outside.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use kiosk_store::{SCHEMA_VERSION, Store, StoreKey};
use system_tests::broker::Broker;
use system_tests::cloud::Cloud;
use system_tests::debroot::DebRoot;
use system_tests::{binary, examples, make_certs, output_text, provisioning, wait_until};

const THIS: &str = "acme-retail/sh-pudong-001/kiosk-01";
const STATION: &str = "/etc/kiosk/station.toml";

/// `provisioning/package.sh` over the binaries this test run was built with.
fn package(out: &Path, version: &str, only: &str) {
    let target = binary("kiosk")
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf();
    let status = Command::new(provisioning().join("package.sh"))
        .args(["--profile", "dev", "--deb-version", version, "--only", only])
        .arg("--out")
        .arg(out)
        .arg("--models")
        .arg(system_tests::repo_models())
        .env("CARGO_TARGET_DIR", target)
        .status()
        .expect("package.sh runs");
    assert!(status.success(), "package.sh failed");
}

fn installed_version(root: &DebRoot, package: &str) -> String {
    let out = root.run(&["dpkg-query", "-W", "-f=${Status} ${Version}", package]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn id_of(root: &DebRoot, what: &str, name: &str) -> u32 {
    let out = root.ok(&["getent", what, name]);
    let line = String::from_utf8_lossy(&out.stdout).to_string();
    line.split(':').nth(2).expect("id").parse().expect("number")
}

/// `sync-agent status --json` inside the root, as the kiosk user.
fn status(root: &DebRoot) -> serde_json::Value {
    let out = root
        .as_kiosk(&["sync-agent", "status", "--json", "--station", STATION])
        .output()
        .expect("status runs");
    assert!(out.status.success(), "{}", output_text(&out));
    serde_json::from_slice(&out.stdout).expect("status json")
}

fn mode(root: &DebRoot, path: &str) -> (u32, u32, u32) {
    let m = std::fs::metadata(root.file(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    (m.permissions().mode() & 0o7777, m.uid(), m.gid())
}

#[test]
fn packages_install_upgrade_and_keep_the_data() {
    if !system_tests::is_root() {
        eprintln!("SKIPPED: installing into a chroot needs root");
        return;
    }
    let work = tempfile::tempdir_in("/var/tmp").expect("tmp");
    let (n, n1) = (work.path().join("n"), work.path().join("n1"));
    package(&n, "0.1.0-1", "kiosk sync-agent cloud-bridge models");
    package(&n1, "0.1.1-1", "kiosk sync-agent");

    let root = DebRoot::new();
    for (dir, inside) in [(&n, "tmp/n"), (&n1, "tmp/n1")] {
        std::fs::create_dir_all(root.file(inside)).expect("mkdir");
        for e in std::fs::read_dir(dir).expect("debs") {
            let p = e.expect("entry").path();
            std::fs::copy(&p, root.file(inside).join(p.file_name().expect("name"))).expect("copy");
        }
    }

    // Install N: apt takes the local files and fetches whatever dependency the base lacks.
    let out = root.ok(&[
        "sh",
        "-c",
        "apt-get install -y -q --no-install-recommends /tmp/n/*.deb",
    ]);
    eprintln!("{}", output_text(&out));
    for p in [
        "interview-kiosk",
        "interview-kiosk-sync",
        "interview-kiosk-models",
        "interview-cloud",
    ] {
        assert_eq!(
            installed_version(&root, p),
            "install ok installed 0.1.0-1",
            "{p}"
        );
    }

    // Files and permissions.
    let kiosk_uid = id_of(&root, "passwd", "kiosk");
    let kiosk_gid = id_of(&root, "group", "kiosk");
    for bin in [
        "/usr/bin/kiosk",
        "/usr/bin/sync-agent",
        "/usr/bin/cloud-bridge",
    ] {
        assert_eq!(mode(&root, bin), (0o755, 0, 0), "{bin}");
    }
    assert_eq!(mode(&root, "/var/lib/kiosk"), (0o700, kiosk_uid, kiosk_gid));
    assert_eq!(mode(&root, "/etc/kiosk/store.key"), (0o640, 0, kiosk_gid));
    assert_eq!(mode(&root, "/etc/kiosk/station.d"), (0o755, 0, 0));
    let cloud_gid = id_of(&root, "group", "kiosk-cloud");
    assert_eq!(
        mode(&root, "/etc/kiosk-cloud/cloud.toml"),
        (0o640, 0, cloud_gid),
        "cloud.toml holds tokens and secrets"
    );
    let key = std::fs::read_to_string(root.file("/etc/kiosk/store.key")).expect("key");
    assert_eq!(key.trim().len(), 64, "a 256-bit key in hex");
    for model in [
        "ggml-base.bin",
        "silero_vad.onnx",
        "onnxruntime/libonnxruntime.so",
    ] {
        assert!(
            root.file(&format!("/usr/lib/interview-kiosk/models/{model}"))
                .is_file(),
            "{model}"
        );
    }
    let conffiles =
        output_text(&root.ok(&["dpkg-query", "-W", "-f=${Conffiles}", "interview-kiosk"]));
    for f in [STATION, "/etc/kiosk/roles/nurse.toml"] {
        assert!(conffiles.contains(f), "{f} is a conffile: {conffiles}");
    }

    // The user: no shell, home is the data folder, devices through groups.
    let passwd = output_text(&root.ok(&["getent", "passwd", "kiosk"]));
    assert!(
        passwd
            .trim_end()
            .ends_with(":/var/lib/kiosk:/usr/sbin/nologin"),
        "{passwd}"
    );
    let groups = output_text(&root.ok(&["id", "-nG", "kiosk"]));
    for g in ["audio", "video", "render", "input"] {
        assert!(
            groups.split_whitespace().any(|x| x == g),
            "kiosk in {g}: {groups}"
        );
    }

    // Units: enabled on install (started by the next boot), and systemd finds nothing wrong.
    for link in [
        "/etc/systemd/system/graphical.target.wants/kiosk.service",
        "/etc/systemd/system/multi-user.target.wants/sync-agent.service",
        "/etc/systemd/system/timers.target.wants/kiosk-purge.timer",
        "/etc/systemd/system/multi-user.target.wants/cloud-bridge.service",
    ] {
        assert!(root.file(link).is_symlink(), "{link} enabled");
    }
    let verify = root.run(&[
        "systemd-analyze",
        "verify",
        "kiosk.service",
        "kiosk-purge.service",
        "kiosk-purge.timer",
        "sync-agent.service",
        "cloud-bridge.service",
        "cloud-bridge-crl.service",
        "cloud-bridge-crl.timer",
    ]);
    assert!(
        verify.status.success() && verify.stderr.is_empty(),
        "systemd-analyze verify: {}",
        output_text(&verify)
    );

    // kiosk check --json as the services run it (the kiosk user; no microphone or camera here).
    let check = root
        .as_kiosk(&["kiosk", "check", "--station", STATION, "--json"])
        .output()
        .expect("check runs");
    let report: serde_json::Value = serde_json::from_slice(&check.stdout)
        .unwrap_or_else(|e| panic!("kiosk check --json: {e}\n{}", output_text(&check)));
    let rows = report["checks"].as_array().expect("checks");
    for row in rows {
        eprintln!("check: {} {} — {}", row["ok"], row["check"], row["detail"]);
    }
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r["ok"] == false)
        .filter_map(|r| r["check"].as_str())
        .collect();
    assert!(
        failed
            .iter()
            .all(|c| c.contains("microphone") || c.contains("camera")),
        "only the devices this container lacks may fail: {failed:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r["check"] == "model whisper-base" && r["ok"] == true)
    );

    // Not enrolled yet: the agent stops with exit 2 (not restarted by its unit) and says what to do.
    let agent = root
        .as_kiosk(&["sync-agent", "--station", STATION])
        .output()
        .expect("agent runs");
    assert_eq!(agent.status.code(), Some(2), "{}", output_text(&agent));
    assert!(
        output_text(&agent).contains("kiosk enroll"),
        "{}",
        output_text(&agent)
    );

    // Offline interviews (no broker yet), and the admin's edit to the conffile.
    std::fs::copy(
        examples().join("demo-answers.toml"),
        root.file("/tmp/demo-answers.toml"),
    )
    .expect("demo answers");
    let demo = root
        .as_kiosk(&[
            "kiosk",
            "demo",
            "--quiet",
            "--station",
            STATION,
            "--answers",
            "/tmp/demo-answers.toml",
        ])
        .output()
        .expect("demo runs");
    assert!(demo.status.success(), "{}", output_text(&demo));
    let before = status(&root);
    let backlog = before["backlog"].as_i64().expect("backlog");
    assert!(backlog >= 4, "the 4 offline interviews wait: {before}");
    let station = std::fs::read_to_string(root.file(STATION)).expect("station");
    std::fs::write(
        root.file(STATION),
        station.replacen("locale = \"zh-CN\"", "locale = \"en\"", 1),
    )
    .expect("admin edit");
    // N and N+1 are built from this checkout: N's database is taken back to the schema the
    // previous release wrote, so that N+1 really migrates the offline interviews.
    let store_key = StoreKey::load(&root.file("/etc/kiosk/store.key")).expect("store key");
    let previous = Store::rewind_newest_migration_for_upgrade_test(
        &root.file("/var/lib/kiosk/kiosk.sqlite3"),
        &store_key,
    )
    .expect("rewind");
    assert_eq!(previous, SCHEMA_VERSION - 1);
    // This test ran that as root: anything SQLite left goes back to the kiosk user.
    for e in std::fs::read_dir(root.file("/var/lib/kiosk")).expect("data") {
        let p = e.expect("entry").path();
        std::os::unix::fs::chown(&p, Some(kiosk_uid), Some(kiosk_gid)).expect("chown");
    }

    // Upgrade to N+1.
    let up = root.ok(&[
        "sh",
        "-c",
        "dpkg -i /tmp/n1/interview-kiosk_*.deb /tmp/n1/interview-kiosk-sync_*.deb",
    ]);
    eprintln!("{}", output_text(&up));
    for p in ["interview-kiosk", "interview-kiosk-sync"] {
        assert_eq!(installed_version(&root, p), "install ok installed 0.1.1-1");
    }
    let station = std::fs::read_to_string(root.file(STATION)).expect("station");
    assert!(
        station.contains("locale = \"en\""),
        "the admin's edit survives the upgrade"
    );
    assert_eq!(
        std::fs::read_to_string(root.file("/etc/kiosk/store.key")).expect("key"),
        key,
        "the store key is never replaced"
    );
    assert_eq!(mode(&root, "/var/lib/kiosk"), (0o700, kiosk_uid, kiosk_gid));
    assert_eq!(status(&root)["backlog"], before["backlog"], "nothing lost");
    // N+1's check (it records its summary in the table the migration brings back).
    let check = root
        .as_kiosk(&["kiosk", "check", "--station", STATION, "--json"])
        .output()
        .expect("check runs");
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).expect("check json");
    let database = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|r| r["check"] == "database")
        .expect("database row")
        .clone();
    assert_eq!(database["ok"], true, "{database}");
    assert!(
        database["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&format!("schema {SCHEMA_VERSION}"))
                && d.contains(&format!("{backlog} event(s) waiting"))),
        "migrated from {previous} with the backlog: {database}"
    );

    // The agent of N+1 sends the backlog: the box's TLS files where `kiosk enroll` puts them.
    let certs = work.path().join("certs");
    make_certs(&certs, &[THIS]);
    let (_broker, cloud_port) = Broker::start_tls(work.path(), &certs);
    let cloud = Cloud::start(cloud_port);
    let tls = root.file("/etc/kiosk/tls");
    std::fs::create_dir_all(&tls).expect("tls");
    let name = THIS.replace('/', "_");
    for (from, to) in [
        ("ca.crt".to_string(), "ca.crt"),
        (format!("{name}.crt"), "device.crt"),
        (format!("{name}.key"), "device.key"),
    ] {
        std::fs::copy(certs.join(from), tls.join(to)).expect("copy cert");
    }
    std::os::unix::fs::chown(tls.join("device.key"), Some(kiosk_uid), Some(kiosk_gid))
        .expect("chown key");
    std::fs::write(
        root.file("/etc/kiosk/station.d/50-enrolment.toml"),
        format!("[broker]\nhost = \"localhost\"\nport = {}\n", _broker.port),
    )
    .expect("drop-in");
    let mut agent = root
        .as_kiosk(&["sync-agent", "--station", STATION])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("agent starts");
    let sent = wait_until("the backlog to drain", Duration::from_secs(60), || {
        let st = status(&root);
        (
            st["backlog"] == 0 && cloud.unique().len() as i64 >= backlog,
            st,
        )
    });
    let _ = agent.kill();
    let _ = agent.wait();
    eprintln!(
        "after the upgrade: {sent}; the broker got {} events",
        cloud.unique().len()
    );

    // Remove: binaries go, data, key and configuration stay.
    root.ok(&[
        "apt-get",
        "remove",
        "-y",
        "-q",
        "interview-kiosk-sync",
        "interview-kiosk",
    ]);
    assert!(!root.file("/usr/bin/kiosk").exists());
    for kept in [
        "/var/lib/kiosk/kiosk.sqlite3",
        "/etc/kiosk/store.key",
        STATION,
    ] {
        assert!(root.file(kept).exists(), "remove keeps {kept}");
    }

    // Purge without an answer (non-interactive): the enrolment goes, the data stays.
    let purge = root.ok(&["dpkg", "--purge", "interview-kiosk-sync", "interview-kiosk"]);
    assert!(
        output_text(&purge).contains("kept the interview data"),
        "{}",
        output_text(&purge)
    );
    assert!(root.file("/var/lib/kiosk/kiosk.sqlite3").exists());
    assert!(root.file("/etc/kiosk/store.key").exists());
    assert!(!root.file(STATION).exists(), "purge removes the conffile");
    assert!(!root.file("/etc/kiosk/tls").exists(), "and the enrolment");
    assert!(!root.file("/etc/kiosk/station.d/50-enrolment.toml").exists());

    // Installed again, then purged with "yes" (preseeded, as an automated retirement would).
    root.ok(&[
        "sh",
        "-c",
        "dpkg -i /tmp/n1/interview-kiosk_*.deb /tmp/n1/interview-kiosk-sync_*.deb",
    ]);
    assert_eq!(
        std::fs::read_to_string(root.file("/etc/kiosk/store.key")).expect("key"),
        key,
        "reinstalling keeps the key the data needs"
    );
    root.ok(&[
        "sh",
        "-c",
        "echo 'interview-kiosk interview-kiosk/purge-data boolean true' | debconf-set-selections",
    ]);
    let purge = root.ok(&["dpkg", "--purge", "interview-kiosk-sync", "interview-kiosk"]);
    assert!(
        output_text(&purge).contains("deleted /var/lib/kiosk"),
        "{}",
        output_text(&purge)
    );
    assert!(!root.file("/var/lib/kiosk").exists());
    assert!(!root.file("/etc/kiosk/store.key").exists());
}

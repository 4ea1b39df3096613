//! mTLS to a real Mosquitto configured like production (provisioning/mosquitto): the right
//! certificates deliver; a wrong client certificate, a wrong CA or another device's identity are
//! refused, data keeps queueing, and `sync-agent status` says why.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use system_tests::broker::{Broker, free_port};
use system_tests::cloud::Cloud;
use system_tests::{
    FAST_SYNC, agent_status, configure_broker, produce, start_agent, station, wait_until,
};

const LIMIT: Duration = Duration::from_secs(60);

fn provisioning() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning")
}

fn make_certs(out: &Path, devices: &[&str]) {
    let status = Command::new(provisioning().join("certs/make-certs.sh"))
        .arg(out)
        .arg("localhost")
        .args(devices)
        .status()
        .expect("make-certs.sh runs");
    assert!(status.success());
}

/// A broker with the shipped ACL on a TLS listener, plus a plain loopback listener for the test's cloud.
fn tls_broker(dir: &Path, certs: &Path) -> (Broker, u16) {
    let cloud_port = free_port();
    let acl = provisioning().join("mosquitto/kiosk.acl");
    let tls = format!(
        "cafile {c}/ca.crt\ncertfile {c}/broker.crt\nkeyfile {c}/broker.key\nrequire_certificate true\nuse_identity_as_username true\nacl_file {}\n",
        acl.display(),
        c = certs.display()
    );
    let broker = Broker::start_with_listener(
        dir,
        &tls,
        &format!("listener {cloud_port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
    );
    (broker, cloud_port)
}

fn with_tls(station: &Path, port: u16, ca: &Path, cert: &Path, key: &Path) {
    configure_broker(station, port, FAST_SYNC);
    let text = std::fs::read_to_string(station).expect("station");
    let text = text.replacen(
        &format!("port = {port}"),
        &format!(
            "port = {port}\nca_file = \"{}\"\ncert_file = \"{}\"\nkey_file = \"{}\"",
            ca.display(),
            cert.display(),
            key.display()
        ),
        1,
    );
    std::fs::write(station, text).expect("write");
}

fn refused(station: &Path, what: &str, must_mention: &str) {
    let st = wait_until(what, LIMIT, || {
        let st = agent_status(station);
        (
            st["connected"] == false
                && st["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains(must_mention)),
            st,
        )
    });
    eprintln!("{what}: {}", st["last_error"]);
    produce(station, 1);
    let later = agent_status(station);
    assert_eq!(
        later["backlog"].as_i64(),
        Some(st["backlog"].as_i64().unwrap_or(0) + 4),
        "data keeps queueing: {later}"
    );
    assert_eq!(later["agent_running"], true);
}

#[test]
fn only_the_right_certificates_get_through() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = dir.path().join("certs");
    let rogue = dir.path().join("rogue");
    make_certs(&good, &["kiosk-01", "kiosk-02"]);
    make_certs(&rogue, &["kiosk-01"]);
    let (broker, cloud_port) = tls_broker(dir.path(), &good);
    let cloud = Cloud::start(cloud_port);

    // The right CA and this device's certificate: delivered.
    let ok_dir = dir.path().join("ok");
    let st = station(&ok_dir);
    with_tls(
        &st,
        broker.port,
        &good.join("ca.crt"),
        &good.join("kiosk-01.crt"),
        &good.join("kiosk-01.key"),
    );
    produce(&st, 1);
    let agent = start_agent(&st, &ok_dir.join("agent.log"));
    wait_until("delivery over mTLS", LIMIT, || {
        (cloud.unique().len() == 4, cloud.unique().len())
    });
    wait_until("the acks committed", LIMIT, || {
        let s = agent_status(&st);
        (s["backlog"] == 0 && s["connected"] == true, s)
    });
    drop(agent);

    // A client certificate from another CA: the broker refuses the handshake.
    let bad_dir = dir.path().join("bad-client");
    let st = station(&bad_dir);
    with_tls(
        &st,
        broker.port,
        &good.join("ca.crt"),
        &rogue.join("kiosk-01.crt"),
        &rogue.join("kiosk-01.key"),
    );
    produce(&st, 1);
    let agent = start_agent(&st, &bad_dir.join("agent.log"));
    refused(
        &st,
        "a refused client certificate",
        "rejected this device's TLS certificate",
    );
    drop(agent);

    // Trusting another CA: the agent refuses the broker (server pinning).
    let bad_ca = dir.path().join("bad-ca");
    let st = station(&bad_ca);
    with_tls(
        &st,
        broker.port,
        &rogue.join("ca.crt"),
        &good.join("kiosk-01.crt"),
        &good.join("kiosk-01.key"),
    );
    produce(&st, 1);
    let agent = start_agent(&st, &bad_ca.join("agent.log"));
    refused(&st, "an untrusted broker", "TLS");
    drop(agent);

    // Another device's valid certificate cannot write this device's topics (ACL, %u = CN).
    let other = dir.path().join("other-device");
    let st = station(&other);
    with_tls(
        &st,
        broker.port,
        &good.join("ca.crt"),
        &good.join("kiosk-02.crt"),
        &good.join("kiosk-02.key"),
    );
    produce(&st, 1);
    let agent = start_agent(&st, &other.join("agent.log"));
    let st_json = wait_until("the ACL refusal", LIMIT, || {
        let s = agent_status(&st);
        (
            s["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("NotAuthorized")),
            s,
        )
    });
    eprintln!("the ACL refusal: {}", st_json["last_error"]);
    assert!(
        st_json["backlog"].as_i64().unwrap_or(0) + st_json["quarantined"].as_i64().unwrap_or(0)
            >= 4,
        "{st_json}"
    );
    assert_eq!(
        cloud.unique().len(),
        4,
        "nothing from the impostor reached the cloud"
    );
    drop(agent);
}

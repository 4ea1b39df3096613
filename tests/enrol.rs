//! Enrolment end to end, all real: HR issues a one-time token through the API, `kiosk enroll`
//! makes the key on the box and gets its certificate from `cloud-bridge` (signed with the fleet CA
//! that also anchors Mosquitto's mTLS listener), then the box syncs over mTLS with it into
//! PostgreSQL. A reused token, a token for another device and another tenant's claim are refused;
//! a retired box's certificate is revoked in the CRL the broker reads, and it is refused.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::json;
use system_tests::bridge::{self, Bridge, OTHER_TOKEN, Receiver, TOKEN};
use system_tests::broker::Broker;
use system_tests::postgres::Postgres;
use system_tests::{
    FAST_SYNC, agent_status, binary, configure_broker, make_certs, output_text, produce,
    start_agent, station, wait_until,
};

const LIMIT: Duration = Duration::from_secs(90);

fn enroll(st: &Path, api: u16, token: &str) -> Output {
    Command::new(binary("kiosk"))
        .args(["enroll", "--station"])
        .arg(st)
        .args([
            "--url",
            &format!("http://127.0.0.1:{api}"),
            "--token",
            token,
        ])
        .output()
        .expect("kiosk enroll runs")
}

#[test]
fn a_box_enrols_once_with_its_token_syncs_over_mtls_and_is_cut_off_when_retired() {
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start(dir.path());
    let certs = dir.path().join("certs");
    // The fleet CA and the broker's certificate (one device's too, unused: the box enrols).
    make_certs(&certs, &["acme-retail/sh-pudong-001/unused"]);
    let (mut broker, cloud_port) = Broker::start_tls(dir.path(), &certs);
    let receiver = Receiver::start(0, 0);
    let enrolment = format!(
        "[enrolment]\nca_cert = \"{c}/ca.crt\"\nca_key = \"{c}/ca.key\"\ncrl_file = \"{c}/crl.pem\"\nbroker_host = \"localhost\"\nbroker_port = {}\n",
        broker.port,
        c = certs.display()
    );
    let (cfg, api) = bridge::config(
        dir.path(),
        "bridge-1",
        &pg.url(),
        cloud_port,
        receiver.port,
        &enrolment,
    );
    bridge::cli(&cfg, &["migrate"]);
    let b = Bridge::start(&cfg, api, &dir.path().join("bridge.log"));

    // The box: a fresh station that knows who it is but not how to reach the broker.
    let box_dir = dir.path().join("box");
    let st = station(&box_dir);
    configure_broker(&st, 1, FAST_SYNC);
    let station_before = std::fs::read(&st).expect("station");

    // HR issues tokens (its own tenant only).
    let (code, issued) = b.post(
        "/v1/devices/enrolment-tokens",
        TOKEN,
        &json!({"store_id": "sh-pudong-001", "device_id": "kiosk-01"}),
    );
    assert_eq!(code, 201, "{issued}");
    assert_eq!(issued["device_path"], "acme-retail/sh-pudong-001/kiosk-01");
    let token = issued["token"].as_str().expect("token").to_owned();
    let (_, other) = b.post(
        "/v1/devices/enrolment-tokens",
        TOKEN,
        &json!({"store_id": "sh-pudong-001", "device_id": "kiosk-02"}),
    );
    let other_token = other["token"].as_str().expect("token").to_owned();
    let (code, _) = b.post(
        "/v1/devices/enrolment-tokens",
        "not-a-token",
        &json!({"store_id": "s", "device_id": "d"}),
    );
    assert_eq!(code, 401);

    // A token for another device is refused and not spent.
    let wrong = enroll(&st, api, &other_token);
    assert_eq!(wrong.status.code(), Some(2), "{}", output_text(&wrong));
    assert!(
        output_text(&wrong).contains("acme-retail/sh-pudong-001/kiosk-02"),
        "{}",
        output_text(&wrong)
    );
    assert!(!dropin(&st).exists(), "nothing written on a refusal");

    // The right one: enrolled.
    let ok = enroll(&st, api, &token);
    assert!(ok.status.success(), "{}", output_text(&ok));
    assert!(
        output_text(&ok).contains("enrolled as acme-retail/sh-pudong-001/kiosk-01"),
        "{}",
        output_text(&ok)
    );
    assert_eq!(
        std::fs::read(&st).expect("station"),
        station_before,
        "the station file (a conffile) is not rewritten"
    );
    let dropin = std::fs::read_to_string(dropin(&st)).expect("drop-in");
    assert!(
        dropin.contains(&format!("port = {}", broker.port)),
        "{dropin}"
    );
    let key = box_dir.join("tls/device.key");
    let mode = std::fs::metadata(&key).expect("key").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the device key is private");
    // The certificate names the whole device path and chains to the fleet CA.
    let subject = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in"])
        .arg(box_dir.join("tls/device.crt"))
        .output()
        .expect("openssl");
    assert!(
        String::from_utf8_lossy(&subject.stdout).contains("acme-retail/sh-pudong-001/kiosk-01"),
        "{}",
        String::from_utf8_lossy(&subject.stdout)
    );
    let verify = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(certs.join("ca.crt"))
        .arg(box_dir.join("tls/device.crt"))
        .output()
        .expect("openssl");
    assert!(verify.status.success(), "{}", output_text(&verify));
    // The key stayed on the box: nothing in the database holds it.
    let key_text = std::fs::read_to_string(&key).expect("key");
    let key_body: String = key_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(
        !pg.dump().contains(&key_body[..40]),
        "the key never left the box"
    );

    // The same token again: refused, and the box's enrolment is untouched.
    let again = enroll(&st, api, &token);
    assert_eq!(again.status.code(), Some(2), "{}", output_text(&again));
    assert!(
        output_text(&again).contains("already used"),
        "{}",
        output_text(&again)
    );
    assert_eq!(
        std::fs::read_to_string(&key).expect("key"),
        key_text,
        "a refused enrolment leaves the working key alone"
    );

    // The other tenant cannot claim this device id now it is registered.
    let (code, body) = b.post(
        "/v1/devices/enrolment-tokens",
        OTHER_TOKEN,
        &json!({"store_id": "x", "device_id": "kiosk-01"}),
    );
    assert_eq!(code, 409, "{body}");

    // Registered, and syncing over mTLS with the new certificate into the store of record.
    let (_, devices) = b.get("/v1/devices", TOKEN);
    assert!(devices.to_string().contains("kiosk-01"), "{devices}");
    produce(&st, 1);
    let agent = start_agent(&st, &box_dir.join("agent.log"));
    wait_until(
        "the box's events committed centrally and confirmed",
        LIMIT,
        || {
            let central: i64 = pg
                .psql("SELECT count(*) FROM events")
                .trim()
                .parse()
                .unwrap_or(0);
            let s = agent_status(&st);
            (
                central >= 4
                    && s["backlog"] == 0
                    && s["unconfirmed"] == 0
                    && s["connected"] == true,
                (central, s),
            )
        },
    );

    // The box is lost: retired, its certificate revoked in the CRL the broker reads.
    drop(agent);
    let out = bridge::cli(&cfg, &["devices", "retire", "--device", "kiosk-01"]);
    assert!(out.contains("1 enrolled certificate(s) revoked"), "{out}");
    let serial =
        pg.psql("SELECT certificate_serial FROM enrolment_tokens WHERE used_at IS NOT NULL");
    let crl = Command::new("openssl")
        .args(["crl", "-noout", "-text", "-in"])
        .arg(certs.join("crl.pem"))
        .output()
        .expect("openssl crl");
    let crl_text = String::from_utf8_lossy(&crl.stdout).to_uppercase();
    assert!(
        crl_text.contains(&serial.trim().to_uppercase()),
        "the CRL lists serial {serial}: {crl_text}"
    );
    let verify = Command::new("openssl")
        .args(["crl", "-noout", "-CAfile"])
        .arg(certs.join("ca.crt"))
        .arg("-in")
        .arg(certs.join("crl.pem"))
        .output()
        .expect("openssl crl verify");
    assert!(
        output_text(&verify).contains("verify OK"),
        "{}",
        output_text(&verify)
    );
    broker.stop();
    broker.resume();
    let _again = start_agent(&st, &box_dir.join("agent-2.log"));
    wait_until("the revoked certificate refused", LIMIT, || {
        let s = agent_status(&st);
        (
            s["connected"] == false
                && s["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("rejected this device's TLS certificate")),
            s,
        )
    });
    let (_, devices) = b.get("/v1/devices", TOKEN);
    assert_eq!(devices[0]["status"], "retired", "{devices}");
    drop(b);
}

/// Where `kiosk enroll` writes: `station.d/` beside the station file.
fn dropin(st: &Path) -> PathBuf {
    st.parent()
        .expect("folder")
        .join("station.d/50-enrolment.toml")
}

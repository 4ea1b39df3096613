//! mTLS to a real Mosquitto configured like production (provisioning/mosquitto): the right
//! certificates deliver; a wrong client certificate, a wrong CA or another device's identity are
//! refused, data keeps queueing, and `sync-agent status` says why. A certificate names the whole
//! device path (tenant/store/device): the same device id under another tenant cannot publish
//! here, another store's device cannot read this one's downlink, and no client can take over
//! this device's session by its client id. An expired or revoked device certificate, and a
//! broker whose certificate names another host, are refused.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use system_tests::broker::Broker;
use system_tests::cloud::Cloud;
use system_tests::{
    FAST_SYNC, agent_status, configure_broker, make_certs, produce, provisioning, start_agent,
    station, wait_until,
};

const LIMIT: Duration = Duration::from_secs(60);

/// This station's device path, as its certificate names it.
const THIS: &str = "acme-retail/sh-pudong-001/kiosk-01";

/// A device's certificate and key files in `certs` (make-certs.sh names them after the path).
fn cert(certs: &Path, path: &str) -> (PathBuf, PathBuf) {
    let name = path.replace('/', "_");
    (
        certs.join(format!("{name}.crt")),
        certs.join(format!("{name}.key")),
    )
}

fn with_tls(station: &Path, port: u16, ca: &Path, (cert, key): (PathBuf, PathBuf)) {
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
    make_certs(&good, &[THIS, "acme-retail/sh-pudong-001/kiosk-02"]);
    make_certs(&rogue, &[THIS]);
    let (broker, cloud_port) = Broker::start_tls(dir.path(), &good);
    let cloud = Cloud::start(cloud_port);

    // The right CA and this device's certificate: delivered.
    let ok_dir = dir.path().join("ok");
    let st = station(&ok_dir);
    with_tls(&st, broker.port, &good.join("ca.crt"), cert(&good, THIS));
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
    with_tls(&st, broker.port, &good.join("ca.crt"), cert(&rogue, THIS));
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
    with_tls(&st, broker.port, &rogue.join("ca.crt"), cert(&good, THIS));
    produce(&st, 1);
    let agent = start_agent(&st, &bad_ca.join("agent.log"));
    refused(&st, "an untrusted broker", "TLS");
    drop(agent);

    // Another device's valid certificate cannot write this device's topics (ACL, %u = CN = path).
    let other = dir.path().join("other-device");
    let st = station(&other);
    with_tls(
        &st,
        broker.port,
        &good.join("ca.crt"),
        cert(&good, "acme-retail/sh-pudong-001/kiosk-02"),
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

/// A raw MQTT client over mTLS with a device's certificate and a client id of its choosing;
/// records the topics of what it receives.
struct RawTls {
    _runtime: tokio::runtime::Runtime,
    client: rumqttc::v5::AsyncClient,
    received: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    subscribed: std::sync::mpsc::Receiver<()>,
}

impl RawTls {
    fn connect(port: u16, client_id: &str, ca: &Path, (cert, key): (PathBuf, PathBuf)) -> Self {
        use rumqttc::v5::mqttbytes::v5::Packet;
        use rumqttc::v5::{AsyncClient, Event, MqttOptions};
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("rt");
        let mut o = MqttOptions::new(client_id, "localhost", port);
        let read = |p: &Path| std::fs::read(p).expect("cert file");
        o.set_transport(rumqttc::Transport::tls_with_config(
            rumqttc::TlsConfiguration::Simple {
                ca: read(ca),
                alpn: None,
                client_auth: Some((read(&cert), read(&key))),
            },
        ));
        let (client, mut el) = AsyncClient::new(o, 16);
        let received: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
        let (tx, subscribed) = std::sync::mpsc::channel();
        let r = received.clone();
        runtime.spawn(async move {
            loop {
                match el.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => r
                        .lock()
                        .expect("lock")
                        .push(String::from_utf8_lossy(&p.topic).to_string()),
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = tx.send(());
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        Self {
            _runtime: runtime,
            client,
            received,
            subscribed,
        }
    }

    fn subscribe(&self, filter: &str) {
        self.client
            .try_subscribe(filter, rumqttc::v5::mqttbytes::QoS::AtLeastOnce)
            .expect("subscribe queued");
        self.subscribed
            .recv_timeout(LIMIT)
            .expect("the broker answered the subscription");
    }
}

#[test]
fn a_certificate_reaches_only_its_own_tenant_store_and_session() {
    let dir = tempfile::tempdir().expect("tmp");
    let certs = dir.path().join("certs");
    let other_tenant = "other-retail/sh-pudong-001/kiosk-01";
    let other_store = "acme-retail/sh-xuhui-002/kiosk-01";
    let neighbour = "acme-retail/sh-pudong-001/kiosk-02";
    make_certs(&certs, &[THIS, other_tenant, other_store, neighbour]);
    let ca = certs.join("ca.crt");
    let (broker, cloud_port) = Broker::start_tls(dir.path(), &certs);
    let cloud = Cloud::start(cloud_port);

    // This device, with its own certificate, delivers.
    let own = dir.path().join("own");
    let st = station(&own);
    with_tls(&st, broker.port, &ca, cert(&certs, THIS));
    produce(&st, 1);
    let _agent = start_agent(&st, &own.join("agent.log"));
    wait_until("delivery over mTLS", LIMIT, || {
        (cloud.unique().len() == 4, cloud.unique().len())
    });

    // The same device id under another tenant: a valid certificate, and still not authorised to
    // publish here. The events are kept, not quarantined, and nothing reaches the cloud.
    let cross = dir.path().join("cross-tenant");
    let st2 = station(&cross);
    with_tls(&st2, broker.port, &ca, cert(&certs, other_tenant));
    produce(&st2, 1);
    let _impostor = start_agent(&st2, &cross.join("agent.log"));
    let s = wait_until("the cross-tenant refusal", LIMIT, || {
        let s = agent_status(&st2);
        let refused = s["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("NotAuthorized"));
        (refused, s)
    });
    assert_eq!(
        (s["backlog"].as_i64(), s["quarantined"].as_i64()),
        (Some(4), Some(0)),
        "{s}"
    );

    // Another store's device of the same name subscribes to this device's downlink, and the
    // next kiosk in this store connects with this device's client id: neither reads anything,
    // and this device's session is not taken over.
    let spy = RawTls::connect(broker.port, "kiosk-01", &ca, cert(&certs, other_store));
    spy.subscribe("kiosk/v1/acme-retail/sh-pudong-001/kiosk-01/down/#");
    let thief = RawTls::connect(broker.port, "kiosk-01", &ca, cert(&certs, neighbour));
    thief.subscribe("kiosk/v1/acme-retail/sh-pudong-001/kiosk-01/down/#");
    std::thread::sleep(Duration::from_secs(1));
    cloud.send(
        "kiosk/v1/acme-retail/sh-pudong-001/kiosk-01/down/config",
        br#"{"version": 7, "body": {"pass_threshold": 61}}"#,
        false,
    );
    wait_until("the device itself got its downlink", LIMIT, || {
        let got = system_tests::open_store(&own)
            .expect("store")
            .inbox_get("config", "station")
            .expect("inbox")
            .map(|d| d.0);
        (got == Some(7), got)
    });
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        spy.received.lock().expect("lock").is_empty()
            && thief.received.lock().expect("lock").is_empty(),
        "another store's device read this device's downlink"
    );
    produce(&st, 1);
    wait_until("this device still delivering", LIMIT, || {
        (cloud.unique().len() == 8, cloud.unique().len())
    });
    let log = std::fs::read_to_string(own.join("agent.log")).unwrap_or_default();
    assert_eq!(
        log.matches(" connected to ").count(),
        1,
        "the session was never taken over:\n{log}"
    );
}

/// Runs openssl in `dir`, asserting success.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn expired_revoked_and_misnamed_certificates_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let certs = dir.path().join("certs");
    let lost = "acme-retail/sh-pudong-001/kiosk-09";
    make_certs(&certs, &[THIS, lost]);
    // A stolen kiosk's certificate is revoked (the broker reads the CRL at start).
    let revoke = Command::new(provisioning().join("certs/make-certs.sh"))
        .args([certs.to_str().expect("utf8"), "--revoke", lost])
        .status()
        .expect("make-certs.sh runs");
    assert!(revoke.success());
    // This device's certificate, from the right CA, but it expired last year.
    std::fs::write(certs.join("client.ext"), "extendedKeyUsage=clientAuth\n").expect("ext");
    openssl(
        &certs,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "expired.key",
            "-out",
            "expired.csr",
            "-subj",
            "/CN=acme-retail\\/sh-pudong-001\\/kiosk-01",
        ],
    );
    openssl(
        &certs,
        &[
            "ca",
            "-config",
            "ca.cnf",
            "-batch",
            "-notext",
            "-startdate",
            "20250101000000Z",
            "-enddate",
            "20250102000000Z",
            "-extfile",
            "client.ext",
            "-in",
            "expired.csr",
            "-out",
            "expired.crt",
        ],
    );
    let (broker, cloud_port) = Broker::start_tls(dir.path(), &certs);
    let cloud = Cloud::start(cloud_port);
    let ca = certs.join("ca.crt");

    for (name, files, what) in [
        (
            "expired",
            (certs.join("expired.crt"), certs.join("expired.key")),
            "an expired certificate",
        ),
        ("revoked", cert(&certs, lost), "a revoked certificate"),
    ] {
        let d = dir.path().join(name);
        let st = station(&d);
        with_tls(&st, broker.port, &ca, files);
        produce(&st, 1);
        let agent = start_agent(&st, &d.join("agent.log"));
        refused(&st, what, "rejected this device's TLS certificate");
        drop(agent);
    }
    assert!(cloud.unique().is_empty(), "nothing got through");

    // A broker whose certificate names another host: the agent refuses it (server identity).
    let wrong = dir.path().join("wrong-host");
    std::fs::create_dir_all(&wrong).expect("dir");
    for f in ["ca.crt", "ca.key", "crl.pem"] {
        std::fs::copy(certs.join(f), wrong.join(f)).expect("copy");
    }
    std::fs::write(
        wrong.join("server.ext"),
        "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:mqtt.elsewhere.example\n",
    )
    .expect("ext");
    openssl(
        &wrong,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "broker.key",
            "-out",
            "broker.csr",
            "-subj",
            "/CN=mqtt.elsewhere.example",
        ],
    );
    openssl(
        &wrong,
        &[
            "x509",
            "-req",
            "-in",
            "broker.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            "server.ext",
            "-out",
            "broker.crt",
        ],
    );
    let (misnamed, _) = Broker::start_tls(&wrong, &wrong);
    let d = dir.path().join("misnamed");
    let st = station(&d);
    with_tls(&st, misnamed.port, &ca, cert(&certs, THIS));
    produce(&st, 1);
    let _agent = start_agent(&st, &d.join("agent.log"));
    refused(
        &st,
        "a broker certificate for another host",
        "not valid for name",
    );
}

//! `kiosk enroll`: the box gets its broker certificate with a one-time token. The device key is
//! made here and never leaves; the certificate request goes to cloud-bridge (`POST /v1/enroll`),
//! and what comes back (certificate, the CA that pins the broker, the broker's address) is
//! written beside the station file: `tls/` and `station.d/50-enrolment.toml`.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use kiosk_config::Station;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use serde::Deserialize;
use serde_json::json;

use crate::UsageError;

#[derive(Debug, Deserialize)]
struct Enrolled {
    certificate: String,
    ca: String,
    broker: Broker,
    serial: String,
}

#[derive(Debug, Deserialize)]
struct Broker {
    host: String,
    port: u16,
}

/// Runs the command.
pub fn run(station_file: &Path, url: &str, token: &str, ca: Option<&Path>) -> anyhow::Result<()> {
    let station = Station::load(station_file)
        .map_err(|e| UsageError(format!("invalid configuration:\n{e}")))?;
    let s = &station.config.station;
    let path = format!("{}/{}/{}", s.tenant, s.store_id, s.device_id);
    let endpoint = endpoint(url)?;
    let folder = station_file.parent().unwrap_or(Path::new("."));
    let tls = folder.join("tls");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(&tls)
        .with_context(|| format!("creating {}", tls.display()))?;

    // The key is made on the box and written only here; the request carries its public half.
    let key = KeyPair::generate().context("making the device key")?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, path.clone());
    params.distinguished_name = dn;
    let csr = params
        .serialize_request(&key)
        .and_then(|r| r.pem())
        .context("making the certificate request")?;

    let agent = agent(ca)?;
    let mut response = agent
        .post(&endpoint)
        .send_json(json!({"token": token.trim(), "csr": csr, "device_path": path}))
        .map_err(|e| anyhow::anyhow!("cannot reach {endpoint}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        let body: serde_json::Value = response.body_mut().read_json().unwrap_or_default();
        let why = body["error"].as_str().unwrap_or("no reason given");
        return Err(UsageError(format!("enrolment refused ({}): {why}", status.as_u16())).into());
    }
    let got: Enrolled = response
        .body_mut()
        .read_json()
        .context("the enrolment answer is not what cloud-bridge sends")?;

    let key_file = tls.join("device.key");
    let cert_file = tls.join("device.crt");
    let ca_file = tls.join("ca.crt");
    write_file(&key_file, key.serialize_pem().as_bytes(), 0o600)?;
    write_file(&cert_file, got.certificate.as_bytes(), 0o644)?;
    write_file(&ca_file, got.ca.as_bytes(), 0o644)?;
    let dropins = Station::dropin_dir(station_file);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(&dropins)
        .with_context(|| format!("creating {}", dropins.display()))?;
    let dropin = dropins.join("50-enrolment.toml");
    let text = format!(
        "# Written by `kiosk enroll` at {} for {path} (certificate serial {}).\n\
         # Enrol again with a new token rather than editing it.\n\
         [broker]\nhost = {}\nport = {}\nca_file = {}\ncert_file = {}\nkey_file = {}\n",
        chrono::Local::now().to_rfc3339(),
        got.serial,
        toml_str(&got.broker.host),
        got.broker.port,
        toml_str(&ca_file.display().to_string()),
        toml_str(&cert_file.display().to_string()),
        toml_str(&key_file.display().to_string()),
    );
    write_file(&dropin, text.as_bytes(), 0o644)?;
    // What the sync agent will load, checked now rather than at its next start.
    let check = Station::load(station_file)
        .map_err(|e| anyhow::anyhow!("the enrolled configuration does not load:\n{e}"))?;
    anyhow::ensure!(check.tls.is_some(), "the enrolled configuration has no TLS");
    share_with_data_owner(&station, &[&key_file, &tls])?;
    println!(
        "enrolled as {path}: broker {}:{} over TLS (certificate serial {})\n\
         wrote {} and {}\n\
         next: systemctl restart sync-agent, then `sync-agent status --station {}`",
        got.broker.host,
        got.broker.port,
        got.serial,
        dropin.display(),
        tls.display(),
        station_file.display()
    );
    Ok(())
}

/// `<url>/v1/enroll`; plain HTTP only to this machine (the CA that comes back pins the broker:
/// it must not be open to tampering on the way).
fn endpoint(url: &str) -> anyhow::Result<String> {
    let base = url.trim_end_matches('/');
    let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| base.starts_with(p));
    if !base.starts_with("https://") && !local {
        return Err(UsageError(format!(
            "--url {url}: use https:// (plain http only to this machine)"
        ))
        .into());
    }
    Ok(format!("{base}/v1/enroll"))
}

fn agent(ca: Option<&Path>) -> anyhow::Result<ureq::Agent> {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(ca) = ca {
        let pem =
            std::fs::read(ca).map_err(|e| UsageError(format!("--ca {}: {e}", ca.display())))?;
        let certs: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(
                UsageError(format!("--ca {}: no PEM certificate in it", ca.display())).into(),
            );
        }
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .tls_config(tls.build())
        .build()
        .into())
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// Writes a file whole, through a temporary file renamed into place.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Run as root at provisioning, the key would be root's; the sync agent runs as the user who
/// owns the data folder, so the key and its folder are handed to that user.
fn share_with_data_owner(station: &Station, paths: &[&Path]) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(meta) = std::fs::metadata(&station.data_dir) else {
        return Ok(());
    };
    if rustix::process::geteuid().is_root() && meta.uid() != 0 {
        for p in paths {
            std::os::unix::fs::chown(p, Some(meta.uid()), Some(meta.gid()))
                .with_context(|| format!("giving {} to the data folder's owner", p.display()))?;
        }
    }
    Ok(())
}

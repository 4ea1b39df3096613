//! `cloud.toml`: the database, the broker (TLS as the kiosks have it), the HR API's listen
//! address, the tenants with their API tokens and webhook endpoints, and the retry schedule.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudConfig {
    /// PostgreSQL.
    pub database: Database,
    /// The MQTT v5 broker.
    pub broker: Broker,
    /// The HR API.
    pub api: Api,
    /// Webhook delivery.
    #[serde(default)]
    pub webhooks: Webhooks,
    /// Device registry behaviour.
    #[serde(default)]
    pub devices: Devices,
    /// Enrolment of new boxes (optional: without it the endpoint answers 404).
    #[serde(default)]
    pub enrolment: Option<Enrolment>,
    /// The tenants.
    #[serde(default, rename = "tenant")]
    pub tenants: Vec<Tenant>,
    /// Labour rules by region, for rostering.
    #[serde(default, rename = "rule_pack")]
    pub rule_packs: Vec<cloud_roster::RulePack>,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// `postgres://user@host:port/db` or `host=/run/postgresql port=5432 user=hr dbname=hr`.
    pub url: String,
    /// Connections per instance.
    #[serde(default = "default_connections")]
    pub max_connections: usize,
}

/// `[broker]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Broker {
    /// Host name.
    pub host: String,
    /// Port (8883 with TLS).
    pub port: u16,
    /// Unique per instance: its persistent session keeps what it had not acked when it stopped.
    pub client_id: String,
    /// The shared-subscription group every instance joins (`$share/<group>/…`).
    #[serde(default = "default_group")]
    pub share_group: String,
    /// Username (with `use_identity_as_username`, the certificate's CN is used instead).
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// CA certificate (PEM) that signed the broker's certificate; with `cert` and `key`, TLS.
    pub ca: Option<PathBuf>,
    /// This instance's client certificate (PEM).
    pub cert: Option<PathBuf>,
    /// Its key (PEM).
    pub key: Option<PathBuf>,
    /// Most events committed in one transaction.
    #[serde(default = "default_batch")]
    pub batch_max: usize,
    /// How long a batch waits to fill, in milliseconds.
    #[serde(default = "default_batch_wait")]
    pub batch_wait_ms: u64,
    /// A deletion request or role configuration is sent again this often until its device
    /// confirms, in seconds.
    #[serde(default = "default_downlink_resend")]
    pub downlink_resend_s: u64,
}

/// `[api]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// `127.0.0.1:8080`.
    pub listen: String,
}

/// `[webhooks]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhooks {
    /// Wait before each retry, in seconds; after the last, a dead letter. Default: the Standard
    /// Webhooks schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — about a day).
    #[serde(default = "default_schedule")]
    pub retry_schedule_s: Vec<f64>,
    /// ± this share of each wait, at random, so retries from many failures spread out.
    #[serde(default = "default_jitter")]
    pub jitter: f64,
    /// Request timeout, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
    /// Webhooks sent at once per instance.
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// How often an idle worker looks for due webhooks, in milliseconds.
    #[serde(default = "default_poll")]
    pub poll_ms: u64,
}

impl Default for Webhooks {
    fn default() -> Self {
        Self {
            retry_schedule_s: default_schedule(),
            jitter: default_jitter(),
            timeout_s: default_timeout(),
            workers: default_workers(),
            poll_ms: default_poll(),
        }
    }
}

/// `[devices]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Devices {
    /// Development only: register an unknown device on first sight under its topic's tenant and
    /// store. Off in production: devices are registered with `cloud-bridge devices add`.
    #[serde(default)]
    pub register_on_first_sight: bool,
}

/// `[enrolment]`: signing boxes' certificate requests with the fleet CA, which stays here.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    /// The fleet CA's certificate (PEM): the broker trusts device certificates it signed.
    pub ca_cert: PathBuf,
    /// Its private key (PEM, PKCS#8; readable by this service only).
    pub ca_key: PathBuf,
    /// The CA the boxes pin for the broker's certificate (default: `ca_cert`).
    #[serde(default)]
    pub broker_ca: Option<PathBuf>,
    /// Where the CRL of revoked device certificates is written (`cloud-bridge devices retire`,
    /// `cloud-bridge enrolment crl`): the broker's `crlfile`. None: no CRL is kept.
    #[serde(default)]
    pub crl_file: Option<PathBuf>,
    /// The broker as boxes reach it (written into their station).
    pub broker_host: String,
    /// Its TLS port.
    #[serde(default = "default_tls_port")]
    pub broker_port: u16,
    /// How long a token may wait to be used.
    #[serde(default = "default_token_hours")]
    pub token_hours: u32,
    /// How long a device certificate is valid.
    #[serde(default = "default_cert_days")]
    pub certificate_days: u32,
}

fn default_tls_port() -> u16 {
    8883
}
fn default_token_hours() -> u32 {
    72
}
fn default_cert_days() -> u32 {
    825
}

/// `[[tenant]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    /// The tenant id (the topic's tenant level).
    pub id: String,
    /// API users and their bearer tokens (keep this file readable by the service only).
    #[serde(default, rename = "token")]
    pub tokens: Vec<Token>,
    /// The customer's HR system.
    pub webhook: Option<Endpoint>,
    /// Move passed candidates straight to onboarding, starting this many days later (the
    /// brief's automatic 待入职). Absent: HR moves them.
    pub auto_onboarding_days: Option<u32>,
    /// Rostering; absent: no rosters are solved for this tenant.
    pub roster: Option<TenantRoster>,
}

/// `[tenant.roster]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantRoster {
    /// The `[[rule_pack]]` whose labour rules apply.
    pub region: String,
    /// Every skill the tenant's rotas may name (a rota naming another is refused); empty: any.
    #[serde(default)]
    pub skills: Vec<String>,
    /// What a new hire of each role brings (`"*"` for every other role).
    #[serde(default)]
    pub roles: HashMap<String, cloud_store::HireTerms>,
}

/// `[[tenant.token]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    /// Who (recorded in the status history).
    pub user: String,
    /// The bearer token (at least 24 characters).
    pub token: String,
}

/// `[tenant.webhook]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Where to POST.
    pub url: String,
    /// The Standard Webhooks secret (`whsec_` + base64).
    pub secret: String,
}

fn default_connections() -> usize {
    8
}
fn default_group() -> String {
    "cloud-bridge".into()
}
fn default_batch() -> usize {
    200
}
fn default_batch_wait() -> u64 {
    20
}
fn default_downlink_resend() -> u64 {
    300
}
fn default_schedule() -> Vec<f64> {
    vec![5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
}
fn default_jitter() -> f64 {
    0.2
}
fn default_timeout() -> u64 {
    10
}
fn default_workers() -> usize {
    4
}
fn default_poll() -> u64 {
    250
}

/// Why the file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML or not this layout.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What and where.
        message: String,
    },
    /// Well-formed but wrong.
    #[error("{path}: {field}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// Which setting.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl CloudConfig {
    /// Reads and validates a file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: p.clone(),
            source,
        })?;
        let c: CloudConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: p.clone(),
            message: e.to_string(),
        })?;
        c.validate()
            .map_err(|(field, message)| ConfigError::Invalid {
                path: p,
                field,
                message,
            })?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), (String, String)> {
        let bad = |f: &str, m: &str| Err((f.to_string(), m.to_string()));
        if self.broker.client_id.trim().is_empty() {
            return bad(
                "broker.client_id",
                "must not be empty (unique per instance)",
            );
        }
        let tls = [&self.broker.ca, &self.broker.cert, &self.broker.key];
        if tls.iter().any(|x| x.is_some()) && !tls.iter().all(|x| x.is_some()) {
            return bad("broker", "TLS needs all of ca, cert and key");
        }
        if self.broker.batch_max == 0 {
            return bad("broker.batch_max", "must be at least 1");
        }
        if self.api.listen.parse::<std::net::SocketAddr>().is_err() {
            return bad(
                "api.listen",
                "must be an address and port, e.g. 127.0.0.1:8080",
            );
        }
        let w = &self.webhooks;
        if w.retry_schedule_s
            .iter()
            .any(|s| !(s.is_finite() && *s >= 0.0))
        {
            return bad("webhooks.retry_schedule_s", "waits must be seconds ≥ 0");
        }
        if !(0.0..=1.0).contains(&w.jitter) {
            return bad("webhooks.jitter", "must be between 0 and 1");
        }
        if w.workers == 0 {
            return bad("webhooks.workers", "must be at least 1");
        }
        let mut ids = std::collections::HashSet::new();
        let mut tokens = std::collections::HashSet::new();
        for (i, t) in self.tenants.iter().enumerate() {
            let at = |f: &str| format!("tenant[{i}] ({}).{f}", t.id);
            if t.id.is_empty() || t.id.contains(['/', '+', '#']) {
                return Err((
                    at("id"),
                    "must be a topic level: not empty, no / + #".into(),
                ));
            }
            if !ids.insert(&t.id) {
                return Err((at("id"), "appears twice".into()));
            }
            for tok in &t.tokens {
                if tok.token.len() < 24 {
                    return Err((
                        at("token"),
                        format!("{}'s token is shorter than 24 characters", tok.user),
                    ));
                }
                if !tokens.insert(&tok.token) {
                    return Err((at("token"), "the same token is given twice".into()));
                }
            }
            if let Some(r) = &t.roster {
                let Some(pack) = self.rule_packs.iter().find(|p| p.region == r.region) else {
                    return Err((
                        at("roster.region"),
                        format!("no [[rule_pack]] has region {:?}", r.region),
                    ));
                };
                pack.validate()
                    .map_err(|e| (at("roster.region"), e.to_string()))?;
                for (role, terms) in &r.roles {
                    if let Some(bad) = terms
                        .skills
                        .iter()
                        .find(|k| !r.skills.is_empty() && !r.skills.contains(k))
                    {
                        return Err((
                            at(&format!("roster.roles.{role}.skills")),
                            format!("{bad:?} is not one of roster.skills"),
                        ));
                    }
                    if !(terms.contract.max_hours_week > 0.0
                        && terms.contract.max_hours_week <= 168.0)
                        || terms.contract.max_shifts_day == 0
                    {
                        return Err((
                            at(&format!("roster.roles.{role}.contract")),
                            "max_hours_week must be in (0, 168] and max_shifts_day at least 1"
                                .into(),
                        ));
                    }
                }
            }
            if let Some(e) = &t.webhook {
                if !(e.url.starts_with("https://") || e.url.starts_with("http://")) {
                    return Err((at("webhook.url"), "must be an http(s) URL".into()));
                }
                if standardwebhooks::Webhook::new(&e.secret).is_err() {
                    return Err((
                        at("webhook.secret"),
                        "must be whsec_ followed by base64".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// What the store applies per tenant.
    pub fn store_options(&self) -> cloud_store::StoreOptions {
        cloud_store::StoreOptions {
            auto_register: self.devices.register_on_first_sight,
            tenants: self
                .tenants
                .iter()
                .map(|t| {
                    (
                        t.id.clone(),
                        cloud_store::TenantPolicy {
                            webhooks: t.webhook.is_some(),
                            auto_onboarding_days: t.auto_onboarding_days,
                            roster: t.roster.as_ref().map(|r| cloud_store::RosterPolicy {
                                rules: self
                                    .rule_packs
                                    .iter()
                                    .find(|p| p.region == r.region)
                                    .cloned()
                                    .unwrap_or_default(),
                                skills: r.skills.iter().cloned().collect(),
                                terms: r.roles.clone(),
                            }),
                        },
                    )
                })
                .collect::<HashMap<_, _>>(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../provisioning/examples/cloud.toml"
        ))
        .expect("shipped example")
    }

    fn load(text: &str) -> Result<CloudConfig, ConfigError> {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("cloud.toml");
        std::fs::write(&path, text).expect("write");
        CloudConfig::load(&path)
    }

    #[test]
    fn the_shipped_example_is_valid_and_rosters_with_its_rule_pack() {
        let c = load(&example()).expect("valid");
        let opts = c.store_options();
        let r = opts.tenants["acme-retail"]
            .roster
            .as_ref()
            .expect("rostering on");
        assert_eq!(
            (r.rules.region.as_str(), r.rules.min_rest_hours),
            ("cn", 11.0)
        );
        assert!(r.terms.contains_key("nurse") && r.terms.contains_key("*"));
    }

    #[test]
    fn a_roster_without_its_rule_pack_or_with_an_unknown_skill_names_the_field() {
        let e = load(&example().replace("region = \"cn\"\nskills", "region = \"de\"\nskills"))
            .expect_err("no de pack");
        assert!(
            e.to_string().contains("roster.region") && e.to_string().contains("de"),
            "{e}"
        );
        let e = load(&example().replace("skills = [\"nurse\"]", "skills = [\"surgeon\"]"))
            .expect_err("unknown skill");
        assert!(e.to_string().contains("roster.roles.nurse.skills"), "{e}");
        let e =
            load(&example().replace("max_consecutive_nights = 3", "max_consecutive_nights = 0"))
                .expect_err("bad pack");
        assert!(e.to_string().contains("max_consecutive_nights"), "{e}");
    }
}

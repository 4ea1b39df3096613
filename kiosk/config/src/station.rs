//! `station.toml`: who this kiosk is (tenant, store, device), its locale, folders and MQTT broker.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{ConfigError, ConfigErrors, read};

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationConfig {
    /// Identity and folders.
    pub station: StationSection,
    /// Where the sync agent sends results.
    pub broker: BrokerConfig,
    /// How the sync agent behaves (all optional).
    #[serde(default)]
    pub sync: SyncSettings,
    /// Speech recognition and end-pointing (all optional).
    #[serde(default)]
    pub speech: SpeechSettings,
    /// The on-screen app: devices, timeouts, privacy, manager access (all optional).
    #[serde(default)]
    pub kiosk: KioskSettings,
    /// What the kiosk's services log (optional).
    #[serde(default)]
    pub log: LogSettings,
}

/// `[log]`: how much the app, the sync agent and the purge log (to the journal under systemd).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `error`, `warn`, `info` (default) or `debug` for the kiosk's own components (libraries stay
    /// at `warn`), or a full filter such as `warn,kiosk_ui=debug`. Personal data (names, phones,
    /// transcripts) is never logged at `info` or above; `debug` may show transcripts: only while
    /// diagnosing. `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".into(),
        }
    }
}

/// The `*.toml` files of a station's drop-in folder, in name order (none if there is no folder).
fn dropin_files(path: &Path) -> Result<Vec<PathBuf>, ConfigErrors> {
    let dir = Station::dropin_dir(path);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(ConfigErrors::file(
                &dir.display().to_string(),
                "(folder)",
                format!("cannot be read: {e}"),
            ));
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Lays `over` onto `base`: tables merge key by key, anything else replaces.
fn overlay(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => overlay(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

/// The `[log] level` of a station file, read on its own before the file is validated (logging is
/// set up first): `None` if the file or the key is missing or unreadable.
pub fn log_level(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let doc: toml::Table = toml::from_str(&text).ok()?;
    let level = doc.get("log")?.get("level")?.as_str()?;
    valid_log_filter(level).then(|| level.to_owned())
}

/// Whether a `[log] level` is a level or a filter made of `target=level` directives.
fn valid_log_filter(filter: &str) -> bool {
    const LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];
    !filter.trim().is_empty()
        && filter.split(',').all(|d| {
            let level = d.rsplit('=').next().unwrap_or("").trim();
            let target = d.split_once('=').map(|(t, _)| t.trim());
            LEVELS.contains(&level.to_ascii_lowercase().as_str())
                && target.is_none_or(|t| {
                    !t.is_empty()
                        && t.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_:-".contains(c))
                })
        })
}

/// `[kiosk]`: the fullscreen app.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KioskSettings {
    /// Microphone: part of a capture device's name (default: the system default input).
    pub microphone: Option<String>,
    /// Camera: a V4L2 index (default 0).
    pub camera_index: u32,
    /// No touch and no speech for this long resets the screen and discards the partial interview.
    pub idle_timeout_s: u64,
    /// How long the thank-you screen stays before the attract screen returns.
    pub done_timeout_s: u64,
    /// The manager screens log out after this long without a touch.
    pub manager_timeout_s: u64,
    /// argon2id hash of the manager PIN (`kiosk set-pin` prints one). No hash: manager screens stay locked.
    pub manager_pin_hash: Option<String>,
    /// Days answer audio is kept before it is deleted (also told to candidates).
    pub media_retention_days: u32,
    /// Days the kiosk keeps a candidate's personal data (name, phone, answers, transcripts)
    /// after the cloud confirmed it has them; data the cloud does not have is never purged.
    pub personal_data_days: u32,
    /// Version of the notice and consent text shown, recorded with each consent.
    pub notice_version: String,
    /// Where candidates ask for deletion (shown on the consent and thank-you screens).
    pub privacy_contact: String,
}

impl Default for KioskSettings {
    fn default() -> Self {
        Self {
            microphone: None,
            camera_index: 0,
            idle_timeout_s: 45,
            done_timeout_s: 20,
            manager_timeout_s: 120,
            manager_pin_hash: None,
            media_retention_days: 30,
            personal_data_days: 30,
            notice_version: "2026-11".into(),
            privacy_contact: "privacy@example.com".into(),
        }
    }
}

/// `[speech]`: which Whisper model serves each language and how answers are end-pointed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpeechSettings {
    /// Model (a `models/manifest.toml` name) for English answers.
    pub model_en: String,
    /// Model for Chinese answers (must be multilingual).
    pub model_zh: String,
    /// Encode only the answer's length of Whisper's window for English (fast; accurate with tiny.en).
    pub trim_audio_ctx_en: bool,
    /// The same for Chinese (garbles the base model: off).
    pub trim_audio_ctx_zh: bool,
    /// Re-decode at higher temperature when a transcript looks wrong, for English (costly; same
    /// WER without it in the bench: off).
    pub temperature_fallback_en: bool,
    /// The same for Chinese (needed: on).
    pub temperature_fallback_zh: bool,
    /// Beam search width for Chinese (1: greedy).
    pub beam_size_zh: usize,
    /// Suppress non-speech tokens for Chinese.
    pub suppress_non_speech_zh: bool,
    /// CPU threads for recognition.
    pub threads: usize,
    /// Cut long answers (≥ 12 s) at the candidate's pauses nearest even shares of at most 20 s
    /// and transcribe the parts two at once, one thread each (needs a trimmed window and two
    /// threads; faster at the same WER).
    pub split_long_answers: bool,
    /// Flash attention in Whisper (20–25 % faster on this CPU, but it garbled Chinese with base
    /// and failed an English test here: off).
    pub flash_attn: bool,
    /// Silence after speech that ends a live answer to a yes/no question (a role's question
    /// may set its own `end_silence_ms`).
    pub trailing_silence_ms: u32,
    /// The same for an open question: people pause to think there, 1.5–3 s and longer when
    /// nervous or in a second language.
    pub trailing_silence_open_ms: u32,
}

impl Default for SpeechSettings {
    fn default() -> Self {
        Self {
            model_en: "whisper-tiny.en-q8_0".into(),
            model_zh: "whisper-base".into(),
            trim_audio_ctx_en: true,
            trim_audio_ctx_zh: false,
            temperature_fallback_en: false,
            temperature_fallback_zh: true,
            beam_size_zh: 1,
            suppress_non_speech_zh: false,
            threads: 2,
            split_long_answers: true,
            flash_attn: false,
            trailing_silence_ms: 1200,
            trailing_silence_open_ms: 2800,
        }
    }
}

/// `[sync]`: the sync agent's timing and limits.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncSettings {
    /// MQTT keep-alive; a half-open connection is detected within about twice this.
    pub keep_alive_s: u64,
    /// Events published but not yet acknowledged, at most.
    pub window: usize,
    /// How often health is published and the state for `status` refreshed.
    pub health_interval_s: u64,
    /// Refusals for the event's own fault (too large, invalid topic or payload) before it is
    /// quarantined; refusals that are the broker's or the ACL's keep it and back off.
    pub max_attempts: i64,
    /// First reconnect delay; doubles up to `backoff_max_s`, with full jitter.
    pub backoff_initial_ms: u64,
    /// Longest reconnect delay.
    pub backoff_max_s: u64,
    /// How often the outbox is checked for new events.
    pub poll_interval_ms: u64,
    /// An event the broker acknowledged is published again when the cloud's receipt has not
    /// arrived within this (doubling per resend, up to `receipt_timeout_max_s`).
    pub receipt_timeout_s: u64,
    /// Longest wait for a receipt between resends.
    pub receipt_timeout_max_s: u64,
    /// A downlink version more than this far ahead of the one held is refused and reported (a
    /// typo would otherwise pin the document for good).
    pub max_version_jump: i64,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            keep_alive_s: 10,
            window: 64,
            health_interval_s: 30,
            max_attempts: 5,
            backoff_initial_ms: 250,
            backoff_max_s: 30,
            poll_interval_ms: 20,
            receipt_timeout_s: 60,
            receipt_timeout_max_s: 3600,
            max_version_jump: 1000,
        }
    }
}

/// `[station]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationSection {
    /// Customer (company) id.
    pub tenant: String,
    /// Store id.
    pub store_id: String,
    /// This kiosk's id.
    pub device_id: String,
    /// Default language: `zh-CN` or `en`.
    pub locale: String,
    /// SQLite database and media.
    pub data_dir: PathBuf,
    /// The store key that encrypts the database and answer audio (default: `store.key` beside
    /// the station file; systemd's `store.key` credential wins when the service has one).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Speech, VAD and face models.
    pub models_dir: PathBuf,
    /// Role files and `lexicon.toml`.
    pub roles_dir: PathBuf,
    /// Roles this store offers (default: every role in `roles_dir`).
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    /// Spoken question prompts: `<dir>/<role id>/<question id>.<zh|en>.wav`, 16 kHz. A question
    /// with a file there is read out before the kiosk listens; one without is shown only.
    #[serde(default)]
    pub prompt_audio_dir: Option<PathBuf>,
}

/// `[broker]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerConfig {
    /// Host name or address.
    pub host: String,
    /// TCP port (8883 for TLS, 1883 plain for local development only).
    pub port: i64,
    /// CA certificate that signed the broker's certificate (pinned).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// This device's client certificate.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// This device's private key.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Allow plain (unencrypted, unauthenticated) MQTT to a host that is not this machine — a
    /// lab only: candidates' data would cross the network in clear. Off by default.
    #[serde(default)]
    pub insecure_plaintext: bool,
}

impl BrokerConfig {
    /// True when the host is this machine (`localhost` or a loopback address).
    pub fn is_loopback(&self) -> bool {
        let host = self
            .host
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// TLS files, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// CA certificate.
    pub ca: PathBuf,
    /// Client certificate.
    pub cert: PathBuf,
    /// Client key.
    pub key: PathBuf,
}

/// A loaded, validated station with its paths resolved.
#[derive(Debug, Clone)]
pub struct Station {
    /// The station file.
    pub file: PathBuf,
    /// What it says.
    pub config: StationConfig,
    /// `data_dir`, resolved.
    pub data_dir: PathBuf,
    /// `key_file`, resolved (default `store.key` beside the station file).
    pub key_file: PathBuf,
    /// `models_dir`, resolved.
    pub models_dir: PathBuf,
    /// `roles_dir`, resolved.
    pub roles_dir: PathBuf,
    /// `prompt_audio_dir`, resolved.
    pub prompt_audio_dir: Option<PathBuf>,
    /// TLS files, resolved, when all three are configured.
    pub tls: Option<TlsFiles>,
}

impl Station {
    /// Reads, validates and resolves a station file.
    /// Drop-ins in `station.d/` beside it (`*.toml`, in name order) are laid over the file,
    /// key by key: what `kiosk enroll` writes goes there, so the station file itself (a package's
    /// conffile) is never rewritten by a command.
    pub fn load(path: &Path) -> Result<Self, ConfigErrors> {
        let text = read(path)?;
        let dropins = dropin_files(path)?;
        if dropins.is_empty() {
            return Self::parse(&text, path);
        }
        let invalid = |file: &Path, e: toml::de::Error| {
            ConfigErrors::file(
                &file.display().to_string(),
                "(file)",
                format!("not a valid station file: {e}"),
            )
        };
        let mut doc: toml::Table = toml::from_str(&text).map_err(|e| invalid(path, e))?;
        for file in &dropins {
            let over: toml::Table = toml::from_str(&read(file)?).map_err(|e| invalid(file, e))?;
            overlay(&mut doc, over);
        }
        let merged = toml::to_string(&doc).map_err(|e| {
            ConfigErrors::file(&path.display().to_string(), "(file)", e.to_string())
        })?;
        Self::parse(&merged, path)
    }

    /// The drop-in folder of a station file: `station.d` beside it.
    pub fn dropin_dir(path: &Path) -> PathBuf {
        path.parent().unwrap_or(Path::new(".")).join("station.d")
    }

    /// Validates and resolves a station file's text; `path` locates relative paths and names errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigErrors> {
        let name = path.display().to_string();
        let config: StationConfig = toml::from_str(text).map_err(|e| {
            ConfigErrors::file(&name, "(file)", format!("not a valid station file: {e}"))
        })?;
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| {
            errors.push(ConfigError {
                file: name.clone(),
                role: None,
                field: field.to_string(),
                message,
            })
        };
        let s = &config.station;
        for (field, value) in [
            ("station.tenant", &s.tenant),
            ("station.store_id", &s.store_id),
            ("station.device_id", &s.device_id),
        ] {
            if value.is_empty()
                || value
                    .chars()
                    .any(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            {
                fail(
                    field,
                    format!(
                        "`{value}` must be non-empty and use only letters, digits, - and _ (it is an MQTT topic level)"
                    ),
                );
            }
        }
        if !valid_log_filter(&config.log.level) {
            fail(
                "log.level",
                format!(
                    "`{}` is not a log level: use error, warn, info or debug (or a filter such as warn,kiosk_ui=debug)",
                    config.log.level
                ),
            );
        }
        if !matches!(s.locale.as_str(), "zh-CN" | "en") {
            fail(
                "station.locale",
                format!("`{}` is not supported: use zh-CN or en", s.locale),
            );
        }
        let b = &config.broker;
        if b.host.trim().is_empty() {
            fail("broker.host", "must not be empty".into());
        }
        if !(1..=65535).contains(&b.port) {
            fail("broker.port", format!("{} is not a TCP port", b.port));
        }
        let tls_set = [&b.ca_file, &b.cert_file, &b.key_file]
            .iter()
            .filter(|f| f.is_some())
            .count();
        if tls_set != 0 && tls_set != 3 {
            fail("broker", "ca_file, cert_file and key_file go together: set all three (TLS) or none (local plain MQTT)".into());
        }
        if tls_set == 0 && !b.is_loopback() && !b.insecure_plaintext {
            fail(
                "broker",
                format!(
                    "plain MQTT to {} would send candidates' data over the network unencrypted: set ca_file, cert_file and key_file (TLS), or insecure_plaintext = true for a lab",
                    b.host
                ),
            );
        }
        let y = &config.sync;
        for (field, ok) in [
            ("sync.keep_alive_s", (5..=3600).contains(&y.keep_alive_s)),
            ("sync.window", (1..=1000).contains(&y.window)),
            (
                "sync.health_interval_s",
                (1..=86400).contains(&y.health_interval_s),
            ),
            ("sync.max_attempts", (1..=1000).contains(&y.max_attempts)),
            ("sync.max_version_jump", y.max_version_jump >= 1),
            (
                "sync.backoff_initial_ms",
                (10..=60_000).contains(&y.backoff_initial_ms),
            ),
            ("sync.backoff_max_s", (1..=3600).contains(&y.backoff_max_s)),
            (
                "sync.poll_interval_ms",
                (1..=10_000).contains(&y.poll_interval_ms),
            ),
            (
                "sync.receipt_timeout_s",
                (1..=86_400).contains(&y.receipt_timeout_s),
            ),
            (
                "sync.receipt_timeout_max_s",
                (y.receipt_timeout_s..=7 * 86_400).contains(&y.receipt_timeout_max_s),
            ),
            ("speech.threads", (1..=64).contains(&config.speech.threads)),
            (
                "speech.beam_size_zh",
                (1..=8).contains(&config.speech.beam_size_zh),
            ),
            (
                "speech.trailing_silence_ms",
                (200..=10_000).contains(&config.speech.trailing_silence_ms),
            ),
            (
                "speech.trailing_silence_open_ms",
                (200..=10_000).contains(&config.speech.trailing_silence_open_ms),
            ),
        ] {
            if !ok {
                fail(field, "is out of range (see README, [sync])".into());
            }
        }
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                tidy(&base.join(p))
            }
        };
        let tls = match (&b.ca_file, &b.cert_file, &b.key_file) {
            (Some(ca), Some(cert), Some(key)) => Some(TlsFiles {
                ca: resolve(ca),
                cert: resolve(cert),
                key: resolve(key),
            }),
            _ => None,
        };
        Ok(Self {
            file: path.to_path_buf(),
            data_dir: resolve(&s.data_dir),
            key_file: resolve(s.key_file.as_deref().unwrap_or(Path::new("store.key"))),
            models_dir: resolve(&s.models_dir),
            roles_dir: resolve(&s.roles_dir),
            prompt_audio_dir: s.prompt_audio_dir.as_deref().map(resolve),
            tls,
            config,
        })
    }

    /// The SQLite database file.
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("kiosk.sqlite3")
    }
}

/// `a/b/../c` → `a/c`, without touching the file system (messages show readable paths).
fn tidy(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = include_str!("../../../provisioning/examples/station.toml");

    #[test]
    fn shipped_example_is_valid_and_paths_resolve_against_its_folder() {
        let s = Station::parse(GOOD, Path::new("/etc/kiosk/station.toml")).expect("valid");
        assert_eq!(s.roles_dir, Path::new("/etc/kiosk/roles"));
        assert_eq!(
            s.data_dir,
            Path::new("/var/data"),
            "../../var/data from /etc/kiosk"
        );
        assert_eq!(tidy(Path::new("a/./b/../../../c")), Path::new("../c"));
        assert!(s.database().ends_with("kiosk.sqlite3"));
    }

    #[test]
    fn drop_ins_lay_their_keys_over_the_file_in_name_order() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("station.toml");
        std::fs::write(&path, GOOD).expect("write");
        let d = Station::dropin_dir(&path);
        std::fs::create_dir(&d).expect("mkdir");
        std::fs::write(
            d.join("50-enrolment.toml"),
            "[broker]\nhost = \"broker.example\"\nport = 8883\nca_file = \"/etc/kiosk/tls/ca.crt\"\ncert_file = \"/etc/kiosk/tls/device.crt\"\nkey_file = \"/etc/kiosk/tls/device.key\"\n",
        )
        .expect("write");
        std::fs::write(d.join("90-local.toml"), "[broker]\nport = 9883\n").expect("write");
        std::fs::write(d.join("README"), "not toml").expect("write");
        let s = Station::load(&path).expect("valid");
        assert_eq!(s.config.broker.host, "broker.example");
        assert_eq!(s.config.broker.port, 9883, "later files win");
        assert!(s.tls.is_some(), "TLS from the drop-in");
        assert_eq!(
            s.config.station.device_id, "kiosk-01",
            "the rest is the file's"
        );
        std::fs::write(d.join("95-bad.toml"), "[broker\n").expect("write");
        let e = Station::load(&path).expect_err("bad drop-in").to_string();
        assert!(e.contains("95-bad.toml"), "{e}");
    }

    #[test]
    fn the_log_level_is_checked_and_a_filter_is_allowed() {
        for good in ["info", "debug", "warn,kiosk_ui=debug", "WARN"] {
            let t = format!("{GOOD}\n[log]\nlevel = \"{good}\"\n");
            let s = Station::parse(&t, Path::new("s.toml")).expect(good);
            assert_eq!(s.config.log.level, good);
        }
        let t = format!("{GOOD}\n[log]\nlevel = \"loud\"\n");
        let e = Station::parse(&t, Path::new("s.toml"))
            .expect_err("loud")
            .to_string();
        assert!(e.contains("log.level") && e.contains("loud"), "{e}");
        let s = Station::parse(GOOD, Path::new("s.toml")).expect("default");
        assert_eq!(s.config.log.level, "info");
    }

    #[test]
    fn plain_mqtt_leaves_the_machine_only_when_allowed() {
        let lab = GOOD.replacen(
            "host = \"localhost\"",
            "host = \"10.0.0.5\"\ninsecure_plaintext = true",
            1,
        );
        let s = Station::parse(&lab, Path::new("s.toml")).expect("allowed for a lab");
        assert!(!s.config.broker.is_loopback());
        for host in ["127.0.0.1", "::1", "[::1]", "LocalHost"] {
            let local = GOOD.replacen("host = \"localhost\"", &format!("host = \"{host}\""), 1);
            let s = Station::parse(&local, Path::new("s.toml")).expect(host);
            assert!(s.config.broker.is_loopback(), "{host}");
        }
    }

    #[test]
    fn bad_values_name_the_field() {
        let cases = [
            ("locale = \"zh-CN\"", "locale = \"fr\"", "station.locale"),
            (
                "store_id = \"sh-pudong-001\"",
                "store_id = \"sh/pudong\"",
                "station.store_id",
            ),
            ("port = 1883", "port = 0", "broker.port"),
            ("port = 1883", "port = 1883\nca_file = \"ca.crt\"", "broker"),
            (
                "host = \"localhost\"",
                "host = \"mqtt.example.com\"",
                "broker",
            ),
        ];
        for (from, to, field) in cases {
            assert!(GOOD.contains(from), "{from}");
            let errs =
                Station::parse(&GOOD.replacen(from, to, 1), Path::new("s.toml")).expect_err(to);
            assert!(
                errs.0
                    .iter()
                    .any(|e| e.field == field && e.file == "s.toml"),
                "{errs}"
            );
        }
    }
}

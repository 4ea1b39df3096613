//! Helpers for system tests: find the workspace's built binaries and lay out a throw-away station.

pub mod bridge;
pub mod broker;
pub mod cloud;
pub mod debroot;
pub mod notify;
pub mod postgres;
pub mod sample;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `provisioning` in this checkout.
pub fn provisioning() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning")
}

/// Runs `provisioning/certs/make-certs.sh OUT localhost DEVICE…`: a CA, the broker's certificate
/// (for localhost), a CRL, and one certificate per device path.
pub fn make_certs(out: &Path, devices: &[&str]) {
    let status = Command::new(provisioning().join("certs/make-certs.sh"))
        .arg(out)
        .arg("localhost")
        .args(devices)
        .status()
        .expect("make-certs.sh runs");
    assert!(status.success());
}

/// `provisioning/examples` in this checkout.
pub fn examples() -> PathBuf {
    provisioning().join("examples")
}

/// A finished command's stdout then stderr, as text (for assertions and their messages).
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A binary built from this workspace (`cargo build --workspace --bins` builds them all).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> or target/<profile>/<bench> → target/<profile>/<name>
    let mut dir = exe.parent().expect("executable folder");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir = dir.parent().expect("target profile folder");
    }
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace --bins` before the system tests (the README's test command does)",
        path.display()
    );
    path
}

/// Runs the `kiosk` binary and waits for it.
pub fn kiosk(args: &[&str]) -> Output {
    Command::new(binary("kiosk"))
        .args(args)
        .output()
        .expect("kiosk runs")
}

/// A station in `dir` with the shipped roles and demo answers; its data lives in `dir/data`.
pub fn station(dir: &Path) -> PathBuf {
    let roles = dir.join("roles");
    std::fs::create_dir_all(&roles).expect("mkdir roles");
    for entry in std::fs::read_dir(examples().join("roles")).expect("shipped roles") {
        let p = entry.expect("entry").path();
        std::fs::copy(&p, roles.join(p.file_name().expect("name"))).expect("copy role");
    }
    std::fs::copy(
        examples().join("demo-answers.toml"),
        dir.join("demo-answers.toml"),
    )
    .expect("copy demo");
    let text = std::fs::read_to_string(examples().join("station.toml"))
        .expect("shipped station")
        .replace("\"../../var/data\"", "\"data\"")
        .replace("\"../../var/models\"", "\"models\"")
        .replace("\"../../var/store.key\"", "\"store.key\"");
    let path = dir.join("station.toml");
    std::fs::write(&path, text).expect("write station");
    path
}

/// The database file of a station made by [`station`].
pub fn database(dir: &Path) -> PathBuf {
    dir.join("data/kiosk.sqlite3")
}

/// Points a station made by [`station`] at a broker port and appends `extra` lines (e.g. a `[sync]`
/// section tuned for quick tests).
pub fn configure_broker(station: &Path, port: u16, extra: &str) {
    let text = std::fs::read_to_string(station).expect("station");
    let text = text.replacen("port = 1883", &format!("port = {port}"), 1);
    let text = match text.find("\n[sync]") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    std::fs::write(station, format!("{text}\n{extra}\n")).expect("write station");
}

/// `[sync]` settings that make faults show up in seconds rather than minutes.
pub const FAST_SYNC: &str = "[sync]\nkeep_alive_s = 5\nwindow = 16\nhealth_interval_s = 1\nmax_attempts = 3\nbackoff_initial_ms = 100\nbackoff_max_s = 1\npoll_interval_ms = 10\n";

/// A running `sync-agent`, SIGKILLed and reaped when dropped (also when a test fails).
#[derive(Debug)]
pub struct AgentProcess(Child);

impl AgentProcess {
    /// Its process id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    /// Waits for it to exit.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.0.wait().expect("agent reaped")
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `sync-agent --station S`, its log appended to `log`.
pub fn start_agent(station: &Path, log: &Path) -> AgentProcess {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("agent log");
    let child = Command::new(binary("sync-agent"))
        .args(["--station", station.to_str().expect("utf8")])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("sync-agent starts");
    AgentProcess(child)
}

/// Runs `kiosk demo` for `rounds` rounds of the 4 sample candidates.
pub fn produce(station: &Path, rounds: u32) {
    let out = kiosk(&[
        "demo",
        "--quiet",
        "--rounds",
        &rounds.to_string(),
        "--station",
        station.to_str().expect("utf8"),
    ]);
    assert!(
        out.status.success(),
        "kiosk demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `sync-agent status --json` as JSON.
pub fn agent_status(station: &Path) -> serde_json::Value {
    let out = Command::new(binary("sync-agent"))
        .args([
            "status",
            "--json",
            "--station",
            station.to_str().expect("utf8"),
        ])
        .output()
        .expect("status runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("status json")
}

/// Waits until `check` holds, polling; panics with `what` and the last observation after `limit`.
pub fn wait_until<T: std::fmt::Debug>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> (bool, T),
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        let (ok, seen) = check();
        if ok {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last seen: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `var/models` of this checkout, where `models/fetch.sh` installs the models for the tests.
pub fn repo_models() -> PathBuf {
    std::env::var_os("KIOSK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../var/models"))
}

/// Points a station made by [`station`] at `models_dir`.
pub fn use_models(station: &Path, models_dir: &Path) {
    let text = std::fs::read_to_string(station).expect("station");
    let text = text.replacen(
        "models_dir = \"models\"",
        &format!("models_dir = \"{}\"", models_dir.display()),
        1,
    );
    std::fs::write(station, text).expect("write station");
}

/// [`station`] in `dir` using the checkout's fetched models.
pub fn station_with_models(dir: &Path) -> PathBuf {
    let st = station(dir);
    use_models(&st, &repo_models());
    st
}

/// Speaks `text` with an espeak-ng voice into `dir/name.wav` (16 kHz mono, silence before and
/// after); nothing else is left in `dir`, so a folder of clips holds only the clips.
pub fn speak(dir: &Path, name: &str, voice: &str, text: &str) -> PathBuf {
    let raw = dir.join(format!("{name}.raw.wav"));
    let out = dir.join(format!("{name}.wav"));
    let ok = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "150", "-w"])
        .arg(&raw)
        .arg(text)
        .status();
    assert!(ok.expect("espeak-ng (apt-get install espeak-ng)").success());
    // -D: no dither (it is random), so every run hears the same samples.
    let ok = Command::new("sox")
        .arg("-D")
        .arg(&raw)
        .args(["-r", "16000", "-c", "1", "-b", "16"])
        .arg(&out)
        .args(["pad", "0.6", "1.6"])
        .status();
    assert!(ok.expect("sox (apt-get install sox)").success());
    std::fs::remove_file(&raw).expect("remove espeak-ng's raw output");
    out
}

/// An ALSA configuration (written as `dir/alsa.conf`) whose default capture device is a `file`
/// PCM reading `infile` (raw S16_LE, 16 kHz mono) instantly: real cpal capture without hardware.
/// Point `ALSA_CONFIG_PATH` at the returned file.
pub fn alsa_file_conf(dir: &Path, infile: &Path) -> PathBuf {
    let conf = dir.join("alsa.conf");
    let text = format!(
        "</usr/share/alsa/alsa.conf>\npcm.!default {{\n  type plug\n  slave {{\n    pcm {{ type file slave.pcm \"null\" file \"/dev/null\" infile \"{}\" format \"raw\" }}\n    format S16_LE\n    rate 16000\n    channels 1\n  }}\n}}\n",
        infile.display()
    );
    std::fs::write(&conf, text).expect("write alsa.conf");
    conf
}

/// A private PulseAudio server (stopped on drop) whose default speaker is a null sink and whose
/// default microphone is that sink's monitor, with an ALSA configuration that sends ALSA's
/// default device to it: what a process plays, it hears, paced like real hardware.
#[derive(Debug)]
pub struct PulseLoopback {
    runtime: PathBuf,
    alsa_conf: PathBuf,
}

impl PulseLoopback {
    /// Starts the server under `dir`.
    pub fn start(dir: &Path) -> Self {
        let runtime = dir.join("pulse-rt");
        std::fs::create_dir_all(&runtime).expect("mkdir");
        let alsa_conf = dir.join("pulse-alsa.conf");
        std::fs::write(
            &alsa_conf,
            "</usr/share/alsa/alsa.conf>\npcm.!default { type pulse }\nctl.!default { type pulse }\n",
        )
        .expect("write alsa conf");
        let me = Self { runtime, alsa_conf };
        let ok = Command::new("pulseaudio")
            .args([
                "--daemonize=yes",
                "--exit-idle-time=-1",
                "-n",
                "--log-level=error",
                "--load=module-native-protocol-unix auth-anonymous=1",
                "--load=module-null-sink sink_name=feed rate=16000 channels=1",
            ])
            .envs(me.env())
            .status()
            .expect("pulseaudio (apt-get install pulseaudio pulseaudio-utils libasound2-plugins)");
        assert!(ok.success(), "pulseaudio did not start");
        let pactl = |args: &[&str]| {
            Command::new("pactl")
                .args(args)
                .envs(me.env())
                .output()
                .is_ok_and(|o| o.status.success())
        };
        wait_until("pulseaudio answers", Duration::from_secs(10), || {
            (pactl(&["info"]), ())
        });
        assert!(pactl(&["set-default-sink", "feed"]));
        assert!(pactl(&["set-default-source", "feed.monitor"]));
        me
    }

    /// The environment a process needs to use it.
    pub fn env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        let mut server = std::ffi::OsString::from("unix:");
        server.push(self.runtime.join("pulse/native"));
        vec![
            ("XDG_RUNTIME_DIR", self.runtime.clone().into()),
            ("PULSE_SERVER", server),
            ("ALSA_CONFIG_PATH", self.alsa_conf.clone().into()),
        ]
    }
}

impl Drop for PulseLoopback {
    fn drop(&mut self) {
        let _ = Command::new("pulseaudio")
            .arg("--kill")
            .envs(self.env())
            .status();
    }
}

/// Opens the store of a station made by [`station`], with its key (`dir/store.key`, made by the
/// first process that opened it).
pub fn open_store(dir: &Path) -> Result<kiosk_store::Store, kiosk_store::StoreError> {
    kiosk_store::Store::open_with_key_file(&database(dir), &dir.join("store.key"))
}

/// A plain SQLite connection to a station's database, keyed: for what the store's API does not
/// show, or to hold its write lock.
pub fn raw_database(dir: &Path) -> rusqlite::Connection {
    let key = kiosk_store::StoreKey::load(&dir.join("store.key")).expect("the station's key");
    let c = rusqlite::Connection::open(database(dir)).expect("open");
    c.execute_batch(&format!(
        "PRAGMA key = {};",
        key.sqlcipher_pragma().as_str()
    ))
    .expect("key");
    c
}

/// Whether the tests run as root (as CI does): some checks are about what root may do.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

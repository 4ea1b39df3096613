//! `kiosk run`: the fullscreen app, with real devices or, for the demo and the screenshot tour,
//! prepared answers and a face image (only those may run with the example's manager PIN);
//! `kiosk set-pin`: a manager PIN hash, read from the terminal or standard input.

use std::path::{Path, PathBuf};

use kiosk_config::{Station, load_catalog};
use kiosk_perception::camera::{Camera, FileCamera, NokhwaCamera};
use kiosk_perception::mic::{CpalMic, Microphone};
use kiosk_ui::bench::FrameStats;
use kiosk_ui::demo::Script;
use kiosk_ui::devices::{AlsaFileMic, ClipsMic, SpokenMic};
use kiosk_ui::run::{RunOptions, run as run_app};

use crate::UsageError;
use crate::cli::RunArgs;

/// The prepared answers of a language, in name order.
fn clips(dir: &Path, locale: &str) -> anyhow::Result<Vec<PathBuf>> {
    let sub = dir.join(locale);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&sub)
        .map_err(|e| UsageError(format!("--clips: {}: {e}", sub.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(UsageError(format!("--clips: no .wav files in {}", sub.display())).into());
    }
    Ok(files)
}

/// Runs the command.
pub fn run(a: RunArgs) -> anyhow::Result<()> {
    let mut station = Station::load(&a.station)
        .map_err(|e| UsageError(format!("invalid configuration:\n{e}")))?;
    if let Some(dir) = &a.prompt_audio {
        station.prompt_audio_dir = Some(dir.clone());
    }
    let catalog =
        load_catalog(&station).map_err(|e| UsageError(format!("invalid configuration:\n{e}")))?;
    if !matches!(a.demo_locale.as_str(), "en" | "zh-CN") {
        return Err(UsageError("--demo-locale must be en or zh-CN".into()).into());
    }
    let scripted = a.demo || a.tour.is_some();
    if !scripted {
        refuse_demo_pin(&station)?;
    }
    let order: Vec<&str> = match (&a.tour, a.demo) {
        (Some(_), _) => vec!["zh-CN", "en"],
        (None, true) => vec![a.demo_locale.as_str()],
        (None, false) => vec![],
    };
    let files: Vec<PathBuf> = match (&a.clips, scripted) {
        (Some(dir), _) => {
            let mut all = Vec::new();
            for l in order.iter().copied().chain(if order.is_empty() {
                Some(a.demo_locale.as_str())
            } else {
                None
            }) {
                all.extend(clips(dir, l)?);
            }
            all
        }
        (None, true) => {
            return Err(
                UsageError("--demo and --tour need --clips (prepared answers)".into()).into(),
            );
        }
        (None, false) => Vec::new(),
    };
    let device = station.config.kiosk.microphone.clone();
    let infile = a.alsa_infile.clone();
    let speak = a.speak_clips;
    let mic: kiosk_ui::workers::capture::MicFactory = Box::new(move || -> Box<dyn Microphone> {
        let made: Result<Box<dyn Microphone>, _> = match (files.is_empty(), infile, speak) {
            (true, _, _) => return Box::new(CpalMic::new(device)),
            (false, Some(infile), _) => {
                AlsaFileMic::new(&files, &infile).map(|m| Box::new(m) as Box<dyn Microphone>)
            }
            (false, None, true) => {
                SpokenMic::new(&files, device).map(|m| Box::new(m) as Box<dyn Microphone>)
            }
            (false, None, false) => {
                ClipsMic::from_files(&files, true).map(|m| Box::new(m) as Box<dyn Microphone>)
            }
        };
        made.unwrap_or_else(|e| {
            tracing::error!("{e}");
            Box::new(ClipsMic::new(Vec::new(), true))
        })
    });
    let camera_file = a.camera_file.clone();
    let index = station.config.kiosk.camera_index;
    let camera: kiosk_ui::workers::camera::CameraFactory =
        Box::new(move || -> Result<Box<dyn Camera>, _> {
            Ok(match camera_file {
                Some(f) => Box::new(FileCamera::open(&f, 5.0)?),
                None => Box::new(NokhwaCamera::open(index)?),
            })
        });
    let role = catalog
        .role("factory-worker")
        .or(catalog.roles.first())
        .map(|r| r.id.clone())
        .ok_or_else(|| UsageError("the station offers no roles".into()))?;
    let script = scripted.then(|| {
        let mut s = Script::default();
        for l in &order {
            let locale: &'static str = if *l == "en" { "en" } else { "zh-CN" };
            let name = if locale == "en" {
                "Alex Chen"
            } else {
                "Wang Fang"
            };
            s.interview(locale, name, &role, &a.demo_pin, a.tour.is_some());
        }
        if a.tour.is_some() || a.exit {
            s.exit();
        }
        s.shots = a.tour.clone();
        s
    });
    if let Some(dir) = &a.tour {
        std::fs::create_dir_all(dir)?;
    }
    let setup = kiosk_ui::build_setup(&station, catalog.roles, catalog.lexicon, mic, camera);
    run_app(
        setup,
        RunOptions {
            windowed: a.windowed,
            window_size: a.window_size,
            script,
            bench: a.bench_fps,
            bench_peer: if a.bench_fps {
                measure_peer(a.windowed)
            } else {
                None
            },
            font: a.font,
        },
    )?;
    Ok(())
}

/// The empty-window peer of `--bench-fps`, measured in a child process (one event loop per
/// process). None, with a warning, when it cannot be: the kiosk's own table is still printed.
fn measure_peer(windowed: bool) -> Option<FrameStats> {
    let exe = std::env::current_exe().ok()?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["empty-window", "--seconds", "12"]);
    if windowed {
        cmd.arg("--windowed");
    }
    let out = match cmd.stderr(std::process::Stdio::inherit()).output() {
        Ok(out) if out.status.success() => out,
        Ok(out) => {
            tracing::warn!(status = %out.status, "the empty-window peer failed");
            return None;
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot start the empty-window peer");
            return None;
        }
    };
    serde_json::from_slice(&out.stdout)
        .map_err(|e| tracing::warn!(error = %e, "the empty-window peer printed no frame times"))
        .ok()
}

/// Runs the empty window and prints its frame times as JSON.
pub fn empty_window(seconds: f64, windowed: bool) -> anyhow::Result<()> {
    let stats = kiosk_ui::bench::run_empty_window(windowed, seconds)
        .ok_or_else(|| anyhow::anyhow!("the empty window drew no frames in {seconds} s"))?;
    println!("{}", serde_json::to_string(&stats)?);
    Ok(())
}

/// The example station's manager PIN: a kiosk that is not a demo refuses to run with it.
const DEMO_PIN: &str = "2468";

/// Reads a PIN (from the terminal without echo, twice; or the first line of standard input, so
/// it never appears in the process list or the shell's history) and prints its hash.
pub fn set_pin() -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let pin = if std::io::stdin().is_terminal() {
        let pin = rpassword::prompt_password("New manager PIN (4–12 digits): ")?;
        if rpassword::prompt_password("The same PIN again: ")? != pin {
            return Err(UsageError("the two PINs differ: nothing was set".into()).into());
        }
        pin
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line
    };
    let pin = pin.trim();
    if !(4..=12).contains(&pin.len()) || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(UsageError("the PIN must be 4 to 12 digits".into()).into());
    }
    if pin == DEMO_PIN {
        return Err(UsageError(format!("{DEMO_PIN} is the example's PIN: choose another")).into());
    }
    let hash = kiosk_ui::pin_gate::hash_pin(pin)?;
    println!("manager_pin_hash = \"{hash}\"");
    Ok(())
}

/// A kiosk for real candidates must not open its manager screens with the example's PIN.
fn refuse_demo_pin(station: &Station) -> anyhow::Result<()> {
    let Some(hash) = &station.config.kiosk.manager_pin_hash else {
        return Ok(());
    };
    if kiosk_ui::pin_gate::verify_pin(hash, DEMO_PIN).unwrap_or(false) {
        return Err(UsageError(format!(
            "the manager PIN in [kiosk] manager_pin_hash is the example's ({DEMO_PIN}): anyone could open the candidates' results. Make one with `kiosk set-pin` and put its line in the station file (the demo and the tour may use the example's)"
        ))
        .into());
    }
    Ok(())
}

//! `kiosk check`: is every model intact and working, and are the microphone and camera there?

use std::path::Path;
use std::time::{Duration, Instant};

use kiosk_config::{Station, load_catalog};
use kiosk_perception::camera::{Camera, NokhwaCamera};
use kiosk_perception::face::FaceDetector;
use kiosk_perception::mic::{CpalMic, Microphone};
use kiosk_perception::models::{manifest, verified};
use kiosk_perception::{Asr, AsrOptions, Vad};
use kiosk_ui::prompts::PromptAudio;

use crate::UsageError;

struct Row {
    what: String,
    ok: bool,
    detail: String,
}

fn timed<T>(f: impl FnOnce() -> Result<T, String>) -> (Result<T, String>, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

/// Space below this on the data folder's disk fails the check: a few hundred interviews' audio.
const MIN_FREE_BYTES: u64 = 500 * 1024 * 1024;

/// Free space on the disk that holds the data folder (its nearest existing ancestor).
fn disk_row(data_dir: &Path) -> Row {
    let what = "disk free".to_string();
    match kiosk_service::free_bytes(data_dir) {
        Ok(free) => {
            let gib = free as f64 / f64::from(1u32 << 30);
            Row {
                what,
                ok: free >= MIN_FREE_BYTES,
                detail: if free >= MIN_FREE_BYTES {
                    format!("{gib:.1} GiB free for {}", data_dir.display())
                } else {
                    format!(
                        "only {gib:.2} GiB free for {}: free space (old logs, packages) before interviews cannot be saved",
                        data_dir.display()
                    )
                },
            }
        }
        Err(e) => Row {
            what,
            ok: false,
            detail: format!("{}: {e}", data_dir.display()),
        },
    }
}

/// Keeps a summary of this check in the store: the sync agent's health report carries it to
/// central IT (`GET /v1/devices`). Best effort: a store that cannot be opened is already a row.
fn record(st: &Station, rows: &[Row], failed: usize) {
    let summary = serde_json::json!({
        "ok": failed == 0,
        "failed": failed,
        "checks": rows.len(),
        "failing": rows
            .iter()
            .filter(|r| !r.ok)
            .map(|r| serde_json::json!({"check": r.what, "detail": r.detail}))
            .collect::<Vec<_>>(),
        "app_version": env!("CARGO_PKG_VERSION"),
    });
    let recorded = kiosk_store::Store::open_with_key_file(&st.database(), &st.key_file)
        .map_err(|e| e.to_string())
        .and_then(|mut s| s.record_box_check(&summary).map_err(|e| e.to_string()));
    if let Err(e) = recorded {
        tracing::warn!("the check's summary was not kept for the health report: {e}");
    }
}

/// Which questions are read out (`[station] prompt_audio_dir`).
fn prompts_row(st: &Station) -> Row {
    let what = "spoken question prompts".to_string();
    let Some(dir) = &st.prompt_audio_dir else {
        return Row {
            what,
            ok: true,
            detail: "none configured: questions are shown only (prompt_audio_dir)".into(),
        };
    };
    if !dir.is_dir() {
        return Row {
            what,
            ok: false,
            detail: format!("{} is not a folder (prompt_audio_dir)", dir.display()),
        };
    }
    match load_catalog(st) {
        Ok(catalog) => {
            let p = PromptAudio::scan(Some(dir), &catalog.roles);
            Row {
                what,
                ok: true,
                detail: format!(
                    "{} of {} spoken questions × languages have playable audio in {}",
                    p.len(),
                    p.asked(),
                    dir.display()
                ),
            }
        }
        Err(e) => Row {
            what,
            ok: false,
            detail: format!("roles: {e}"),
        },
    }
}

/// The database opens (not busy, not damaged, durable), and nothing older than the retention
/// period is still waiting for the cloud.
fn database_rows(st: &Station) -> Vec<Row> {
    let store = match kiosk_store::Store::open_with_key_file(&st.database(), &st.key_file) {
        Ok(s) => s,
        Err(e) => {
            return vec![Row {
                what: "database".into(),
                ok: false,
                detail: e.to_string(),
            }];
        }
    };
    let config = match (store.config_in_force(), store.config_undecided()) {
        (Ok(inf), Ok(und)) => Row {
            what: "configuration".into(),
            ok: true,
            detail: format!(
                "role files{}{}",
                inf.iter()
                    .map(|(k, v, _)| format!(" + {k} v{v} from the cloud"))
                    .collect::<String>(),
                if und.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} newer document(s) from the cloud are taken up when the kiosk is next idle",
                        und.len()
                    )
                }
            ),
        },
        (Err(e), _) | (_, Err(e)) => Row {
            what: "configuration".into(),
            ok: false,
            detail: e.to_string(),
        },
    };
    let key_file = kiosk_store::locate_key(&st.key_file);
    let key_row = match std::fs::metadata(&key_file) {
        Ok(m) => {
            use std::os::unix::fs::PermissionsExt;
            let mode = m.permissions().mode() & 0o777;
            Row {
                what: "store key".into(),
                // Owner only, or 0640 root:kiosk; never readable by others or writable by a group.
                ok: mode & 0o027 == 0,
                detail: if mode & 0o027 == 0 {
                    format!(
                        "{} (mode {mode:o}; fingerprint {}): database and audio are encrypted with it; keep a copy apart from the backups",
                        key_file.display(),
                        store.key().fingerprint()
                    )
                } else {
                    format!(
                        "{} is mode {mode:o}: others can read or change it; run `chmod 0600` (or 0640 root:kiosk)",
                        key_file.display()
                    )
                },
            }
        }
        Err(e) => Row {
            what: "store key".into(),
            ok: false,
            detail: format!("{}: {e}", key_file.display()),
        },
    };
    let days = st.config.kiosk.personal_data_days;
    let cutoff = kiosk_store::now() - chrono::Duration::days(i64::from(days));
    let backlog = store
        .schema_version()
        .and_then(|v| Ok((v, store.outbox_backlog()?)));
    let late = store.undelivered_before(cutoff);
    vec![
        config,
        key_row,
        Row {
            what: "database".into(),
            ok: backlog.is_ok(),
            detail: backlog.map_or_else(
                |e| e.to_string(),
                |(schema, b)| {
                    format!(
                        "{} opens (schema {schema}, WAL, synchronous=FULL); {} event(s) waiting to sync",
                        st.database().display(),
                        b.pending
                    )
                },
            ),
        },
        Row {
            what: "retention".into(),
            ok: late.as_ref().is_ok_and(|n| *n == 0),
            detail: match late {
                Ok(0) => format!("nothing older than {days} days is waiting for the cloud"),
                Ok(n) => format!(
                    "{n} interview(s) older than {days} days have not reached the cloud: they are kept, not purged; check the sync agent (sync-agent status)"
                ),
                Err(e) => e.to_string(),
            },
        },
    ]
}

/// Runs the command.
pub fn run(station: &Path, camera_index: Option<u32>, json: bool) -> anyhow::Result<()> {
    let st =
        Station::load(station).map_err(|e| UsageError(format!("invalid configuration:\n{e}")))?;
    let dir = &st.models_dir;
    let mut rows = Vec::new();
    for m in manifest() {
        let r = verified(dir, &m.name);
        rows.push(Row {
            what: format!("model {}", m.name),
            ok: r.is_ok(),
            detail: r.map_or_else(
                |e| e.to_string(),
                |p| format!("sha256 ok ({})", p.display()),
            ),
        });
    }
    let silence = vec![0.0f32; 16_000];
    let (vad, t) = timed(|| {
        let mut v = Vad::load(dir).map_err(|e| e.to_string())?;
        v.probabilities(&silence).map_err(|e| e.to_string())
    });
    rows.push(Row {
        what: "voice activity (Silero)".into(),
        ok: vad.is_ok(),
        detail: vad.map_or_else(
            |e| e,
            |p| format!("{} frames of silence in {} ms", p.len(), t.as_millis()),
        ),
    });
    for (lang, model) in [
        ("en", &st.config.speech.model_en),
        ("zh", &st.config.speech.model_zh),
    ] {
        let (asr, t) = timed(|| {
            let mut a =
                Asr::load(dir, model, st.config.speech.flash_attn).map_err(|e| e.to_string())?;
            let opts = AsrOptions {
                language: lang.into(),
                ..AsrOptions::default()
            };
            a.transcribe(&silence, &opts).map_err(|e| e.to_string())
        });
        rows.push(Row {
            what: format!("speech recognition {lang} ({model})"),
            ok: asr.is_ok(),
            detail: asr.map_or_else(
                |e| e,
                |_| {
                    format!(
                        "loaded and ran in {} ms (CPU kernels: {})",
                        t.as_millis(),
                        kiosk_perception::asr::cpu_kernels()
                    )
                },
            ),
        });
    }
    let (face, t) = timed(|| {
        let mut d = FaceDetector::load(dir).map_err(|e| e.to_string())?;
        d.detect(&image::RgbImage::new(640, 480))
            .map_err(|e| e.to_string())
    });
    rows.push(Row {
        what: "face presence (MTCNN)".into(),
        ok: face.is_ok(),
        detail: face.map_or_else(
            |e| e,
            |f| format!("{} faces on a blank frame in {} ms", f.len(), t.as_millis()),
        ),
    });
    rows.push(prompts_row(&st));
    rows.extend(database_rows(&st));
    rows.push(disk_row(&st.data_dir));
    let mut mic = CpalMic::new(st.config.kiosk.microphone.clone());
    let heard = mic.start().map_err(|e| e.to_string()).and_then(|rx| {
        let got = rx
            .recv_timeout(Duration::from_secs(2))
            .map_err(|_| "no audio arrived within 2 s".to_string());
        mic.stop();
        got
    });
    rows.push(Row {
        what: format!(
            "microphone ({})",
            st.config
                .kiosk
                .microphone
                .as_deref()
                .unwrap_or("system default")
        ),
        ok: heard.is_ok(),
        detail: heard.map_or_else(
            |e| e,
            |c| format!("audio arriving ({} samples in the first chunk)", c.len()),
        ),
    });
    let camera_index = camera_index.unwrap_or(st.config.kiosk.camera_index);
    let cam = NokhwaCamera::open(camera_index)
        .map_err(|e| e.to_string())
        .and_then(|mut c| c.frame().map_err(|e| e.to_string()));
    rows.push(Row {
        what: format!("camera {camera_index}"),
        ok: cam.is_ok(),
        detail: cam.map_or_else(|e| e, |f| format!("{}×{} frames", f.width(), f.height())),
    });
    let failed = rows.iter().filter(|r| !r.ok).count();
    record(&st, &rows, failed);
    if json {
        let checks: Vec<_> = rows
            .iter()
            .map(|r| serde_json::json!({"check": r.what, "ok": r.ok, "detail": r.detail}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"ok": failed == 0, "failed": failed, "checks": checks})
            )?
        );
    } else {
        let width = rows
            .iter()
            .map(|r| r.what.chars().count())
            .max()
            .unwrap_or(0);
        for r in &rows {
            println!(
                "{}  {:<width$}  {}",
                if r.ok { "OK  " } else { "FAIL" },
                r.what,
                r.detail
            );
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} check(s) failed");
    }
    Ok(())
}

//! The app on a real (virtual) screen: `kiosk run --tour` under Xvfb drives two full interviews
//! (Chinese, then English) with espeak-ng answers captured through cpal and ALSA's file device
//! and a face photo as the camera, then the manager's screens; every screen in both languages is
//! saved as PNG and checked here to be a real, non-blank picture. The PNGs are kept under
//! `var/screens/` (CI artifacts; look at them).

use std::path::{Path, PathBuf};
use std::process::Command;

use system_tests::{alsa_file_conf, binary, database, repo_models, speak, station_with_models};

const SCREENS: [&str; 11] = [
    "1-attract",
    "2-consent",
    "3-details",
    "4-device-check",
    "5-question",
    "6-done",
    "7-pin",
    "8-manager",
    "9-review",
    "10-status",
    "11-roster",
];

/// Where the screenshots are kept: `$KIOSK_SCREENS_DIR` or `var/screens` in the checkout.
fn screens_dir() -> PathBuf {
    std::env::var_os("KIOSK_SCREENS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../var/screens"))
}

/// Distinct colours (coarsely bucketed) and the luminance spread of a screenshot.
fn variety(img: &image::RgbImage) -> (usize, f64) {
    let mut colours = std::collections::HashSet::new();
    let (mut sum, mut sq, mut n) = (0f64, 0f64, 0f64);
    for p in img.pixels().step_by(7) {
        colours.insert((p[0] >> 3, p[1] >> 3, p[2] >> 3));
        let y = 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
        sum += y;
        sq += y * y;
        n += 1.0;
    }
    let mean = sum / n;
    (colours.len(), (sq / n - mean * mean).max(0.0).sqrt())
}

#[test]
fn every_screen_renders_in_both_languages() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station_with_models(dir.path());
    let clips = dir.path().join("clips");
    for (locale, voice, texts) in [
        (
            "en",
            "en-us",
            [
                "Hello, can you hear me?",
                "I want a stable job close to home, and the pay is good.",
                "Yes, two shifts are no problem for me.",
                "I worked on a production line for two years.",
            ],
        ),
        (
            "zh-CN",
            "cmn-latn-pinyin",
            [
                "ni3 hao3",
                "wo3 xiang3 zhao3 yi2 ge4 wen3 ding4 de5 gong1 zuo4.",
                "ke3 yi3, liang3 ban1 dao3 mei2 you3 wen4 ti2.",
                "wo3 zai4 gong1 chang3 zuo4 guo4 liang3 nian2.",
            ],
        ),
    ] {
        let d = clips.join(locale);
        std::fs::create_dir_all(&d).expect("mkdir");
        for (i, t) in texts.iter().enumerate() {
            speak(&d, &format!("{i}"), voice, t);
        }
    }
    let infile = dir.path().join("mic.raw");
    let conf = alsa_file_conf(dir.path(), &infile);
    let out = screens_dir();
    let _ = std::fs::remove_dir_all(&out);
    let run = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24"])
        .arg(binary("kiosk"))
        .args(["run", "--windowed", "--bench-fps", "--station"])
        .arg(&st)
        .arg("--tour")
        .arg(&out)
        .arg("--clips")
        .arg(&clips)
        .arg("--alsa-infile")
        .arg(&infile)
        .arg("--camera-file")
        .arg(repo_models().join("fixtures/astronaut.png"))
        .env("ALSA_CONFIG_PATH", &conf)
        .env("RUST_LOG", "warn,kiosk_ui=info")
        .output()
        .expect("xvfb-run (apt-get install xvfb xauth)");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "kiosk run --tour failed:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
    assert!(
        stdout.contains("question screen"),
        "frame table printed: {stdout}"
    );
    assert!(
        stdout.contains("| empty Bevy window") && !stdout.contains("could not be measured"),
        "the empty-window peer measured beside it: {stdout}\n{stderr}"
    );

    for locale in ["zh-CN", "en"] {
        for s in SCREENS {
            let path = out.join(format!("{s}-{locale}.png"));
            let img = image::open(&path)
                .unwrap_or_else(|e| panic!("{}: {e}\n{stderr}", path.display()))
                .to_rgb8();
            assert_eq!(img.dimensions(), (1280, 800), "{}", path.display());
            let (colours, spread) = variety(&img);
            assert!(
                colours >= 8 && spread >= 8.0,
                "{} looks blank: {colours} colours, spread {spread:.1}",
                path.display()
            );
        }
    }
    // Both interviews were stored, and the manager's decision on each went to the outbox.
    let store = kiosk_store::Store::open(&database(dir.path())).expect("store");
    let rows = store.list_results(10).expect("results");
    assert_eq!(rows.len(), 2, "{rows:?}");
    for r in &rows {
        let d = store.interview_detail(&r.interview_id).expect("detail");
        assert_eq!(d.decisions.len(), 1, "the tour decides each interview");
        assert_eq!(d.answers.len(), 3);
        assert!(d.result.video.is_some(), "camera report with face consent");
    }
    let locales: Vec<String> = rows
        .iter()
        .map(|r| store.interview_detail(&r.interview_id).expect("d").locale)
        .collect();
    assert!(
        locales.contains(&"zh-CN".to_string()) && locales.contains(&"en".to_string()),
        "{locales:?}"
    );
}

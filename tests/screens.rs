//! The app on a real (virtual) screen: `kiosk run --tour` under Xvfb drives two full interviews
//! (Chinese, then English) with espeak-ng answers captured through cpal and ALSA's file device
//! and a face photo as the camera, then the manager's screens; every screen in both languages is
//! saved as PNG and checked here to be a real, non-blank picture — at 1280×800 and at
//! 1920×1080 — and the review's evidence is scrolled with the mouse wheel and checked to move
//! (and only it). The PNGs are kept under `var/screens/` (and `var/screens/1920x1080/`; CI
//! artifacts: look at them).

use std::path::{Path, PathBuf};
use std::process::Command;

use system_tests::{alsa_file_conf, binary, repo_models, speak, station_with_models};

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

/// The share of pixels that differ (by more than a little, in any channel) between two
/// screenshots, in the band of rows `from`–`to` (fractions of the height).
fn changed(a: &image::RgbImage, b: &image::RgbImage, from: f32, to: f32) -> f64 {
    let (w, h) = a.dimensions();
    let rows = (h as f32 * from) as u32..(h as f32 * to) as u32;
    let (mut diff, mut n) = (0u64, 0u64);
    for y in rows {
        for x in 0..w {
            let (p, q) = (a.get_pixel(x, y), b.get_pixel(x, y));
            n += 1;
            if (0..3).any(|c| p[c].abs_diff(q[c]) > 24) {
                diff += 1;
            }
        }
    }
    diff as f64 / n.max(1) as f64
}

/// Where the tour's two turns of the wheel left each review's evidence, in tour order (the
/// app logs `review evidence scrolled y=… max=…`): (y, max) pairs.
fn scroll_log(stderr: &str) -> Vec<(f32, f32)> {
    let num = |line: &str, key: &str| -> Option<f32> {
        let at = line.find(key)? + key.len();
        line[at..].split_whitespace().next()?.parse().ok()
    };
    stderr
        .lines()
        .filter(|l| l.contains("review evidence scrolled"))
        .filter_map(|l| Some((num(l, " y=")?, num(l, " max=")?)))
        .collect()
}

/// The review's evidence scrolls, and only it: when it is longer than its area, after the
/// wheel the evidence band shows other lines while the tabs above and the decision buttons below
/// stay put, a redraw keeps the place, and scrolling back up after running far past the end
/// moves at once. When it fits, nothing moves. `max` is how far the app said it could scroll.
fn review_scrolls(out: &Path, locale: &str, size: (u32, u32), max: f32) {
    let shot = |name: &str| {
        image::open(out.join(format!("{name}-{locale}.png")))
            .expect("review shot")
            .to_rgb8()
    };
    let (top, end, redrawn, up) = (
        shot("9-review"),
        shot("9b-review-end"),
        shot("9c-review-redrawn"),
        shot("9d-review-up"),
    );
    let band = (0.2, 0.7);
    let what = format!("at {size:?} ({locale}, {max} px to scroll)");
    let scrolled = changed(&top, &end, band.0, band.1);
    let title = changed(&top, &end, 0.0, 0.08);
    assert!(
        title < 0.005,
        "the tabs moved with the evidence {what}: {title:.3}"
    );
    let buttons = changed(&top, &end, 0.9, 1.0);
    assert!(
        buttons < 0.005,
        "the decision buttons moved {what}: {buttons:.3}"
    );
    let kept = changed(&end, &redrawn, band.0, band.1);
    assert!(kept < 0.005, "a redraw lost the place {what}: {kept:.3}");
    if max < 20.0 {
        assert!(
            scrolled < 0.005,
            "nothing to scroll, yet it moved {what}: {scrolled:.3}"
        );
        return;
    }
    assert!(
        scrolled > 0.01,
        "the evidence did not scroll {what}: {scrolled:.3}"
    );
    let back = changed(&redrawn, &up, band.0, band.1);
    assert!(
        back > 0.01,
        "scrolling up from the end did not move {what}: {back:.3}"
    );
}

/// Speaks the tour's answers (the first of each language is said during the device check).
fn tour_clips(dir: &Path) -> PathBuf {
    let clips = dir.join("clips");
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
    clips
}

/// A roster as the cloud sends it (this week, so it is current), for the manager's roster screen.
fn seed_roster(dir: &Path) {
    use chrono::Datelike;
    let today = chrono::Local::now().date_naive();
    let monday = today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let at = |d: i64, h: u32| {
        (monday + chrono::Duration::days(d))
            .and_hms_opt(h, 0, 0)
            .expect("time")
    };
    let shift = |id: &str, d: i64, h: u32, buddy: bool| {
        serde_json::json!({"demand": id, "start": at(d, h), "end": at(d, h) + chrono::Duration::hours(12),
            "skill": "nurse", "location": "Ward 3", "night": h >= 20,
            "buddy": if buddy { serde_json::json!({"first_name": "Li", "skill": "nurse"}) } else { serde_json::Value::Null }})
    };
    let body = serde_json::json!({
        "kind": "roster", "version": 1, "state": "current", "employee": {"name": "王芳"},
        "week_start": monday, "week_end": monday + chrono::Duration::days(6),
        "shifts": [shift("night-1", 1, 20, true), shift("night-4", 4, 20, false)],
        "unfilled": [{"demand": "day-2", "start": at(2, 8), "end": at(2, 20), "skill": "nurse",
            "location": "Ward 3", "open": 1, "rule": "min_rest",
            "reason": "only 0 h off next to shift night-1; the rule is 11 h"}],
    });
    let msg = serde_json::json!({"version": 1, "key": "cand-1", "body": body});
    system_tests::open_store(dir)
        .expect("store")
        .inbox_apply("roster", "cand-1", 1, &msg.to_string())
        .expect("roster in the inbox");
}

/// Runs the tour in a window of `size` on a virtual screen of that size (at 1280×800 with the
/// frame table); checks every screenshot and what was stored. Returns what the
/// app printed and how far each review (Chinese, English) could scroll.
fn tour(dir: &Path, clips: &Path, out: &Path, size: (u32, u32)) -> (String, Vec<f32>) {
    let st = station_with_models(dir);
    seed_roster(dir);
    let infile = dir.join("mic.raw");
    let conf = alsa_file_conf(dir, &infile);
    let mut cmd = Command::new("xvfb-run");
    cmd.args(["-a", "-s", &format!("-screen 0 {}x{}x24", size.0, size.1)])
        .arg(binary("kiosk"))
        .args([
            "run",
            "--windowed",
            "--window-size",
            &format!("{}x{}", size.0, size.1),
        ]);
    if size == (1280, 800) {
        cmd.arg("--bench-fps");
    }
    let run = cmd
        .arg("--station")
        .arg(&st)
        .arg("--tour")
        .arg(out)
        .arg("--clips")
        .arg(clips)
        .arg("--alsa-infile")
        .arg(&infile)
        .arg("--camera-file")
        .arg(repo_models().join("fixtures/astronaut.png"))
        .env("ALSA_CONFIG_PATH", &conf)
        .env("RUST_LOG", "warn,kiosk_ui=info")
        .output()
        .expect("xvfb-run (apt-get install xvfb xauth)");
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "kiosk run --tour at {size:?} failed:\n{stdout}\n{stderr}"
    );
    let scrolls = scroll_log(&stderr);
    assert_eq!(
        scrolls.len(),
        4,
        "two turns of the wheel per review: {scrolls:?}"
    );
    for locale in ["zh-CN", "en"] {
        for s in SCREENS {
            let path = out.join(format!("{s}-{locale}.png"));
            let img = image::open(&path)
                .unwrap_or_else(|e| panic!("{}: {e}\n{stderr}", path.display()))
                .to_rgb8();
            assert_eq!(img.dimensions(), size, "{}", path.display());
            let (colours, spread) = variety(&img);
            assert!(
                colours >= 8 && spread >= 8.0,
                "{} looks blank: {colours} colours, spread {spread:.1}",
                path.display()
            );
        }
        // The decision buttons are on screen: the review's bottom rows are not background.
        let review = image::open(out.join(format!("9-review-{locale}.png")))
            .expect("review shot")
            .to_rgb8();
        let bottom =
            image::imageops::crop_imm(&review, 0, size.1 * 3 / 4, size.0, size.1 / 4).to_image();
        assert!(
            variety(&bottom).0 >= 4,
            "the review's decision buttons are missing at {size:?} ({locale})"
        );
        // Two turns of the wheel per review, Chinese first: (down, past the end; up 120 px).
        let i = usize::from(locale == "en") * 2;
        let (end_y, max) = scrolls[i];
        assert_eq!(end_y, max, "down past the end stops at the end ({locale})");
        let up = scrolls[i + 1].0;
        assert!(
            (up - (max - 120.0).max(0.0)).abs() < 1.0,
            "then 120 px up, not from beyond the end ({locale}): {up} of {max}"
        );
        review_scrolls(out, locale, size, max);
    }
    // Both interviews were stored, and the manager's decision on each went to the outbox.
    let store = system_tests::open_store(dir).expect("store");
    let rows = store.list_results(10).expect("results");
    assert_eq!(rows.len(), 2, "{rows:?}");
    for r in &rows {
        let d = store.interview_detail(&r.interview_id).expect("detail");
        assert_eq!(d.decisions.len(), 1, "the tour decides each interview");
        assert_eq!(d.answers.len(), 3);
        assert!(d.result.video.is_some(), "camera report with face consent");
        assert_eq!(r.status, "advanced", "the list shows the decision: {r:?}");
    }
    let locales: Vec<String> = rows
        .iter()
        .map(|r| store.interview_detail(&r.interview_id).expect("d").locale)
        .collect();
    assert!(
        locales.contains(&"zh-CN".to_string()) && locales.contains(&"en".to_string()),
        "{locales:?}"
    );
    (
        stdout,
        scrolls.iter().step_by(2).map(|(_, max)| *max).collect(),
    )
}

#[test]
fn every_screen_renders_in_both_languages_at_two_sizes() {
    let dir = tempfile::tempdir().expect("tmp");
    let clips = tour_clips(dir.path());
    let out = screens_dir();
    let _ = std::fs::remove_dir_all(&out);
    let small = dir.path().join("1280x800");
    std::fs::create_dir_all(&small).expect("mkdir");
    let (stdout, mut overflow) = tour(&small, &clips, &out, (1280, 800));
    println!("{stdout}");
    assert!(
        stdout.contains("question screen"),
        "frame table printed: {stdout}"
    );
    assert!(
        stdout.contains("| empty Bevy window") && !stdout.contains("could not be measured"),
        "the empty-window peer measured beside it: {stdout}"
    );
    let large = dir.path().join("1920x1080");
    std::fs::create_dir_all(&large).expect("mkdir");
    overflow.extend(tour(&large, &clips, &out.join("1920x1080"), (1920, 1080)).1);
    // Scrolling was really tried: at least one review was longer than its screen.
    assert!(
        overflow.iter().any(|&m| m >= 20.0),
        "no review in the tour overflowed, so scrolling went untested: {overflow:?}"
    );
}

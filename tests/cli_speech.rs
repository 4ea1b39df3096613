//! `kiosk transcribe` and `kiosk interview` on recorded answers: real models, real WAV files,
//! the result stored with its outbox event; a missing model is a clear error.

use serde_json::Value;
use system_tests::{kiosk, repo_models, speak, station, station_with_models};

/// `kiosk interview --json` for the factory-worker role in English, with `extra` arguments.
fn interview_json(station: &str, extra: &[&str], answers: [&str; 3]) -> Value {
    let mut args = vec![
        "interview",
        "--station",
        station,
        "--role",
        "factory-worker",
        "--locale",
        "en",
        "--json",
    ];
    args.extend_from_slice(extra);
    for a in answers {
        args.extend(["--answer", a]);
    }
    let out = kiosk(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn transcribe_and_interview_from_recorded_answers() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station_with_models(dir.path());
    let s = st.to_str().expect("utf8");
    let a1 = speak(
        dir.path(),
        "a1",
        "en-us",
        "I want a stable job close to my home.",
    );
    let a2 = speak(
        dir.path(),
        "a2",
        "en-us",
        "Yes, two shifts are fine for me.",
    );
    let a3 = speak(
        dir.path(),
        "a3",
        "en-us",
        "I worked for two years in a factory.",
    );
    let (p1, p2, p3) = (
        a1.to_str().expect("p"),
        a2.to_str().expect("p"),
        a3.to_str().expect("p"),
    );

    let out = kiosk(&[
        "transcribe",
        "--station",
        s,
        "--locale",
        "en",
        "--json",
        p2,
        p3,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(2));
    assert_eq!(rows[0]["file"], p2);
    assert!(
        rows[0]["transcript"]
            .as_str()
            .expect("t")
            .to_lowercase()
            .contains("two shifts are fine"),
        "{rows}"
    );
    assert!(rows[0]["asr_ms"].as_u64().expect("ms") > 0);
    assert!(rows[0]["audio_ms"].as_u64().expect("ms") > 2000);

    let v = interview_json(s, &[], [p1, p2, p3]);
    let will = v["dimensions"]
        .as_array()
        .expect("dims")
        .iter()
        .find(|d| d["id"] == "willingness")
        .expect("w");
    assert!(will["score"].as_i64() >= Some(80), "{v}");
    assert_eq!(v["answers"][1]["source"], "spoken");
    let m = &v["metrics"][1];
    assert!(
        m["latency_ms"]
            .as_u64()
            .is_some_and(|l| (300..=1200).contains(&l)),
        "speech starts 0.6 s in: {m}"
    );
    assert!(m["speech_ms"].as_u64().is_some_and(|s| s > 800), "{m}");
    assert!(m["asr_confidence"].as_f64().is_some_and(|c| c > 0.5), "{m}");
    assert!(v["video"].is_null(), "no camera, no video report");
    // With the camera (frames from a file): the presence report, and a face consent recorded.
    let face = repo_models().join("fixtures/astronaut.png");
    let with_camera = interview_json(s, &["--camera", face.to_str().expect("p")], [p1, p2, p3]);
    let video = &with_camera["video"];
    assert_eq!(video["frames"], 1);
    assert_eq!(video["face_present_ratio"], 1.0, "{video}");
    assert_eq!(video["multiple_faces_ratio"], 0.0, "{video}");
    assert!(video["frontal_ratio"].is_number());
    assert_eq!(
        with_camera["dimensions"], v["dimensions"],
        "the camera never changes a score"
    );
    let listed = kiosk(&["results", "--station", s, "--json"]);
    let rows: Value = serde_json::from_slice(&listed.stdout).expect("json");
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["source"] == "spoken"));
    assert!(rows.iter().any(|r| r["interview_id"] == v["interview_id"]));
}

#[test]
fn a_missing_model_names_the_file_and_the_fix() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station(dir.path());
    let wav = speak(dir.path(), "a", "en-us", "Yes.");
    let out = kiosk(&[
        "transcribe",
        "--station",
        st.to_str().expect("utf8"),
        "--locale",
        "en",
        wav.to_str().expect("p"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is missing") && err.contains("models/fetch.sh"),
        "{err}"
    );
}

/// An ALSA configuration whose default capture device plays `raw` (16 kHz mono s16) instantly.
fn alsa_file_mic(dir: &std::path::Path, wav: &std::path::Path) -> std::path::PathBuf {
    let raw = dir.join("mic.raw");
    let ok = std::process::Command::new("sox")
        .arg(wav)
        .args([
            "-t", "raw", "-e", "signed", "-b", "16", "-r", "16000", "-c", "1",
        ])
        .arg(&raw)
        .status();
    assert!(ok.expect("sox").success());
    system_tests::alsa_file_conf(dir, &raw)
}

/// Runs `kiosk` with the ALSA configuration `conf` as its microphone.
fn kiosk_with_mic(args: &[&str], conf: &std::path::Path) -> std::process::Output {
    std::process::Command::new(system_tests::binary("kiosk"))
        .args(args)
        .env("ALSA_CONFIG_PATH", conf)
        .output()
        .expect("runs")
}

#[test]
fn the_microphone_path_hears_what_the_file_path_hears() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station_with_models(dir.path());
    let s = st.to_str().expect("utf8");
    let wav = speak(
        dir.path(),
        "answer",
        "en-us",
        "Yes, two shifts are fine for me.",
    );
    let conf = alsa_file_mic(dir.path(), &wav);
    let out = kiosk_with_mic(
        &[
            "transcribe",
            "--station",
            s,
            "--locale",
            "en",
            "--json",
            "--mic",
            "--max-seconds",
            "15",
            wav.to_str().expect("p"),
        ],
        &conf,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rows[0]["file"], "microphone");
    assert_eq!(
        rows[0]["transcript"], rows[1]["transcript"],
        "cpal through ALSA and the WAV file must agree: {rows}"
    );
    assert!(
        rows[0]["transcript"]
            .as_str()
            .expect("t")
            .to_lowercase()
            .contains("two shifts are fine"),
        "{rows}"
    );

    let out = kiosk_with_mic(
        &[
            "transcribe",
            "--station",
            s,
            "--locale",
            "en",
            "--mic",
            "--device",
            "no-such-microphone",
        ],
        &conf,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("no microphone found named `no-such-microphone`")
            && err.contains("arecord -l"),
        "{err}"
    );
}

#[test]
fn check_reports_models_microphone_and_camera() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station_with_models(dir.path());
    let wav = speak(dir.path(), "answer", "en-us", "Hello.");
    let conf = alsa_file_mic(dir.path(), &wav);
    let out = kiosk_with_mic(&["check", "--station", st.to_str().expect("utf8")], &conf);
    let table = String::from_utf8_lossy(&out.stdout);
    for line in [
        "model silero-vad",
        "model whisper-base",
        "model mtcnn-onet",
        "voice activity",
        "speech recognition en",
        "face presence",
        "microphone",
    ] {
        assert!(
            table
                .lines()
                .any(|l| l.starts_with("OK") && l.contains(line)),
            "{line} not OK:\n{table}"
        );
    }
    if !std::path::Path::new("/dev/video0").exists() {
        assert!(
            table.lines().any(|l| l.starts_with("FAIL")
                && l.contains("camera")
                && l.contains("/dev/video0")),
            "{table}"
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "a failed check fails the command"
        );
    }
    // A corrupted model is named, with the fix.
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).expect("mkdir");
    std::fs::write(models.join("silero_vad.onnx"), b"garbage").expect("write");
    use_models_again(&st, &models);
    let out = std::process::Command::new(system_tests::binary("kiosk"))
        .args(["check", "--station", st.to_str().expect("utf8")])
        .output()
        .expect("runs");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.lines().any(|l| l.starts_with("FAIL")
            && l.contains("silero-vad")
            && l.contains("corrupt")
            && l.contains("models/fetch.sh")),
        "{table}"
    );
}

fn use_models_again(station: &std::path::Path, models: &std::path::Path) {
    let text = std::fs::read_to_string(station).expect("station");
    let start = text.find("models_dir = ").expect("models_dir");
    let end = start + text[start..].find('\n').expect("eol");
    let text = format!(
        "{}models_dir = \"{}\"{}",
        &text[..start],
        models.display(),
        &text[end..]
    );
    std::fs::write(station, text).expect("write");
}

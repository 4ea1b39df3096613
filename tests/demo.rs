//! The README's demo, end to end: `kiosk run --demo --speak-clips` on Xvfb with a private
//! PulseAudio whose null sink is both the speaker that says the prepared answers and (through its
//! monitor) the microphone that hears them. Capture is paced like a real microphone's, the
//! answers go speaker → PulseAudio → ALSA → cpal → VAD → Whisper, and the manager's replay of an
//! answer opens a real output stream.

use std::process::Command;
use std::time::Duration;

use system_tests::notify::{NotifySocket, watchdog};
use system_tests::{PulseLoopback, binary, repo_models, speak, station_with_models};

#[test]
fn the_demo_interview_is_spoken_heard_stored_and_replayed() {
    let dir = tempfile::tempdir().expect("tmp");
    let st = station_with_models(dir.path());
    let clips = dir.path().join("clips/en");
    std::fs::create_dir_all(&clips).expect("mkdir");
    let said = [
        "Hello, can you hear me?",
        "I want a stable job close to home, and I like learning new skills.",
        "Yes, two shifts are no problem for me.",
        "I worked on a production line for two years, packing and checking parts.",
    ];
    for (i, t) in said.iter().enumerate() {
        speak(&clips, &format!("{i}"), "en-us", t);
    }
    // The questions are read out before the kiosk listens (the ids of factory-worker.toml).
    let prompts = dir.path().join("prompts/factory-worker");
    std::fs::create_dir_all(&prompts).expect("mkdir");
    for (id, text) in [
        ("motivation", "Why do you want to work with us?"),
        ("two-shifts", "Can you work two shifts?"),
        ("experience", "Tell us about your work experience."),
    ] {
        speak(&prompts, &format!("{id}.en"), "en-gb", text);
    }
    let pulse = PulseLoopback::start(dir.path());
    // systemd's side, as kiosk.service runs it: readiness and a 4 s watchdog on our socket (the
    // unit has 30 s; 4 s leaves room for a loaded CI machine, and still catches a blocked loop).
    let notify = NotifySocket::bind(&dir.path().join("notify.sock"), false);
    let run = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24"])
        .arg(binary("kiosk"))
        .args(["run", "--windowed", "--demo", "--exit", "--speak-clips"])
        .arg("--station")
        .arg(&st)
        .arg("--clips")
        .arg(dir.path().join("clips"))
        .arg("--camera-file")
        .arg(repo_models().join("fixtures/astronaut.png"))
        .arg("--prompt-audio")
        .arg(dir.path().join("prompts"))
        .envs(pulse.env())
        // The station's default level (info), as on a box: what the journal would hold.
        .env_remove("RUST_LOG")
        .env("NOTIFY_SOCKET", notify.path())
        .env("WATCHDOG_USEC", "4000000")
        .output()
        .expect("xvfb-run (apt-get install xvfb xauth)");
    drop(pulse);
    let notes = notify.finish();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "kiosk run --demo failed:\n{stderr}");
    assert!(
        stderr.contains("microphone opened"),
        "real capture through cpal: {stderr}"
    );
    assert!(
        stderr.contains("answer playback started") && !stderr.contains("cannot play"),
        "the manager's replay played: {stderr}"
    );
    // No personal data in the log at the default level: not the candidate's name or phone, not
    // what they said.
    for private in [
        "Alex Chen",
        "Alex",
        "13800138000",
        "stable job",
        "production line",
    ] {
        assert!(
            !stderr.contains(private),
            "`{private}` is in the log at the default level:\n{stderr}"
        );
    }
    // Ready once on screen, then the watchdog fed all through the interview (WATCHDOG_USEC = 4 s:
    // never a gap of 4 s, so systemd would never have killed it).
    let dog = watchdog(&notes);
    assert!(dog.ready, "READY=1: {notes:?}");
    assert!(dog.pings >= 10, "{} WATCHDOG=1 in the whole run", dog.pings);
    eprintln!(
        "{} watchdog pings; longest gap {:?}, {:?} after READY=1",
        dog.pings, dog.longest_gap, dog.gap_after_ready
    );
    assert!(
        dog.longest_gap < Duration::from_secs(4),
        "longest gap between watchdog pings: {:?}, {:?} after READY=1:\n{stderr}",
        dog.longest_gap,
        dog.gap_after_ready
    );
    assert!(
        stderr.matches("question prompt playing").count() >= 3
            && !stderr.contains("question prompt not spoken"),
        "each question read out: {stderr}"
    );

    let store = system_tests::open_store(dir.path()).expect("store");
    let rows = store.list_results(10).expect("results");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let d = store
        .interview_detail(&rows[0].interview_id)
        .expect("detail");
    assert_eq!(d.decisions.len(), 1, "the demo's manager decides");
    assert_eq!(d.answers.len(), 3);
    // What the speaker said is what the microphone heard.
    for (answer, (text, key)) in
        d.answers.iter().zip(
            said[1..]
                .iter()
                .zip(["stable job", "two shifts", "production line"]),
        )
    {
        let heard = answer.transcript.to_lowercase();
        assert!(heard.contains(key), "{text:?} heard as {heard:?}");
        // Recording started after the prompt: the question is not part of the answer.
        for asked in ["work with us", "shifts?", "experience"] {
            assert!(!heard.contains(asked), "the prompt was recorded: {heard:?}");
        }
    }
    assert!(
        d.media.len() >= 3,
        "each answer kept as audio: {:?}",
        d.media
    );
}

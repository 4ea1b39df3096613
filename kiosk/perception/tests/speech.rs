//! Real models on real (synthesised) speech: Silero VAD end-points answers, Whisper transcribes
//! them, and the screening scores them. Speech comes from espeak-ng + sox, as a candidate's voice
//! through a microphone would; models come from `models/fetch.sh` (the README's test command
//! installs them into var/models).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use kiosk_perception::audio::read_wav;
use kiosk_perception::listen::hear;
use kiosk_perception::{Asr, AsrOptions, EndpointConfig, Vad};
use kiosk_screening::{
    Answer, Lexicon, Recommendation, Response, parse_lexicon, parse_role, score,
};

/// Whisper and ONNX Runtime are heavy: one test at a time on a 2-core box.
static HEAVY: Mutex<()> = Mutex::new(());

fn models() -> PathBuf {
    std::env::var_os("KIOSK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../var/models"))
}

/// Speaks `text` with an espeak-ng voice into a 16 kHz mono WAV with silence around it.
fn speak(dir: &Path, name: &str, voice: &str, text: &str, lead_s: f32, tail_s: f32) -> PathBuf {
    speak_at(dir, name, voice, text, 150, lead_s, tail_s)
}

/// `speak` at `wpm` words a minute. Without sox's random dither (`-D`), so the audio is the same
/// on every run: Whisper's repetition loops depend on the exact samples.
fn speak_at(
    dir: &Path,
    name: &str,
    voice: &str,
    text: &str,
    wpm: u32,
    lead_s: f32,
    tail_s: f32,
) -> PathBuf {
    let raw = dir.join(format!("{name}.raw.wav"));
    let out = dir.join(format!("{name}.wav"));
    let ok = Command::new("espeak-ng")
        .args(["-v", voice, "-s", &wpm.to_string(), "-w"])
        .arg(&raw)
        .arg(text)
        .status()
        .expect("espeak-ng (apt-get install espeak-ng)");
    assert!(ok.success());
    let ok = Command::new("sox")
        .arg("-D")
        .arg(&raw)
        .args(["-r", "16000", "-c", "1", "-b", "16"])
        .arg(&out)
        .args(["pad", &lead_s.to_string(), &tail_s.to_string()])
        .status()
        .expect("sox (apt-get install sox)");
    assert!(ok.success());
    out
}

/// Seconds of silence or white noise.
fn synth(dir: &Path, name: &str, kind: &str, seconds: f32) -> PathBuf {
    let out = dir.join(format!("{name}.wav"));
    let mut cmd = Command::new("sox");
    cmd.args(["-n", "-r", "16000", "-c", "1", "-b", "16"])
        .arg(&out)
        .args(["synth", &seconds.to_string(), kind]);
    if kind == "whitenoise" {
        cmd.args(["vol", "0.3"]);
    }
    assert!(cmd.status().expect("sox").success());
    out
}

fn words(s: &str) -> Vec<String> {
    kiosk_screening::text::phrase_words(s)
}

/// Word error rate of `hyp` against `reference` (Levenshtein over normalised words).
fn wer(reference: &str, hyp: &str) -> f32 {
    let (r, h) = (words(reference), words(hyp));
    let mut d: Vec<Vec<usize>> = (0..=r.len()).map(|i| vec![i; h.len() + 1]).collect();
    d[0] = (0..=h.len()).collect();
    for i in 1..=r.len() {
        for j in 1..=h.len() {
            let sub = d[i - 1][j - 1] + usize::from(r[i - 1] != h[j - 1]);
            d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    d[r.len()][h.len()] as f32 / r.len().max(1) as f32
}

/// The shipped factory-worker role and lexicon.
fn factory_worker() -> (kiosk_screening::RoleConfig, Lexicon) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../provisioning/examples/roles");
    let read = |f: &str| std::fs::read_to_string(root.join(f)).expect("shipped config");
    let role = parse_role(&read("factory-worker.toml"), "factory-worker.toml").expect("role");
    let lex = parse_lexicon(&read("lexicon.toml"), "lexicon.toml").expect("lexicon");
    (role, Lexicon::new(&lex))
}

fn transcript(r: &Response) -> String {
    r.transcript()
}

#[test]
fn vad_finds_speech_and_ignores_silence_and_noise() {
    let _g = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tmp");
    let mut vad = Vad::load(&models()).expect("silero VAD loads");
    let speech = read_wav(&speak(
        dir.path(),
        "s",
        "en-us",
        "Yes, I can work two shifts.",
        0.8,
        2.0,
    ))
    .expect("wav");
    let mut ep = kiosk_perception::Endpointer::new(EndpointConfig::default());
    let mut ended = None;
    for (i, p) in vad
        .probabilities(&speech)
        .expect("vad")
        .into_iter()
        .enumerate()
    {
        if ep.push(p) && ended.is_none() {
            ended = Some(i);
        }
    }
    let span = ep.finish();
    let start = span.start_ms.expect("speech found");
    assert!(
        (500..=1100).contains(&start),
        "speech starts at 0.8 s, VAD says {start} ms"
    );
    assert!(span.ended, "the trailing silence ends the answer");
    assert!(span.speech_ms > 800, "{span:?}");
    for (kind, secs) in [("sine 0", 3.0), ("whitenoise", 3.0)] {
        let name = kind.replace(' ', "");
        let samples = read_wav(&synth(
            dir.path(),
            &name,
            kind.split(' ').next().expect("kind"),
            secs,
        ))
        .expect("wav");
        let mut ep = kiosk_perception::Endpointer::new(EndpointConfig::default());
        for p in vad.probabilities(&samples).expect("vad") {
            ep.push(p);
        }
        assert_eq!(ep.finish().start_ms, None, "{kind} is not speech");
    }
}

#[test]
fn english_answers_are_transcribed_and_scored() {
    let _g = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tmp");
    let mut vad = Vad::load(&models()).expect("vad");
    let mut asr = Asr::load(&models(), "whisper-tiny.en", false).expect("whisper tiny.en loads");
    let (role, lex) = factory_worker();
    // Trimming Whisper's audio window to the answer keeps tiny.en accurate (the bench measures it).
    let opts = AsrOptions {
        trim_audio_ctx: true,
        temperature_fallback: false,
        ..AsrOptions::default()
    };
    let ep = EndpointConfig::default();
    let motivation = "I want a stable job close to my home, and I want to learn new skills.";
    let experience = "I worked for two years on a production line in a factory.";
    let mut run = |shift_answer: Option<&str>| {
        let mut answers = Vec::new();
        for (q, text) in
            role.questions
                .iter()
                .zip([Some(motivation), shift_answer, Some(experience)])
        {
            let wav = match text {
                Some(t) => speak(dir.path(), &q.id, "en-us", t, 0.6, 1.8),
                None => synth(dir.path(), &q.id, "whitenoise", 4.0),
            };
            let samples = read_wav(&wav).expect("wav");
            let heard = hear(&mut vad, &mut asr, &samples, 0, &ep, &opts).expect("heard");
            if let Some(t) = text {
                let got = transcript(&heard.response);
                assert!(wer(t, &got) <= 0.25, "{t:?} heard as {got:?}");
                // Segment times lie within the recording (not Whisper's 30 s window).
                let ms = (samples.len() * 1000 / 16_000) as u32;
                let Response::Spoken { segments, .. } = &heard.response else {
                    panic!("not spoken: {:?}", heard.response);
                };
                for seg in segments {
                    assert!(
                        seg.start_ms <= seg.end_ms && seg.end_ms <= ms,
                        "{seg:?} in {ms} ms"
                    );
                }
            }
            answers.push(Answer {
                question_id: q.id.clone(),
                response: heard.response,
            });
        }
        score(&role, &lex, &answers).expect("scores")
    };
    let will = |r: &kiosk_screening::ScreeningResult| {
        r.dimensions
            .iter()
            .find(|d| d.id == "willingness")
            .and_then(|d| d.score)
    };
    let willing = run(Some("Yes, two shifts are fine for me."));
    assert!(will(&willing) >= Some(80), "{willing:#?}");
    let unwilling = run(Some("I cannot work night shifts."));
    assert!(will(&unwilling) <= Some(30), "{unwilling:#?}");
    let noise = run(None);
    assert_eq!(
        noise.recommendation,
        Recommendation::Review,
        "noise is never a low score: {noise:#?}"
    );
    assert!(
        noise
            .reasons
            .iter()
            .any(|r| r.question_id.as_deref() == Some("two-shifts"))
    );
    // Measured metrics reach the evidence.
    let spoken = &willing.answers[0];
    assert!(spoken.asr_confidence.is_some_and(|c| c > 0.5), "{spoken:?}");
}

#[test]
fn chinese_is_heard_by_the_multilingual_model() {
    let _g = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tmp");
    let mut vad = Vad::load(&models()).expect("vad");
    let mut asr = Asr::load(&models(), "whisper-base", false).expect("whisper base loads");
    let opts = AsrOptions {
        language: "zh".into(),
        prompt: Some("以下是普通话的句子。两班倒，夜班，没问题。".into()),
        ..AsrOptions::default()
    };
    let wav = speak(
        dir.path(),
        "zh",
        "cmn-latn-pinyin",
        "ke3 yi3, liang3 ban1 dao3 mei2 you3 wen4 ti2",
        0.6,
        1.8,
    );
    let heard = hear(
        &mut vad,
        &mut asr,
        &read_wav(&wav).expect("wav"),
        0,
        &EndpointConfig::default(),
        &opts,
    )
    .expect("heard");
    let raw = heard.response.transcript();
    assert_eq!(
        kiosk_screening::text::simplified(&raw),
        raw,
        "the transcript itself is in simplified characters"
    );
    let text = kiosk_screening::text::normalise(&raw);
    assert!(
        text.contains("可以") || text.contains("没问题"),
        "heard {text:?}"
    );
    // And the screening reads it as a willing answer to the two-shift question.
    let (role, lex) = factory_worker();
    let answers: Vec<Answer> = role
        .questions
        .iter()
        .map(|q| Answer {
            question_id: q.id.clone(),
            response: if q.id == "two-shifts" {
                heard.response.clone()
            } else {
                Response::Missing
            },
        })
        .collect();
    let result = score(&role, &lex, &answers).expect("scores");
    let will = result
        .dimensions
        .iter()
        .find(|d| d.id == "willingness")
        .and_then(|d| d.score);
    assert!(will >= Some(80), "willingness {will:?} from {text:?}");
}

#[test]
fn a_long_answer_is_cut_at_a_pause_and_heard_whole() {
    let _g = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tmp");
    let mut asr = Asr::load(&models(), "whisper-tiny.en", false).expect("whisper tiny.en loads");
    let opts = AsrOptions {
        trim_audio_ctx: true,
        temperature_fallback: false,
        ..AsrOptions::default()
    };
    let said = "I would like to work here because the company has a good reputation and the job \
                is close to my home. Before this I worked for three years in a factory, first on \
                the assembly line and later in quality inspection. I am used to night shifts and \
                I always follow the safety rules.";
    let samples = read_wav(&speak(dir.path(), "long", "en-us", said, 0.3, 0.3)).expect("wav");
    let seconds = samples.len() as f32 / 16_000.0;
    let cut = kiosk_perception::asr::split_point(&samples).expect("a pause to cut at");
    let cut_ms = (cut * 1000 / 16_000) as u32;
    assert!(seconds > 15.0, "{seconds} s");
    let segments = asr.transcribe(&samples, &opts).expect("transcribed");
    let text: String = segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(wer(said, &text) <= 0.1, "heard {text:?}");
    // Both halves are there, in order, timed within the answer.
    assert!(
        segments.iter().any(|s| s.start_ms >= cut_ms),
        "{segments:?}"
    );
    assert!(
        segments.windows(2).all(|w| w[0].start_ms <= w[1].start_ms),
        "{segments:?}"
    );
    let ms = (seconds * 1000.0) as u32;
    assert!(
        segments
            .iter()
            .all(|s| s.start_ms <= s.end_ms && s.end_ms <= ms),
        "{segments:?}"
    );
}

/// Joins WAVs with `gaps` seconds of silence between them (sox), into `name.wav`.
fn join(dir: &Path, name: &str, parts: &[PathBuf], gaps: &[f32]) -> PathBuf {
    let mut args: Vec<String> = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        args.push(p.display().to_string());
        if let Some(g) = gaps.get(i) {
            let gap = dir.join(format!("{name}-gap{i}.wav"));
            assert!(
                Command::new("sox")
                    .args(["-D", "-n", "-r", "16000", "-c", "1", "-b", "16"])
                    .arg(&gap)
                    .args(["trim", "0", &g.to_string()])
                    .status()
                    .expect("sox")
                    .success()
            );
            args.push(gap.display().to_string());
        }
    }
    let out = dir.join(format!("{name}.wav"));
    assert!(
        Command::new("sox")
            .arg("-D")
            .args(&args)
            .arg(&out)
            .status()
            .expect("sox")
            .success()
    );
    out
}

#[test]
fn an_answer_with_thinking_pauses_is_heard_to_its_end() {
    let _g = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tmp");
    let mut vad = Vad::load(&models()).expect("vad");
    let mut asr = Asr::load(&models(), "whisper-tiny.en", false).expect("whisper tiny.en loads");
    let opts = AsrOptions {
        trim_audio_ctx: true,
        temperature_fallback: false,
        ..AsrOptions::default()
    };
    let sentences = [
        "I want a stable job close to my home.",
        "Before this I worked in a warehouse for two years.",
        "I can start next Monday and I can work weekends.",
    ];
    let parts: Vec<PathBuf> = sentences
        .iter()
        .enumerate()
        .map(|(i, s)| speak(dir.path(), &format!("s{i}"), "en-us", s, 0.2, 0.2))
        .collect();
    // Pauses of 1.7 and 2.4 s: each is longer than the live default for yes/no questions, which
    // used to end the answer after its first sentence.
    let wav = join(dir.path(), "paused", &parts, &[1.7, 2.4]);
    let samples = read_wav(&wav).expect("wav");
    let heard = hear(
        &mut vad,
        &mut asr,
        &samples,
        0,
        &EndpointConfig::default(),
        &opts,
    )
    .expect("heard");
    let said = sentences.join(" ");
    let got = transcript(&heard.response);
    assert!(wer(&said, &got) <= 0.15, "{said:?} heard as {got:?}");
    for word in ["stable", "warehouse", "weekends"] {
        assert!(got.to_lowercase().contains(word), "{word:?} lost: {got:?}");
    }
    let ms = (samples.len() * 1000 / 16_000) as u32;
    assert_eq!(heard.audio_ms, ms, "the whole recording is considered");
    let Response::Spoken { segments, metrics } = &heard.response else {
        panic!("not spoken: {:?}", heard.response);
    };
    // Times refer to the recording: the last words come after both pauses.
    let last = segments.last().expect("segments");
    assert!(
        last.end_ms > ms - 4_000 && last.end_ms <= ms,
        "{segments:?} in {ms} ms"
    );
    assert!(
        metrics.pause_ratio.is_some_and(|r| r > 0.2),
        "the pauses are measured: {metrics:?}"
    );
}

#[test]
fn the_roles_prompt_neither_repeats_nor_garbles_short_answers() {
    let _g = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tmp");
    let mut vad = Vad::load(&models()).expect("vad");
    // As the app runs English: the station's model, trimmed window, no fallback, the role's prompt.
    let mut asr = Asr::load(&models(), "whisper-tiny.en-q8_0", false).expect("tiny.en Q8_0");
    let (role, _) = factory_worker();
    let opts = AsrOptions {
        trim_audio_ctx: true,
        temperature_fallback: false,
        prompt: Some(role.asr_prompt.get("en").to_string()),
        ..AsrOptions::default()
    };
    assert!(opts.prompt.as_deref().is_some_and(|p| !p.is_empty()));
    // Before the first-timestamp rule and the loop check, tiny.en wrote 130 wpm's "I have worked
    // in a shop before." twice, 170 wpm's "Yes, two shifts are no problem." twice and 170 wpm's
    // "Evenings suit me best." as "Even soon to be best." over and over, 220 tokens.
    let mut failures = Vec::new();
    for wpm in [130, 150, 170] {
        for (i, said) in [
            "Yes, two shifts are no problem.",
            "I want a stable job close to home, and the pay is good.",
            "I have worked in a shop before.",
            "Evenings suit me best.",
        ]
        .iter()
        .enumerate()
        {
            let wav = speak_at(
                dir.path(),
                &format!("{wpm}-{i}"),
                "en-us",
                said,
                wpm,
                0.3,
                0.3,
            );
            let samples = read_wav(&wav).expect("wav");
            let heard = hear(
                &mut vad,
                &mut asr,
                &samples,
                0,
                &EndpointConfig::default(),
                &opts,
            )
            .expect("heard");
            let got = transcript(&heard.response);
            // Said once, heard once: no more words than were said (plus one misheard split), and
            // mostly the right ones ("Evenings" is often two words to tiny.en).
            if words(&got).len() > words(said).len() + 1 || wer(said, &got) > 0.5 {
                failures.push(format!("{wpm} wpm {said:?} heard as {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

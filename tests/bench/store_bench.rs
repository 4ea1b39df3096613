//! `store-bench`: what encryption at rest costs a save. The same interviews (typed answers and
//! three 8 s answer recordings each) saved into the encrypted store (SQLCipher + sealed audio)
//! and into plain SQLite with plain WAV files (the kiosk before encryption), in the same run.
//! Prints a table. Not a test.
//!
//! Run: `cargo build --release --workspace --bins && target/release/store-bench [SAVES]`.

use std::time::Instant;

use kiosk_store::{MediaRef, Store, StoreKey};
use system_tests::sample::{percentile, sample};

const AUDIO_S: usize = 8;

/// Saves `n` interviews; returns each save's time in ms (audio files, then the transaction).
fn run(store: &mut Store, media: &std::path::Path, n: usize, sealed: bool) -> Vec<f64> {
    let (answers, result) = sample();
    let samples: Vec<f32> = (0..16_000 * AUDIO_S)
        .map(|i| (i as f32 * 0.05).sin() * 0.3)
        .collect();
    let id = kiosk_store::StationIdentity {
        tenant: "acme".into(),
        store_id: "s1".into(),
        device_id: "k1".into(),
    };
    let mut ms = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let folder = media.join(format!("i{i}"));
        std::fs::create_dir_all(&folder).expect("media dir");
        let refs: Vec<MediaRef> = answers
            .iter()
            .map(|a| {
                let path = if sealed {
                    let p = folder.join(format!("{}-1.wav.enc", a.question_id));
                    let wav = kiosk_perception::audio::wav_bytes(&samples);
                    store.key().seal_to_file(&p, &wav).expect("sealed");
                    p
                } else {
                    let p = folder.join(format!("{}-1.wav", a.question_id));
                    kiosk_perception::audio::write_wav(&p, &samples).expect("written");
                    p
                };
                MediaRef {
                    question_id: Some(a.question_id.clone()),
                    kind: "answer_audio".into(),
                    path: path.display().to_string(),
                    sha256: kiosk_perception::models::sha256_file(&path).ok(),
                    bytes: None,
                    expires_at: None,
                }
            })
            .collect();
        let now = chrono::Local::now().fixed_offset();
        store
            .save_interview(&kiosk_store::NewInterview {
                station: &id,
                candidate: kiosk_store::Candidate {
                    name: Some("张伟".into()),
                    phone: Some("13800000001".into()),
                },
                locale: "zh-CN".into(),
                started_at: now,
                completed_at: now,
                answers: &answers,
                result: &result,
                consents: vec![],
                media: refs,
            })
            .expect("saved");
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    ms
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let dir = tempfile::tempdir().expect("tmp");
    let enc_dir = dir.path().join("encrypted");
    let plain_dir = dir.path().join("plain");
    let mut enc = Store::open(&enc_dir.join("kiosk.sqlite3"), &StoreKey::generate()).expect("enc");
    let mut plain =
        Store::open_unencrypted_for_benchmark(&plain_dir.join("kiosk.sqlite3")).expect("plain");
    // Interleaved halves, so neither side gets the warmer disk cache.
    let half = n / 2;
    let mut e = run(&mut enc, &enc_dir.join("media"), half, true);
    let mut p = run(&mut plain, &plain_dir.join("media"), half, false);
    e.extend(run(&mut enc, &enc_dir.join("media2"), n - half, true));
    p.extend(run(&mut plain, &plain_dir.join("media2"), n - half, false));
    e.sort_by(f64::total_cmp);
    p.sort_by(f64::total_cmp);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "\nsave an interview with 3 × {AUDIO_S} s answer audio, {n} saves each (WAL, synchronous=FULL)\n"
    );
    println!("| store | mean ms | p50 ms | p95 ms | max ms |\n| --- | ---: | ---: | ---: | ---: |");
    for (name, v) in [
        ("encrypted (SQLCipher + sealed audio)", &e),
        ("plain SQLite + WAV (peer)", &p),
    ] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.2} |",
            mean(v),
            percentile(v, 0.5),
            percentile(v, 0.95),
            v[v.len() - 1]
        );
    }
    println!(
        "| ratio (encrypted / plain) | {:.2}× | {:.2}× | {:.2}× | |",
        mean(&e) / mean(&p),
        percentile(&e, 0.5) / percentile(&p, 0.5),
        percentile(&e, 0.95) / percentile(&p, 0.95)
    );
}

//! Retention on real SQLite files: personal data of interviews the cloud confirmed long enough ago
//! is removed (their proof stays), undelivered data is never purged but counted, expired and
//! orphaned audio goes, and a clock that is obviously wrong purges nothing.

mod common;

use chrono::{DateTime, Duration, FixedOffset};
use common::*;
use kiosk_store::{MediaRef, PurgeError, Store};

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("time")
}

fn audio(dir: &std::path::Path, name: &str, expires: Option<DateTime<FixedOffset>>) -> MediaRef {
    audio_file(
        &dir.join("media").join(name).join("q1.wav"),
        "q1",
        "RIFF",
        expires,
    )
}

#[test]
fn personal_data_goes_only_after_the_cloud_has_had_it_long_enough() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let mut store = Store::open(&dir.path().join("kiosk.sqlite3"), &key()).expect("opens");
    let now = kiosk_store::now();
    let old = save_with(
        &mut store,
        GOOD,
        "王五",
        "13600000000",
        vec![audio(dir.path(), "old", None)],
    );
    let unsent = save_with(&mut store, GOOD, "赵六", "13500000000", vec![]);
    let expired_audio = audio(dir.path(), "exp", Some(now - Duration::days(1)));
    let recent = save_with(&mut store, GOOD, "钱七", "13400000000", vec![expired_audio]);
    // The cloud confirmed `old` and `recent`; `unsent` never left the kiosk.
    store
        .outbox_mark_acked_many(&[old.seq, recent.seq])
        .expect("acked");
    store
        .outbox_mark_delivered(&[old.event_id.clone(), recent.event_id.clone()])
        .expect("delivered");

    // 40 days later (the store's own times are "now"), with a 30-day period.
    let later = now + Duration::days(40);
    let done = store.purge(&media, 30, later).expect("purged");
    assert_eq!(done.interviews_reduced, 2, "{done:?}");
    assert_eq!(done.undelivered_past_retention, 1, "{done:?}");
    assert_eq!(done.expired_audio, 1, "{done:?}");

    let row = store
        .result_row(&old.interview_id)
        .expect("the proof stays");
    assert_eq!(row.candidate, None, "the name is gone");
    assert!(row.total.is_some() && row.synced, "{row:?}");
    let detail = store.interview_detail(&old.interview_id).expect("detail");
    assert!(detail.answers.is_empty() && detail.media.is_empty());
    assert!(
        detail
            .result
            .answers
            .iter()
            .all(|a| a.transcript.is_empty())
    );
    assert!(
        detail
            .result
            .dimensions
            .iter()
            .all(|d| d.evidence.is_empty())
    );
    assert!(!dir.path().join("media/old").exists(), "its audio is gone");
    // Never delivered: kept whole.
    let kept = store.interview_detail(&unsent.interview_id).expect("kept");
    assert_eq!(kept.row.candidate.as_deref(), Some("赵六"));
    assert_eq!(kept.answers.len(), 3);
    assert!(store.check_consistency().expect("check").is_empty());
    let raw = std::fs::read(dir.path().join("kiosk.sqlite3")).expect("db");
    for gone in ["王五", "13600000000", "钱七"] {
        assert!(
            !raw.windows(gone.len()).any(|w| w == gone.as_bytes()),
            "{gone} is still in the file"
        );
    }
    // Running it again changes nothing.
    let again = store.purge(&media, 30, later).expect("again");
    assert_eq!((again.interviews_reduced, again.expired_audio), (0, 0));
}

#[test]
fn a_wrong_clock_purges_nothing_and_orphans_go_only_when_old() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let mut store = Store::open(&dir.path().join("kiosk.sqlite3"), &key()).expect("opens");
    let saved = save_with(
        &mut store,
        GOOD,
        "孙八",
        "13300000000",
        vec![audio(
            dir.path(),
            "a",
            Some(kiosk_store::now() + Duration::days(30)),
        )],
    );
    for wrong in ["1970-01-01T00:00:00Z", "2026-10-31T00:00:00Z"] {
        let err = store.purge(&media, 0, at(wrong)).expect_err(wrong);
        assert!(matches!(err, PurgeError::ClockWrong { .. }), "{err}");
    }
    // Behind what the store already recorded (a clock set back): nothing either.
    let err = store
        .purge(&media, 0, kiosk_store::now() - Duration::days(3))
        .expect_err("back");
    assert!(err.to_string().contains("Set the time"), "{err}");
    assert!(
        store
            .result_row(&saved.interview_id)
            .expect("kept")
            .candidate
            .is_some()
    );

    // A file no row names: kept while young (it may be an interview being saved), removed once old.
    let orphan_dir = media.join("crashed");
    std::fs::create_dir_all(&orphan_dir).expect("dir");
    let orphan = orphan_dir.join("q1.wav");
    std::fs::write(&orphan, "RIFF").expect("orphan");
    let done = store.purge(&media, 30, kiosk_store::now()).expect("purge");
    assert_eq!(done.orphan_files, 0);
    assert!(orphan.exists());
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&orphan)
        .expect("open")
        .set_modified(two_hours_ago)
        .expect("mtime");
    let done = store.purge(&media, 30, kiosk_store::now()).expect("purge");
    assert_eq!(done.orphan_files, 1);
    assert!(!orphan_dir.exists());
    assert!(
        dir.path().join("media/a/q1.wav").exists(),
        "a file a row names stays"
    );
}

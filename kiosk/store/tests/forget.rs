//! Deletion on request on real SQLite files: after `forget`, the candidate's name, phone and
//! transcript are in no byte of the database or its WAL, their audio files are gone, a pending
//! event about them is never sent, and the tombstone and `deletion_completed` event carry no
//! personal data. Idempotent by request.

mod common;

use common::*;
use kiosk_store::{ForgetRequest, ForgetTarget, MediaRef, RequestedBy, Store, StoreError};

const NAME: &str = "欧阳娜娜";
const PHONE: &str = "139-1234-5678";
const PHRASE: &str = "在纺织厂做过三年挡车工";

fn audio(dir: &std::path::Path, n: usize) -> Vec<MediaRef> {
    let folder = dir.join("media/interview-x");
    (0..n)
        .map(|i| {
            audio_file(
                &folder.join(format!("q{i}.wav")),
                &format!("q{i}"),
                &format!("RIFF audio of {NAME} answer {i}"),
                None,
            )
        })
        .collect()
}

fn request(id: &str, targets: Vec<ForgetTarget>) -> ForgetRequest {
    ForgetRequest {
        request_id: id.into(),
        targets,
        cloud_candidate_id: Some("cloud-cand-1".into()),
        requested_by: RequestedBy::Cloud,
    }
}

#[test]
fn forgetting_leaves_no_byte_of_the_candidate_anywhere() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(&dir.path().join("kiosk.sqlite3"), &key()).expect("opens");
    let gone = save_with(
        &mut store,
        ["我想找稳定的工作", "可以，两班倒没问题", PHRASE],
        NAME,
        PHONE,
        audio(dir.path(), 3),
    );
    let kept = save(&mut store, GOOD);
    store
        .record_decision(
            &station(),
            &gone.interview_id,
            kiosk_store::Decision::Advance,
            &format!("{NAME} was friendly"),
            "manager",
        )
        .expect("decision");
    store
        .inbox_apply(
            "roster",
            "cloud-cand-1",
            1,
            &format!(
                r#"{{"version":1,"key":"cloud-cand-1","body":{{"employee":{{"name":"{NAME}"}}}}}}"#
            ),
        )
        .expect("roster");
    // The result was sent (acked) and the decision is still pending: both copies go.
    store.outbox_mark_acked(gone.seq).expect("acked");
    store.checkpoint().expect("checkpoint");
    // What a thief with the key would see: every table's content, and every file.
    let db = dir.path().join("kiosk.sqlite3");
    let seen = || [dump(&db).into_bytes(), all_bytes(dir.path())].concat();
    let before = seen();
    for needle in [NAME, PHONE, PHRASE] {
        assert!(contains(&before, needle), "the test data holds {needle}");
    }

    let done = store
        .forget(
            &station(),
            &request(
                "req-1",
                vec![
                    ForgetTarget::Interview("no-such-interview".into()),
                    ForgetTarget::Receipt(gone.receipt.to_lowercase()),
                ],
            ),
        )
        .expect("forgotten");
    assert!(done.newly && done.wal_truncated);
    assert_eq!(
        done.interviews,
        vec![gone.interview_id.clone(), "no-such-interview".into()]
    );
    let n = |k: &str| done.removed.get(k).copied().unwrap_or(0);
    assert_eq!(
        (
            n("candidate"),
            n("answers"),
            n("audio_files"),
            n("outbox_events"),
            n("decisions"),
            n("rosters")
        ),
        (1, 3, 3, 2, 1, 1),
        "{:?}",
        done.removed
    );

    let after = seen();
    for needle in [NAME, PHONE, PHRASE] {
        assert!(!contains(&after, needle), "{needle} is still on the disk");
    }
    assert!(
        !dir.path().join("media/interview-x").exists(),
        "the audio folder is gone"
    );
    // Nothing about the interview is left to send; the other candidate is untouched.
    let pending = store.outbox_pending(0, 100).expect("pending");
    assert!(
        pending.iter().all(
            |e| !e.payload.contains(&gone.interview_id) || e.event_type == "deletion_completed"
        )
    );
    let completed: Vec<_> = pending
        .iter()
        .filter(|e| e.event_type == "deletion_completed")
        .collect();
    assert_eq!(completed.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&completed[0].payload).expect("json");
    assert_eq!(body["request_id"], "req-1");
    assert_eq!(body["interview"]["value"], gone.interview_id.as_str());
    assert_eq!(body["removed"]["answers"], 3);
    assert!(store.result_row(&kept.interview_id).is_ok());
    assert!(store.result_row(&gone.interview_id).is_err());
    assert!(store.check_consistency().expect("check").is_empty());
    let t = store.tombstone("req-1").expect("read").expect("tombstone");
    assert_eq!(t.requested_by, "cloud");

    // The same request again: done already, no second confirmation.
    let again = store
        .forget(
            &station(),
            &request("req-1", vec![ForgetTarget::Receipt(gone.receipt.clone())]),
        )
        .expect("again");
    assert!(!again.newly && again.event_id.is_none());
    assert_eq!(again.removed, done.removed);
    // Another request for the same person completes with nothing left to remove.
    let other = store
        .forget(
            &station(),
            &request("req-2", vec![ForgetTarget::Receipt(gone.receipt.clone())]),
        )
        .expect("other");
    assert!(other.newly && other.event_id.is_some());
    assert!(
        other.removed.values().all(|n| *n == 0),
        "{:?}",
        other.removed
    );
}

#[test]
fn by_phone_forgets_every_candidate_with_that_number() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(&dir.path().join("kiosk.sqlite3"), &key()).expect("opens");
    let a = save_with(&mut store, GOOD, NAME, "13912345678", vec![]);
    let b = save_with(&mut store, GOOD, NAME, PHONE, vec![]);
    let c = save_with(&mut store, GOOD, "李四", "13700000000", vec![]);
    let done = store
        .forget(
            &station(),
            &ForgetRequest {
                request_id: "local-1".into(),
                targets: vec![ForgetTarget::Phone("+86 139 1234 5678".into())],
                cloud_candidate_id: None,
                requested_by: RequestedBy::StoreManager,
            },
        )
        .expect("forgotten");
    assert_eq!(done.removed["candidate"], 2);
    assert!(store.result_row(&a.interview_id).is_err());
    assert!(store.result_row(&b.interview_id).is_err());
    assert!(store.result_row(&c.interview_id).is_ok());
    // Naming nobody on the device is a mistake: nothing is recorded or sent.
    let before = store.outbox_pending(0, 100).expect("pending").len();
    let err = store
        .forget(
            &station(),
            &ForgetRequest {
                request_id: "local-2".into(),
                targets: vec![ForgetTarget::Receipt("ZZZZ-ZZZZ".into())],
                cloud_candidate_id: None,
                requested_by: RequestedBy::StoreManager,
            },
        )
        .expect_err("nobody");
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
    assert!(store.tombstone("local-2").expect("read").is_none());
    assert_eq!(store.outbox_pending(0, 100).expect("pending").len(), before);
}

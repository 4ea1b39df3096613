//! The store on real SQLite files: durability settings, one-transaction saves, payload shape,
//! outbox order and acks, idempotent inbox, clear errors for corrupt, newer and full databases.

use kiosk_store::{Candidate, InboxOutcome, NewInterview, SCHEMA_VERSION, Store, StoreError};

mod common;

use common::*;

#[test]
fn open_sets_and_keeps_wal_full_and_migrates_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("sub/kiosk.sqlite3");
    let store = Store::open(&path, &key()).expect("opens");
    assert_eq!(store.durability().expect("pragmas"), ("wal".to_string(), 2));
    drop(store);
    // Re-opening (a second process, or after a crash) re-runs nothing and keeps the settings.
    let store = Store::open(&path, &key()).expect("re-opens");
    assert_eq!(store.durability().expect("pragmas"), ("wal".to_string(), 2));
    let raw = raw(&path);
    let v: i64 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(v, SCHEMA_VERSION);
}

#[test]
fn saved_interview_is_listed_with_its_result_and_outbox_event() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(&dir.path().join("k.sqlite3"), &key()).expect("opens");
    let saved = save(&mut store, GOOD);
    assert_eq!(saved.receipt.len(), 9);
    let rows = store.list_results(10).expect("list");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.interview_id, saved.interview_id);
    assert_eq!(row.role, "factory-worker");
    assert_eq!(row.candidate.as_deref(), Some("张三"));
    assert_eq!(row.status, "awaiting_review");
    assert_eq!(row.source, "typed");
    assert!(!row.synced);
    let back = store.result(&saved.interview_id).expect("result");
    assert_eq!(back.total.map(i64::from), row.total);
    assert!(store.check_consistency().expect("check").is_empty());

    let pending = store.outbox_pending(0, 10).expect("pending");
    assert_eq!(pending.len(), 1);
    let ev = &pending[0];
    assert_eq!(ev.seq, saved.seq);
    assert_eq!(ev.event_id, saved.event_id);
    assert_eq!(ev.topic, "kiosk/v1/acme/s1/k1/events/interview_result");
    let p: serde_json::Value = serde_json::from_str(&ev.payload).expect("json");
    assert_eq!(p["event_id"], saved.event_id.as_str());
    assert_eq!(p["type"], "interview_result");
    assert_eq!(p["schema_version"], 1);
    assert_eq!(p["occurred_at"], "2026-11-25T09:31:15+08:00");
    assert_eq!(
        p["store"],
        serde_json::json!({"value": "s1", "scheme": "store_id"})
    );
    assert_eq!(p["interview"]["value"], saved.interview_id.as_str());
    assert_eq!(p["candidate"]["reference"]["value"], saved.receipt.as_str());
    assert_eq!(p["role"]["value"], "factory-worker");
    assert_eq!(p["status"], "awaiting_review");
    let w = p["scores"]
        .as_array()
        .expect("scores")
        .iter()
        .find(|s| s["dimension"] == "willingness")
        .expect("w");
    assert_eq!(w["score"]["minimum"], 0);
    assert_eq!(w["score"]["maximum"], 100);
    assert_eq!(
        w["score"]["value"], 95,
        "(4 × 100 for the two-shift yes + 75 for \"想\") / 5"
    );
    assert_eq!(p["answers"][1]["transcript"], "可以，两班倒没问题");
    assert_eq!(p["consents"][0]["kind"], "recording");

    assert!(store.outbox_mark_acked(ev.seq).expect("ack"));
    assert!(
        !store
            .outbox_mark_acked(ev.seq)
            .expect("ack twice is a no-op")
    );
    assert!(store.list_results(10).expect("list")[0].synced);
    assert_eq!(store.outbox_backlog().expect("backlog").pending, 0);
}

#[test]
fn outbox_keeps_commit_order_and_counts_attempts() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(&dir.path().join("k.sqlite3"), &key()).expect("opens");
    let seqs: Vec<i64> = (0..5).map(|_| save(&mut store, GOOD).seq).collect();
    let pending = store.outbox_pending(0, 100).expect("pending");
    assert_eq!(pending.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs);
    assert_eq!(
        store
            .outbox_record_failure(seqs[0], "not authorized")
            .expect("attempt"),
        1
    );
    store.outbox_mark_acked(seqs[1]).expect("ack");
    let pending = store.outbox_pending(0, 100).expect("pending");
    assert_eq!(pending.len(), 4);
    assert_eq!(pending[0].attempts, 1);
    assert_eq!(store.outbox_pending(seqs[2], 100).expect("after").len(), 2);
    let backlog = store.outbox_backlog().expect("backlog");
    assert_eq!(backlog.pending, 4);
    assert!(backlog.oldest_created_at.is_some());
    // A quarantined event stops blocking the queue but is kept with its reason.
    store
        .outbox_quarantine(seqs[0], "too large")
        .expect("quarantine");
    let pending = store.outbox_pending(0, 100).expect("pending");
    assert_eq!(pending.first().map(|e| e.seq), Some(seqs[2]));
    let backlog = store.outbox_backlog().expect("backlog");
    assert_eq!((backlog.pending, backlog.quarantined), (3, 1));
    assert_eq!(store.outbox_quarantined().expect("list")[0].2, "too large");
    assert_eq!(
        store.outbox_mark_acked_many(&seqs).expect("batch"),
        4,
        "every one not acked before"
    );
}

#[test]
fn inbox_applies_each_version_once_and_ignores_older() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(&dir.path().join("k.sqlite3"), &key()).expect("opens");
    let steps = [
        (3, InboxOutcome::Applied),
        (3, InboxOutcome::Stale),
        (2, InboxOutcome::Stale),
        (4, InboxOutcome::Applied),
    ];
    for (version, expected) in steps {
        let got = store
            .inbox_apply(
                "config",
                "station",
                version,
                &format!("{{\"v\":{version}}}"),
            )
            .expect("apply");
        assert_eq!(got, expected, "version {version}");
    }
    assert_eq!(
        store.inbox_get("config", "station").expect("get"),
        Some((4, "{\"v\":4}".to_string()))
    );
    assert_eq!(
        store
            .inbox_apply("roster", "emp-1", 1, "{}")
            .expect("apply"),
        InboxOutcome::Applied
    );
    assert_eq!(store.inbox_get("roster", "nobody").expect("get"), None);
}

#[test]
fn corrupt_and_newer_databases_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("tmp");
    let bad = dir.path().join("bad.sqlite3");
    std::fs::write(&bad, vec![0x42u8; 8192]).expect("write");
    let err = Store::open(&bad, &key()).expect_err("not a database");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("bad.sqlite3"), "{err}");

    let newer = dir.path().join("newer.sqlite3");
    drop(Store::open(&newer, &key()).expect("opens"));
    let raw = raw(&newer);
    raw.pragma_update(None, "user_version", 99).expect("bump");
    drop(raw);
    let err = Store::open(&newer, &key()).expect_err("newer schema");
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("update the kiosk software"));
}

#[test]
fn a_full_disk_saves_nothing_and_says_so() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(&dir.path().join("k.sqlite3"), &key()).expect("opens");
    save(&mut store, GOOD);
    let pages: i64 = raw(&dir.path().join("k.sqlite3"))
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .expect("pages");
    store.set_max_page_count(pages).expect("cap");
    let long = "我想找稳定的工作".repeat(2000);
    let (r, _) = role();
    let (ans, result) = answers(&r, [long.as_str(), "可以", "在工厂做过"]);
    let st = station();
    let err = store
        .save_interview(&NewInterview {
            station: &st,
            candidate: Candidate::default(),
            locale: "zh-CN".into(),
            started_at: chrono::Local::now().fixed_offset(),
            completed_at: chrono::Local::now().fixed_offset(),
            answers: &ans,
            result: &result,
            consents: vec![],
            media: vec![],
        })
        .expect_err("disk full");
    assert!(matches!(err, StoreError::DiskFull), "{err:?}");
    assert!(err.to_string().contains("nothing was saved"));
    assert_eq!(store.interview_count().expect("count"), 1);
    assert!(store.check_consistency().expect("check").is_empty());
}

#[test]
fn two_writers_on_one_file_never_see_busy() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("k.sqlite3");
    drop(Store::open(&path, &key()).expect("opens"));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&path, &key()).expect("opens");
                for _ in 0..25 {
                    save(&mut store, GOOD);
                    let seq = store
                        .outbox_pending(0, 1)
                        .expect("pending")
                        .first()
                        .map(|e| e.seq);
                    if let Some(seq) = seq {
                        store.outbox_mark_acked(seq).expect("ack");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer finished without error");
    }
    let store = Store::open(&path, &key()).expect("opens");
    assert_eq!(store.interview_count().expect("count"), 50);
    assert!(store.check_consistency().expect("check").is_empty());
}

#[test]
fn many_processes_opening_a_new_file_at_once_all_succeed() {
    for round in 0..5 {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("k.sqlite3");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    Store::open(&path, &key()).map(|s| s.durability().expect("pragmas"))
                })
            })
            .collect();
        for t in threads {
            let opened = t.join().expect("thread");
            assert_eq!(
                opened.expect("opens despite the others").0,
                "wal",
                "round {round}"
            );
        }
    }
}

#[test]
fn decisions_and_audit_commit_with_their_events_and_show_in_detail() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(&dir.path().join("k.sqlite3"), &key()).expect("open");
    let saved = save(&mut store, GOOD);
    let st = station();
    let detail = store.interview_detail(&saved.interview_id).expect("detail");
    assert_eq!(detail.answers.len(), 3);
    assert_eq!(detail.answers[1].transcript, "可以，两班倒没问题");
    assert!(detail.decisions.is_empty(), "the model never decides");
    assert_eq!(detail.locale, "zh-CN");

    store
        .record_decision(
            &st,
            &saved.interview_id,
            kiosk_store::Decision::Keep,
            "call back Monday",
            "manager",
        )
        .expect("keep");
    let event = store
        .record_decision(
            &st,
            &saved.interview_id,
            kiosk_store::Decision::Advance,
            "good fit",
            "manager",
        )
        .expect("advance");
    let detail = store.interview_detail(&saved.interview_id).expect("detail");
    let last = detail.decisions.last().expect("decided");
    assert_eq!(
        (last.decision, last.reason.as_str()),
        (kiosk_store::Decision::Advance, "good fit")
    );
    assert_eq!(detail.decisions.len(), 2, "every decision is kept as a log");
    // Lists show the latest decision, not "awaiting review".
    let row = store.result_row(&saved.interview_id).expect("row");
    assert_eq!(
        (row.status.as_str(), row.decision.as_deref()),
        ("advanced", Some("advance"))
    );
    assert_eq!(row.decided_at.as_deref(), Some(last.decided_at.as_str()));
    let pending = store.outbox_pending(0, 100).expect("pending");
    let decision = pending
        .iter()
        .find(|e| e.event_id == event)
        .expect("decision event queued");
    let body: serde_json::Value = serde_json::from_str(&decision.payload).expect("json");
    assert_eq!(body["type"], "decision");
    assert_eq!(body["conclusion_code"], 2);
    assert_eq!(body["interview"]["value"], saved.interview_id.as_str());
    assert_eq!(body["receipt"], saved.receipt.as_str());
    assert!(matches!(
        store.record_decision(&st, "no-such-id", kiosk_store::Decision::Reject, "x", "m"),
        Err(StoreError::NotFound(_))
    ));

    assert_eq!(store.pin_failures().expect("failures"), 0);
    for _ in 0..3 {
        store
            .record_audit(&st, "pin_failed", serde_json::Map::new())
            .expect("audit");
    }
    assert_eq!(store.pin_failures().expect("failures"), 3);
    drop(store);
    let mut store = Store::open(&dir.path().join("k.sqlite3"), &key()).expect("reopen");
    assert_eq!(
        store.pin_failures().expect("failures"),
        3,
        "a restart does not reset the lockout"
    );
    store
        .record_audit(&st, "pin_ok", serde_json::Map::new())
        .expect("audit");
    assert_eq!(store.pin_failures().expect("failures"), 0);
    let audits = store
        .outbox_pending(0, 100)
        .expect("pending")
        .into_iter()
        .filter(|e| e.event_type == "audit")
        .count();
    assert_eq!(audits, 4, "every manager access is reported upstream");
}

#[test]
fn expired_media_is_found_and_forgotten() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(&dir.path().join("k.sqlite3"), &key()).expect("open");
    let (r, _) = role();
    let (answers, result) = answers(&r, GOOD);
    let st = station();
    let now = kiosk_store::now();
    let media = |q: &str, days: i64| kiosk_store::MediaRef {
        question_id: Some(q.into()),
        kind: "answer_audio".into(),
        path: dir.path().join(format!("{q}.wav")).display().to_string(),
        sha256: None,
        bytes: Some(44),
        expires_at: Some(now + chrono::Duration::days(days)),
    };
    store
        .save_interview(&NewInterview {
            station: &st,
            candidate: Candidate::default(),
            locale: "en".into(),
            started_at: now,
            completed_at: now,
            answers: &answers,
            result: &result,
            consents: vec![],
            media: vec![media("old", -1), media("new", 30)],
        })
        .expect("saved");
    let expired = store.expired_media(now).expect("expired");
    assert_eq!(expired.len(), 1);
    assert!(expired[0].1.ends_with("old.wav"));
    assert_eq!(store.forget_media(&[expired[0].0]).expect("forget"), 1);
    assert!(store.expired_media(now).expect("expired").is_empty());
    assert!(
        store
            .expired_media(now + chrono::Duration::days(31))
            .expect("later")
            .len()
            == 1,
        "the newer file expires in its turn"
    );
}

#[test]
fn a_receipt_makes_events_delivered_and_a_late_one_sends_them_again() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(&dir.path().join("k.sqlite3"), &key()).expect("opens");
    let a = save(&mut store, GOOD);
    let b = save(&mut store, GOOD);
    store.outbox_mark_acked_many(&[a.seq, b.seq]).expect("sent");
    let backlog = store.outbox_backlog().expect("backlog");
    assert_eq!((backlog.pending, backlog.unconfirmed), (0, 2));
    assert!(backlog.oldest_unconfirmed_at.is_some());

    // Before the timeout nothing is resent; after it, only the one without a receipt.
    let now = chrono::Local::now().fixed_offset();
    assert!(
        store
            .outbox_resend_unconfirmed(now, 60, 3600)
            .expect("r")
            .is_empty()
    );
    assert_eq!(
        store
            .outbox_mark_delivered(&[a.event_id.clone(), "unknown".into()])
            .expect("receipt"),
        1
    );
    let later = now + chrono::Duration::seconds(61);
    assert_eq!(
        store.outbox_resend_unconfirmed(later, 60, 3600).expect("r"),
        vec![b.seq]
    );
    let pending = store.outbox_pending(0, 10).expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].event_id, b.event_id,
        "same id, so the cloud de-duplicates"
    );

    // Sent again: the next wait doubles (120 s), so 61 s later it is not resent yet.
    store.outbox_mark_acked(b.seq).expect("sent again");
    let now = chrono::Local::now().fixed_offset();
    let soon = now + chrono::Duration::seconds(61);
    assert!(
        store
            .outbox_resend_unconfirmed(soon, 60, 3600)
            .expect("r")
            .is_empty()
    );
    let late = now + chrono::Duration::seconds(121);
    assert_eq!(
        store.outbox_resend_unconfirmed(late, 60, 3600).expect("r"),
        vec![b.seq]
    );

    // A receipt that arrives for an event whose PUBACK was lost still counts.
    store
        .outbox_mark_delivered(std::slice::from_ref(&b.event_id))
        .expect("receipt");
    let backlog = store.outbox_backlog().expect("backlog");
    assert_eq!((backlog.pending, backlog.unconfirmed), (0, 0));
    assert_eq!(
        store.outbox_mark_delivered(&[b.event_id]).expect("again"),
        0
    );
}

//! An interview and its manager's decision split across two `cloud-bridge` instances by the
//! shared subscription, both in flight at once: every decision must still reach its candidate
//! (none left "pending" because each instance's transaction could not see the other's).

use std::time::Duration;

use kiosk_store::{Decision, Store};
use system_tests::bridge::{self, Bridge, RawDevice, Receiver};
use system_tests::broker::Broker;
use system_tests::postgres::Postgres;
use system_tests::sample::{identity, sample, save};
use system_tests::wait_until;

const PAIRS: usize = 40;

#[test]
fn a_decision_racing_its_interview_through_another_instance_still_applies() {
    let dir = tempfile::tempdir().expect("tmp");
    let pg = Postgres::start(dir.path());
    let broker = Broker::start(dir.path(), "");
    let receiver = Receiver::start(0, 0);
    let device = identity().device_id;

    // The kiosk's real payloads, in the order it commits them: result 1, decision 1, result 2 …
    let mut store = Store::open(
        &dir.path().join("kiosk.db"),
        &kiosk_store::StoreKey::generate(),
    )
    .expect("store");
    let (answers, result) = sample();
    for _ in 0..PAIRS {
        let saved = save(&mut store, &answers, &result);
        store
            .record_decision(
                &identity(),
                &saved.interview_id,
                Decision::Advance,
                "good answers",
                "manager",
            )
            .expect("decision");
    }
    let events = store.outbox_pending(0, 10 * PAIRS).expect("outbox");
    assert_eq!(events.len(), 2 * PAIRS);

    let mut bridges = Vec::new();
    for name in ["bridge-1", "bridge-2"] {
        let (config, api) =
            bridge::config(dir.path(), name, &pg.url(), broker.port, receiver.port, "");
        if bridges.is_empty() {
            bridge::cli(&config, &["migrate"]);
            bridge::register(&config, &device);
        }
        bridges.push(Bridge::start(
            &config,
            api,
            &dir.path().join(format!("{name}.log")),
        ));
    }
    // Both instances subscribed before the burst, so the broker alternates between them.
    std::thread::sleep(Duration::from_secs(1));
    let kiosk = RawDevice::connect(broker.port, &device);
    let base = format!("kiosk/v1/acme-retail/sh-pudong-001/{device}/events");
    for e in &events {
        kiosk.publish(
            &format!("{base}/{}", e.event_type),
            e.payload.clone().into_bytes(),
        );
    }

    wait_until("every event committed", Duration::from_secs(60), || {
        let n: usize = pg.psql("SELECT count(*) FROM events").parse().unwrap_or(0);
        (n == 2 * PAIRS, n)
    });
    assert_eq!(
        pg.psql("SELECT count(*) FROM events WHERE outcome = 'pending'"),
        "0",
        "a decision was left waiting for an interview that had arrived"
    );
    assert_eq!(
        pg.psql("SELECT count(*) FROM decisions WHERE candidate_id IS NULL"),
        "0"
    );
    assert_eq!(
        pg.psql("SELECT count(*) FROM candidates WHERE status = 'passed'"),
        PAIRS.to_string()
    );
    // Both instances took part, so the race was really run.
    for b in &bridges {
        assert!(b.log().contains("committed"), "{}", b.log());
    }
}

//! The pure interview flow: order of questions and the single retry for silent or unclear answers.

mod common;

use common::{lexicon, role, spoken};
use kiosk_screening::{Flow, ReasonCode, Recommendation, RepeatReason, Response, Step, score};

#[test]
fn questions_come_in_order_and_finish() {
    let r = role("factory-worker");
    let mut flow = Flow::new(&r);
    assert_eq!(flow.step(), Step::Ask { index: 0 });
    assert_eq!(flow.current().map(|q| q.id.as_str()), Some("motivation"));
    assert_eq!(
        flow.submit(spoken("I want a stable job", 0.9, 2000)),
        Step::Ask { index: 1 }
    );
    assert_eq!(flow.submit(spoken("yes", 0.9, 500)), Step::Ask { index: 2 });
    assert_eq!(
        flow.submit(spoken("two years in a factory", 0.9, 2000)),
        Step::Done
    );
    assert_eq!(flow.submit(spoken("extra", 0.9, 500)), Step::Done);
    assert_eq!(flow.answers().len(), 3);
}

#[test]
fn silence_is_asked_again_once_then_kept_and_sent_to_review() {
    let r = role("factory-worker");
    let mut flow = Flow::new(&r);
    assert_eq!(
        flow.submit(Response::Missing),
        Step::Repeat {
            index: 0,
            why: RepeatReason::NothingHeard
        }
    );
    assert!(flow.answers().is_empty(), "the silent attempt is not kept");
    assert_eq!(flow.submit(Response::Missing), Step::Ask { index: 1 });
    // A retry on the next question is available again.
    assert_eq!(
        flow.submit(spoken("mumble", 0.2, 800)),
        Step::Repeat {
            index: 1,
            why: RepeatReason::Unclear
        }
    );
    assert_eq!(
        flow.submit(spoken("yes, no problem", 0.95, 900)),
        Step::Ask { index: 2 }
    );
    assert_eq!(
        flow.submit(spoken("two years in a factory", 0.9, 2000)),
        Step::Done
    );
    let answers = flow.into_answers();
    let result = score(&r, &lexicon(), &answers).expect("scores");
    assert_eq!(result.recommendation, Recommendation::Review);
    assert_eq!(result.reasons[0].code, ReasonCode::NoSpeech);
    assert_eq!(result.reasons[0].question_id.as_deref(), Some("motivation"));
}

#[test]
fn taps_are_never_repeated() {
    let r = role("nurse");
    let mut flow = Flow::new(&r);
    flow.submit(spoken("yes", 0.9, 400));
    flow.submit(spoken("five years on a surgical ward", 0.9, 3000));
    assert_eq!(
        flow.submit(Response::Tapped { yes: false }),
        Step::Ask { index: 3 }
    );
    let chips = kiosk_screening::Availability::default();
    assert_eq!(
        flow.submit(Response::Chose {
            availability: chips
        }),
        Step::Done,
        "chips are never repeated either"
    );
}

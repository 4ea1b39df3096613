//! The interview session with background transcription: order, immediate and deferred repeats,
//! late and stale transcriptions.

mod common;

use common::{lexicon, role, spoken};
use kiosk_screening::{
    Next, Prompt, ReasonCode, Recommendation, RepeatReason, Response, Session, score,
};

fn ask(s: &mut Session) -> Prompt {
    match s.advance() {
        Next::Ask(p) => p,
        other => panic!("expected a question, got {other:?}"),
    }
}

#[test]
fn next_question_comes_while_the_last_is_transcribed() {
    let mut s = Session::new(role("factory-worker"));
    let p0 = ask(&mut s);
    assert_eq!((p0.index, p0.attempt, p0.why), (0, 0, None));
    let t0 = s.recorded().expect("recorded");
    let p1 = ask(&mut s);
    assert_eq!(
        p1.index, 1,
        "question 2 is asked before question 1 is transcribed"
    );
    let t1 = s.recorded().expect("recorded");
    let p2 = ask(&mut s);
    assert_eq!(p2.index, 2);
    let t2 = s.recorded().expect("recorded");
    assert_eq!(s.advance(), Next::Wait, "all asked, transcriptions pending");
    s.transcribed(t2, spoken("two years in a factory", 0.9, 2000));
    s.transcribed(t0, spoken("I want a stable job", 0.9, 2000));
    assert_eq!(s.advance(), Next::Wait);
    s.transcribed(t1, spoken("yes that is fine", 0.9, 900));
    assert_eq!(s.advance(), Next::Finished);
    let answers = s.answers().expect("all answered");
    let ids: Vec<_> = answers.iter().map(|a| a.question_id.as_str()).collect();
    assert_eq!(
        ids,
        ["motivation", "two-shifts", "experience"],
        "question order kept"
    );
    assert!(answers[0].response.transcript().contains("stable"));
}

#[test]
fn silence_is_asked_again_at_once_then_kept_for_review() {
    let r = role("factory-worker");
    let mut s = Session::new(r.clone());
    ask(&mut s);
    s.heard_nothing(Response::Missing);
    let again = ask(&mut s);
    assert_eq!(
        (again.index, again.attempt, again.why),
        (0, 1, Some(RepeatReason::NothingHeard))
    );
    s.heard_nothing(Response::Missing);
    let p1 = ask(&mut s);
    assert_eq!((p1.index, p1.attempt), (1, 0), "a second silence moves on");
    let t = s.recorded().expect("recorded");
    s.transcribed(t, spoken("yes", 0.9, 500));
    let p2 = ask(&mut s);
    let t = s.recorded().expect("recorded");
    assert_eq!(p2.index, 2);
    s.transcribed(t, spoken("three years packing boxes", 0.9, 2000));
    assert_eq!(s.advance(), Next::Finished);
    let result = score(&r, &lexicon(), &s.answers().expect("answers")).expect("scored");
    assert_eq!(result.recommendation, Recommendation::Review);
    assert!(
        result
            .reasons
            .iter()
            .any(|x| x.code == ReasonCode::NoSpeech)
    );
}

#[test]
fn unclear_transcript_is_asked_again_after_the_current_question() {
    let mut s = Session::new(role("factory-worker"));
    ask(&mut s);
    let t0 = s.recorded().expect("recorded");
    let p1 = ask(&mut s);
    assert_eq!(p1.index, 1);
    // Question 1's transcript comes back mumbled while question 2 is on screen.
    s.transcribed(t0, spoken("mm stable job", 0.2, 1500));
    assert_eq!(
        s.current(),
        Some(p1),
        "the question on screen is not interrupted"
    );
    let t1 = s.recorded().expect("recorded");
    let again = ask(&mut s);
    assert_eq!(
        (again.index, again.attempt, again.why),
        (0, 1, Some(RepeatReason::Unclear))
    );
    let t0b = s.recorded().expect("recorded");
    // The stale first attempt cannot overwrite anything now.
    s.transcribed(t0, spoken("I want a stable job", 0.9, 2000));
    s.transcribed(t1, spoken("yes", 0.9, 500));
    s.transcribed(t0b, spoken("mm", 0.3, 400));
    let p2 = ask(&mut s);
    assert_eq!(p2.index, 2);
    s.tapped(true);
    assert_eq!(s.advance(), Next::Finished);
    let answers = s.answers().expect("answers");
    assert_eq!(
        answers[0].response.transcript(),
        "mm",
        "the second attempt is kept whatever it is"
    );
    assert_eq!(answers[2].response, Response::Tapped { yes: true });
    assert_eq!(s.answered(), 3);
}

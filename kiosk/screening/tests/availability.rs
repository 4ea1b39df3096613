//! The `availability` question: validated without scoring rules, read from chips or speech,
//! carried in the result for rostering, never changing a score or sending a result to review;
//! a spoken answer the lexicon cannot read is asked again with the chips.

mod common;

use common::{lexicon, role, spoken, typed};
use kiosk_screening::{
    Answer, Availability, DayKind, DayPart, Next, QuestionKind, RepeatReason, Response, RoleConfig,
    Session, parse_role, score,
};

fn nurse_with_availability() -> RoleConfig {
    let r = role("nurse");
    assert_eq!(
        r.questions.last().map(|q| q.kind),
        Some(QuestionKind::Availability),
        "the shipped nurse role asks when they can work"
    );
    r
}

fn answers(role: &RoleConfig, last: Response) -> Vec<Answer> {
    let n = role.questions.len();
    let mut a = typed(
        role,
        &[
            "I have five years of ward experience and I care about my patients",
            "yes, nights are fine",
            "I stay calm, check the patient and call the doctor",
        ],
    );
    a.truncate(n - 1);
    a.push(Answer {
        question_id: "availability".into(),
        response: last,
    });
    a
}

#[test]
fn an_availability_question_has_no_scoring_rules() {
    nurse_with_availability();
    let text = include_str!("../../../provisioning/examples/roles/nurse.toml");
    let with_rule = format!(
        "{text}[[questions.rules]]\ntype = \"metric\"\ndimension = \"communication\"\nmetric = \"units\"\ncurve = [[0, 0], [10, 100]]\n"
    );
    let e = parse_role(&with_rule, "nurse.toml").expect_err("rules refused");
    assert!(e.to_string().contains("never scores"), "{e}");
}

#[test]
fn chips_or_speech_fill_the_result_and_never_change_the_score() {
    let role = nurse_with_availability();
    let lex = lexicon();
    let nights = Availability {
        parts: [DayPart::Night].into(),
        days: [DayKind::Weekdays].into(),
    };
    let chips = score(
        &role,
        &lex,
        &answers(
            &role,
            Response::Chose {
                availability: nights.clone(),
            },
        ),
    )
    .expect("scores");
    assert_eq!(chips.availability.as_ref(), Some(&nights));
    let said = score(
        &role,
        &lex,
        &answers(&role, spoken("I can do nights but not Sundays", 0.9, 2000)),
    )
    .expect("scores");
    assert_eq!(said.availability, Some(nights));
    let unclear = score(
        &role,
        &lex,
        &answers(&role, spoken("I like the hospital", 0.9, 2000)),
    )
    .expect("scores");
    assert_eq!(unclear.availability, None);
    let silent = score(&role, &lex, &answers(&role, Response::Missing)).expect("scores");
    for r in [&said, &unclear, &silent] {
        assert_eq!(
            (r.total, r.recommendation),
            (chips.total, chips.recommendation)
        );
        assert_eq!(
            r.reasons, chips.reasons,
            "availability never sends a result to review"
        );
        assert_eq!(r.dimensions, chips.dimensions);
    }
    assert!(chips.total.is_some(), "{chips:?}");
}

#[test]
fn an_unreadable_spoken_availability_is_asked_again_with_the_chips() {
    let role = nurse_with_availability();
    let last = role.questions.len() - 1;
    let mut s = Session::new(role).reading_availability_with(lexicon());
    let mut prompts = vec![];
    loop {
        match s.advance() {
            Next::Ask(p) if p.index < last => {
                let t = s.recorded().expect("recorded");
                s.transcribed(t, spoken("yes that is fine, I can do it", 0.9, 1500));
            }
            Next::Ask(p) if p.attempt == 0 => {
                prompts.push(p);
                let t = s.recorded().expect("recorded");
                s.transcribed(t, spoken("I like the hospital", 0.9, 1500));
            }
            Next::Ask(p) => {
                prompts.push(p);
                assert_eq!(p.why, Some(RepeatReason::Unclear));
                s.chose(Availability {
                    parts: [DayPart::Morning].into(),
                    days: Default::default(),
                });
            }
            Next::Wait => panic!("nothing pending"),
            Next::Finished => break,
        }
    }
    assert_eq!(prompts.len(), 2, "{prompts:?}");
    let answers = s.answers().expect("all answered");
    assert!(matches!(answers[last].response, Response::Chose { .. }));

    // A readable answer is kept at once.
    let role = nurse_with_availability();
    let mut s = Session::new(role).reading_availability_with(lexicon());
    let mut asked = 0;
    while let Next::Ask(p) = s.advance() {
        asked += 1;
        let t = s.recorded().expect("recorded");
        let text = if p.index == last {
            "周末不行，白天都可以"
        } else {
            "yes that is fine"
        };
        s.transcribed(t, spoken(text, 0.9, 1500));
    }
    assert_eq!(asked, last + 1);
}

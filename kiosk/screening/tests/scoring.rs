//! Table-driven tests of scoring on the shipped roles: intent, keywords, metrics, bad input → review.

mod common;

use common::{lexicon, role, spoken, typed};
use kiosk_screening::{Answer, ReasonCode, Recommendation, Response, ScoringError, score};

fn dim(result: &kiosk_screening::ScreeningResult, id: &str) -> Option<u8> {
    result
        .dimensions
        .iter()
        .find(|d| d.id == id)
        .expect("dimension exists")
        .score
}

#[test]
fn factory_worker_willingness_follows_the_two_shift_answer() {
    let r = role("factory-worker");
    let lex = lexicon();
    // (answer to "Can you accept two-shift work?", min willingness, max willingness)
    let cases: &[(&str, u8, u8)] = &[
        ("yes, two shifts are fine", 80, 100),
        ("Sure, no problem.", 80, 100),
        ("可以，两班倒没问题", 80, 100),
        ("没问题", 80, 100),
        ("行", 80, 100),
        ("I don't mind nights", 80, 100),
        ("我不能接受两班倒", 0, 30),
        ("不行，上不了夜班", 0, 30),
        ("I can't do nights", 0, 30),
        ("I cannot work night shifts", 0, 30),
        ("够呛", 0, 30),
        ("maybe, it depends", 40, 70),
        ("看情况吧", 40, 70),
        // Homophones a small speech model writes: matched by sound, a clear yes.
        ("可已，两班到没问题", 80, 100),
        ("可已", 80, 100),
    ];
    for (answer, lo, hi) in cases {
        for motivation in [
            "I want a stable job near my home to support my family",
            "我想找个稳定的工作，长期干下去",
        ] {
            let answers = typed(
                &r,
                &[
                    motivation,
                    answer,
                    "I worked two years on a production line",
                ],
            );
            let result = score(&r, &lex, &answers).expect("scores");
            let w = dim(&result, "willingness").expect("willingness scored");
            assert!(
                (*lo..=*hi).contains(&w),
                "{answer:?} with {motivation:?}: willingness {w} not in {lo}..={hi}"
            );
        }
    }
}

#[test]
fn clear_good_answers_advance_and_clear_refusal_is_not_review() {
    let r = role("factory-worker");
    let good = typed(
        &r,
        &[
            "我想找一份稳定的工作，工资不错，离家近，也想学点技术，长期干下去",
            "可以，两班倒没问题",
            "我在工厂流水线做了两年组装和包装，很注意安全",
        ],
    );
    let result = score(&r, &lexicon(), &good).expect("scores");
    assert_eq!(
        result.recommendation,
        Recommendation::Advance,
        "{result:#?}"
    );
    assert!(result.reasons.is_empty());
    assert!(result.total.expect("total") >= 60);
    assert_eq!(result.status.as_str(), "awaiting_review");

    let weak = typed(&r, &["I just need any job right now", "no", "没有"]);
    let result = score(&r, &lexicon(), &weak).expect("scores");
    assert_eq!(
        result.recommendation,
        Recommendation::NotRecommended,
        "{result:#?}"
    );
    assert!(result.total.expect("total") < 60);
}

#[test]
fn bad_input_goes_to_review_never_a_low_score() {
    let r = role("factory-worker");
    let lex = lexicon();
    let fine = "I want a stable job near my home";
    // (answers, the reason code expected, the question it names)
    let cases: Vec<(Vec<Response>, ReasonCode, &str)> = vec![
        (
            vec![
                Response::Typed { text: "".into() },
                Response::Typed { text: "yes".into() },
                Response::Typed {
                    text: "two years in a factory".into(),
                },
            ],
            ReasonCode::NoSpeech,
            "motivation",
        ),
        (
            vec![
                Response::Typed { text: fine.into() },
                Response::Missing,
                Response::Typed {
                    text: "two years in a factory".into(),
                },
            ],
            ReasonCode::NoSpeech,
            "two-shifts",
        ),
        (
            vec![
                spoken(fine, 0.9, 4000),
                spoken("no", 0.31, 500),
                spoken("two years in a factory", 0.9, 3000),
            ],
            ReasonCode::LowConfidence,
            "two-shifts",
        ),
        (
            vec![
                spoken("um", 0.9, 300),
                spoken("yes", 0.9, 500),
                spoken("two years in a factory", 0.9, 3000),
            ],
            ReasonCode::TooShort,
            "motivation",
        ),
        (
            vec![
                spoken(fine, 0.9, 4000),
                spoken("I like the colour blue", 0.9, 1500),
                spoken("two years in a factory", 0.9, 3000),
            ],
            ReasonCode::UnclearIntent,
            "two-shifts",
        ),
        (
            vec![
                spoken(fine, 0.9, 4000),
                spoken("   ", 0.9, 0),
                spoken("two years in a factory", 0.9, 3000),
            ],
            ReasonCode::NoSpeech,
            "two-shifts",
        ),
    ];
    for (responses, code, question) in cases {
        let answers: Vec<Answer> = r
            .questions
            .iter()
            .zip(responses)
            .map(|(q, response)| Answer {
                question_id: q.id.clone(),
                response,
            })
            .collect();
        let result = score(&r, &lex, &answers).expect("scores");
        assert_eq!(
            result.recommendation,
            Recommendation::Review,
            "{code:?}: {result:#?}"
        );
        let reason = result
            .reasons
            .iter()
            .find(|x| x.code == code)
            .unwrap_or_else(|| panic!("{code:?} missing: {:#?}", result.reasons));
        assert_eq!(reason.question_id.as_deref(), Some(question));
        // The doubtful question fed nothing: every evidence item from it is unscored.
        for d in &result.dimensions {
            for e in d.evidence.iter().filter(|e| e.question_id == question) {
                assert_eq!(e.score, None, "{code:?}: {e:?}");
            }
        }
    }
}

#[test]
fn all_empty_answers_give_review_and_no_total() {
    let r = role("factory-worker");
    let result = score(&r, &lexicon(), &typed(&r, &["", "", ""])).expect("scores");
    assert_eq!(result.recommendation, Recommendation::Review);
    assert_eq!(result.total, None);
    assert!(result.dimensions.iter().all(|d| d.score.is_none()));
    assert!(
        result
            .reasons
            .iter()
            .any(|x| x.code == ReasonCode::DimensionUnscored)
    );
}

#[test]
fn evidence_names_the_phrase_and_when_it_was_said() {
    let r = role("factory-worker");
    let answers: Vec<Answer> = r
        .questions
        .iter()
        .zip([
            spoken("我想要稳定的工作", 0.9, 2500),
            spoken("我不能接受两班倒", 0.9, 2000),
            spoken("在工厂做过两年", 0.9, 2000),
        ])
        .map(|(q, response)| Answer {
            question_id: q.id.clone(),
            response,
        })
        .collect();
    let result = score(&r, &lexicon(), &answers).expect("scores");
    let will = result
        .dimensions
        .iter()
        .find(|d| d.id == "willingness")
        .expect("dimension");
    let intent = will
        .evidence
        .iter()
        .find(|e| e.rule == "intent")
        .expect("intent evidence");
    assert_eq!(intent.score, Some(10.0));
    assert_eq!(intent.matches[0].phrase, "不能 … 接受");
    assert_eq!(intent.matches[0].meaning, "no");
    assert_eq!(intent.matches[0].at_ms, Some(400));
    let comm = result
        .dimensions
        .iter()
        .find(|d| d.id == "communication")
        .expect("dimension");
    let rate = comm
        .evidence
        .iter()
        .find(|e| e.metric.as_ref().is_some_and(|m| m.name == "speech_rate"))
        .expect("rate");
    // 8 characters in 2.5 s = 192 per minute.
    assert_eq!(rate.metric.as_ref().map(|m| m.value.round()), Some(192.0));
    assert!(comm.evidence.iter().any(|e| {
        e.matches
            .iter()
            .any(|m| m.phrase == "稳定" && m.meaning == "stability")
    }));
}

#[test]
fn traditional_characters_and_full_width_text_match_like_simplified() {
    let r = role("factory-worker");
    let a = score(
        &r,
        &lexicon(),
        &typed(&r, &["我想要穩定的工作", "兩班倒沒問題", "在工廠做過兩年"]),
    )
    .expect("scores");
    let b = score(
        &r,
        &lexicon(),
        &typed(&r, &["我想要稳定的工作", "两班倒没问题", "在工厂做过两年"]),
    )
    .expect("scores");
    assert_eq!(
        a.dimensions.iter().map(|d| d.score).collect::<Vec<_>>(),
        b.dimensions.iter().map(|d| d.score).collect::<Vec<_>>()
    );
    assert_eq!(dim(&a, "willingness"), dim(&b, "willingness"));
}

#[test]
fn tap_questions_score_from_the_button() {
    let r = role("nurse");
    let lex = lexicon();
    let mk = |licence: bool| {
        let mut answers = typed(
            &r,
            &[
                "yes I can",
                "I worked five years in a hospital surgical ward doing wound care and medication with patients",
                "",
            ],
        );
        answers[2].response = Response::Tapped { yes: licence };
        score(&r, &lex, &answers).expect("scores")
    };
    let with = mk(true);
    let without = mk(false);
    assert!(dim(&with, "experience") > dim(&without, "experience"));
    let tap = with.dimensions[0]
        .evidence
        .iter()
        .find(|e| e.question_id == "licence")
        .expect("tap evidence");
    assert_eq!(tap.score, Some(100.0));
    assert_eq!(tap.matches[0].phrase, "tapped yes");
    assert!(with.reasons.is_empty(), "{:?}", with.reasons);
    assert_eq!(without.recommendation, Recommendation::NotRecommended);
}

#[test]
fn every_shipped_role_scores_good_answers_above_bad_ones() {
    let lex = lexicon();
    let cases: &[(&str, [&str; 3], [&str; 3])] = &[
        (
            "sales-associate",
            [
                "I would say sorry and stay calm, listen to her and say I understand. Then I offer an exchange or a refund with the receipt and check the fabric quality with my manager",
                "I recommend these shoes because the material is comfortable and durable, the price is a good value and the colour fits everything, you can try them",
                "yes",
            ],
            ["I don't know", "it is nice", "no"],
        ),
        (
            "nurse",
            [
                "yes, no problem",
                "我在医院外科病房做了五年护士，负责输液换药，和医生配合，耐心安慰患者和家属",
                "yes",
            ],
            ["不行", "没有做过", "no"],
        ),
    ];
    for (id, good, bad) in cases {
        let r = role(id);
        let g = score(&r, &lex, &typed(&r, good)).expect("scores");
        let b = score(&r, &lex, &typed(&r, bad)).expect("scores");
        assert!(
            g.total > b.total,
            "{id}: good {:?} vs bad {:?}",
            g.total,
            b.total
        );
        assert_eq!(g.recommendation, Recommendation::Advance, "{id}: {g:#?}");
    }
}

#[test]
fn answers_must_fit_the_role() {
    let r = role("factory-worker");
    let err = score(&r, &lexicon(), &typed(&r, &["one", "two"])).expect_err("too few");
    assert!(matches!(
        err,
        ScoringError::AnswerCount {
            expected: 3,
            given: 2,
            ..
        }
    ));
    assert!(err.to_string().contains("3 questions but 2 answers"));
    let mut answers = typed(&r, &["a", "b", "c"]);
    answers.swap(0, 1);
    assert!(matches!(
        score(&r, &lexicon(), &answers),
        Err(ScoringError::QuestionMismatch { position: 1, .. })
    ));
}

#[test]
fn scoring_is_deterministic() {
    let r = role("sales-associate");
    let answers = typed(
        &r,
        &[
            "sorry, I understand, let me exchange it",
            "the price is good value",
            "yes",
        ],
    );
    let a = serde_json::to_string(&score(&r, &lexicon(), &answers).expect("scores")).expect("json");
    let b = serde_json::to_string(&score(&r, &lexicon(), &answers).expect("scores")).expect("json");
    assert_eq!(a, b);
}

#[test]
fn metric_curves_interpolate_and_clamp() {
    use kiosk_screening::scoring::along;
    let curve = [[1.0, 100.0], [4.0, 90.0], [10.0, 50.0]];
    for (v, expected) in [
        (0.0, 100.0),
        (1.0, 100.0),
        (2.5, 95.0),
        (7.0, 70.0),
        (10.0, 50.0),
        (60.0, 50.0),
    ] {
        assert!((along(&curve, v) - expected).abs() < 1e-9, "{v}");
    }
}

#[test]
fn a_clear_no_to_a_must_have_is_never_advanced() {
    let r = role("factory-worker");
    let lex = lexicon();
    let strong = "我想找一份稳定的工作，离家近，工资也不错，还能学点技术，想长期干下去";
    let experience = "我在电子厂流水线做过两年组装和包装，很注意安全";
    let refused = score(
        &r,
        &lex,
        &typed(&r, &[strong, "我不能接受两班倒", experience]),
    )
    .expect("scores");
    assert!(
        refused.total.expect("total") >= r.pass_threshold as u8,
        "the total alone would pass"
    );
    assert_eq!(refused.recommendation, Recommendation::NotRecommended);
    assert_eq!(refused.knockouts.len(), 1);
    assert_eq!(refused.knockouts[0].question_id, "two-shifts");
    // Hedging on a must-have is not a knockout.
    let hedged = score(&r, &lex, &typed(&r, &[strong, "看情况", experience])).expect("scores");
    assert!(hedged.knockouts.is_empty());
    // A tapped "no" to the nurse licence is one too.
    let n = role("nurse");
    let mut answers = typed(
        &n,
        &[
            "yes",
            "five years on a surgical ward in a hospital, wound care and medication for patients",
            "",
        ],
    );
    answers[2].response = Response::Tapped { yes: false };
    let result = score(&n, &lex, &answers).expect("scores");
    assert_eq!(
        result
            .knockouts
            .iter()
            .map(|k| k.question_id.as_str())
            .collect::<Vec<_>>(),
        ["licence"]
    );
    assert_eq!(result.recommendation, Recommendation::NotRecommended);
}

#[test]
fn video_never_changes_a_score_but_can_send_to_review() {
    use kiosk_screening::{VideoSummary, apply_video};
    let r = role("factory-worker");
    let answers = typed(
        &r,
        &[
            "我想找一份稳定的工作，离家近，工资也不错，还能学点技术",
            "可以，两班倒没问题",
            "我在工厂流水线做过两年组装",
        ],
    );
    let base = score(&r, &lexicon(), &answers).expect("scores");
    assert_eq!(base.recommendation, Recommendation::Advance);
    let v = |present: f32, multiple: f32| VideoSummary {
        frames: 20,
        face_present_ratio: present,
        multiple_faces_ratio: multiple,
        frontal_ratio: present,
        too_dark_ratio: 0.0,
    };
    let cases = [
        (v(1.0, 0.0), None),
        (v(0.2, 0.0), Some(ReasonCode::NotVisible)),
        (v(1.0, 0.6), Some(ReasonCode::MultiplePeople)),
    ];
    for (video, reason) in cases {
        let mut result = base.clone();
        apply_video(&mut result, video.clone());
        assert_eq!(result.dimensions, base.dimensions, "scores untouched");
        assert_eq!(result.total, base.total);
        assert_eq!(result.video.as_ref(), Some(&video));
        match reason {
            None => assert_eq!(result.recommendation, Recommendation::Advance),
            Some(code) => {
                assert_eq!(result.recommendation, Recommendation::Review);
                assert!(result.reasons.iter().any(|x| x.code == code));
            }
        }
    }
}

#[test]
fn a_refusal_heard_only_by_sound_goes_to_review_and_says_so() {
    let r = role("factory-worker");
    let lex = lexicon();
    let motivation = "我想找个稳定的工作，长期干下去";
    let experience = "我在工厂流水线做了两年";
    // 不性 sounds like 不行 ("no"): a must-have question must not be knocked out on that.
    let result = score(&r, &lex, &typed(&r, &[motivation, "不性", experience])).expect("scores");
    assert_eq!(result.recommendation, Recommendation::Review, "{result:#?}");
    assert!(result.knockouts.is_empty(), "{result:#?}");
    let reason = result
        .reasons
        .iter()
        .find(|x| x.code == ReasonCode::RefusalBySound)
        .expect("the reason names the match by sound");
    assert_eq!(reason.question_id.as_deref(), Some("two-shifts"));
    assert!(
        result
            .dimensions
            .iter()
            .flat_map(|d| &d.evidence)
            .filter(|e| e.question_id == "two-shifts")
            .all(|e| e.score.is_none()),
        "the sound-only refusal feeds no score: {result:#?}"
    );
    // The evidence shows what was heard and what it sounded like.
    let shown = result
        .dimensions
        .iter()
        .flat_map(|d| &d.evidence)
        .flat_map(|e| &e.matches)
        .find(|m| m.by_sound.is_some())
        .expect("a match by sound");
    assert_eq!(
        (shown.phrase.as_str(), shown.by_sound.as_deref()),
        ("不性", Some("不行"))
    );

    // A yes by sound is scored and marked.
    let yes = score(
        &r,
        &lex,
        &typed(&r, &[motivation, "可已，两班到没问题", experience]),
    )
    .expect("scores");
    let cue = yes
        .dimensions
        .iter()
        .flat_map(|d| &d.evidence)
        .filter(|e| e.rule == "intent")
        .flat_map(|e| &e.matches)
        .find(|m| m.phrase == "可已")
        .expect("可已 matched");
    assert_eq!(cue.by_sound.as_deref(), Some("可以"));
    assert!(
        yes.knockouts.is_empty() && yes.reasons.is_empty(),
        "{yes:#?}"
    );
}

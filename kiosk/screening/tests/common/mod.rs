//! Helpers shared by the screening tests: the shipped roles and lexicon, and answer builders.

#![allow(dead_code)]

use kiosk_screening::{
    Answer, Lexicon, QuestionKind, Response, RoleConfig, Segment, SpeechMetrics, parse_lexicon,
    parse_role,
};

pub fn lexicon() -> Lexicon {
    let text = include_str!("../../../../provisioning/examples/roles/lexicon.toml");
    Lexicon::new(&parse_lexicon(text, "lexicon.toml").expect("shipped lexicon is valid"))
}

pub fn role(id: &str) -> RoleConfig {
    let text = match id {
        "factory-worker" => {
            include_str!("../../../../provisioning/examples/roles/factory-worker.toml")
        }
        "sales-associate" => {
            include_str!("../../../../provisioning/examples/roles/sales-associate.toml")
        }
        "nurse" => include_str!("../../../../provisioning/examples/roles/nurse.toml"),
        other => panic!("no shipped role {other}"),
    };
    parse_role(text, &format!("{id}.toml")).expect("shipped role is valid")
}

/// Typed answers in order; questions after the texts that only ask availability (never
/// scored) get no answer.
pub fn typed(role: &RoleConfig, texts: &[&str]) -> Vec<Answer> {
    role.questions
        .iter()
        .enumerate()
        .filter_map(|(i, q)| {
            let response = match texts.get(i) {
                Some(t) => Response::Typed {
                    text: t.to_string(),
                },
                None if q.kind == QuestionKind::Availability => Response::Missing,
                None => return None,
            };
            Some(Answer {
                question_id: q.id.clone(),
                response,
            })
        })
        .collect()
}

pub fn spoken(text: &str, confidence: f32, speech_ms: u32) -> Response {
    Response::Spoken {
        segments: vec![Segment {
            start_ms: 400,
            end_ms: 400 + speech_ms,
            text: text.to_string(),
            confidence: Some(confidence),
        }],
        metrics: SpeechMetrics {
            latency_ms: Some(900),
            speech_ms,
            pause_ratio: Some(0.1),
            loudness_dbfs: Some(-20.0),
        },
    }
}

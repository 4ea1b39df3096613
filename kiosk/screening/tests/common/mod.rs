//! Helpers shared by the screening tests: the shipped roles and lexicon, and answer builders.

#![allow(dead_code)]

use kiosk_screening::{
    Answer, Lexicon, Response, RoleConfig, Segment, SpeechMetrics, parse_lexicon, parse_role,
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

pub fn typed(role: &RoleConfig, texts: &[&str]) -> Vec<Answer> {
    role.questions
        .iter()
        .zip(texts)
        .map(|(q, t)| Answer {
            question_id: q.id.clone(),
            response: Response::Typed {
                text: t.to_string(),
            },
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

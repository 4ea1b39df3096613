//! Helpers the store's tests share: the example role and lexicon, a station, and a saved interview.

#![allow(dead_code)] // each test file uses its own part

use kiosk_screening::{
    Answer, Lexicon, Response, RoleConfig, ScreeningResult, parse_lexicon, parse_role, score,
};
use kiosk_store::{
    Candidate, Consent, ConsentKind, MediaRef, NewInterview, StationIdentity, Store,
};

pub fn role() -> (RoleConfig, Lexicon) {
    let r = parse_role(
        include_str!("../../../../provisioning/examples/roles/factory-worker.toml"),
        "fw",
    )
    .expect("role");
    let l = parse_lexicon(
        include_str!("../../../../provisioning/examples/roles/lexicon.toml"),
        "lex",
    )
    .expect("lexicon");
    (r, Lexicon::new(&l))
}

pub fn station() -> StationIdentity {
    StationIdentity {
        tenant: "acme".into(),
        store_id: "s1".into(),
        device_id: "k1".into(),
    }
}

pub fn answers(r: &RoleConfig, texts: [&str; 3]) -> (Vec<Answer>, ScreeningResult) {
    let (_, lex) = role();
    let answers: Vec<Answer> = r
        .questions
        .iter()
        .zip(texts)
        .map(|(q, t)| Answer {
            question_id: q.id.clone(),
            response: Response::Typed { text: t.into() },
        })
        .collect();
    let result = score(r, &lex, &answers).expect("scores");
    (answers, result)
}

pub fn save(store: &mut Store, texts: [&str; 3]) -> kiosk_store::Saved {
    save_with(store, texts, "张三", "13800000000", vec![])
}

/// Saves an interview of this candidate with these media files.
pub fn save_with(
    store: &mut Store,
    texts: [&str; 3],
    name: &str,
    phone: &str,
    media: Vec<MediaRef>,
) -> kiosk_store::Saved {
    let (r, _) = role();
    let (answers, result) = answers(&r, texts);
    let st = station();
    let t = chrono::DateTime::parse_from_rfc3339("2026-11-25T09:30:00+08:00").expect("time");
    store
        .save_interview(&NewInterview {
            station: &st,
            candidate: Candidate {
                name: Some(name.into()),
                phone: Some(phone.into()),
            },
            locale: "zh-CN".into(),
            started_at: t,
            completed_at: t + chrono::Duration::seconds(75),
            answers: &answers,
            result: &result,
            consents: vec![Consent {
                kind: ConsentKind::Recording,
                granted: true,
                notice_version: "2026-11".into(),
            }],
            media,
        })
        .expect("saved")
}

pub const GOOD: [&str; 3] = [
    "我想找稳定的工作",
    "可以，两班倒没问题",
    "在工厂流水线做过两年",
];

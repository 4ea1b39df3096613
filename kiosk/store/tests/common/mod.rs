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

/// The store key the tests' databases are encrypted with.
pub fn key() -> kiosk_store::StoreKey {
    kiosk_store::StoreKey::from_bytes([42; 32])
}

/// A plain SQLite connection to a test database, keyed, for what the store's API does not show.
pub fn raw(path: &std::path::Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(path).expect("raw");
    c.execute_batch(&format!(
        "PRAGMA key = {};",
        key().sqlcipher_pragma().as_str()
    ))
    .expect("key");
    c
}

/// Every table's content, read with the key: what a reader holding the key would see.
pub fn dump(path: &std::path::Path) -> String {
    let c = raw(path);
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("tables");
    let mut out = String::new();
    for t in tables {
        let mut stmt = c
            .prepare(&format!("SELECT * FROM \"{t}\""))
            .expect("select");
        let n = stmt.column_count();
        let mut rows = stmt.query([]).expect("rows");
        while let Some(row) = rows.next().expect("row") {
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i).expect("value");
                if let rusqlite::types::Value::Text(s) = v {
                    out.push_str(&s);
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// Every byte under `dir` (database, WAL, shared memory, media), as stored.
pub fn all_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir") {
        let p = entry.expect("entry").path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else {
            out.extend(std::fs::read(&p).expect("read"));
        }
    }
    out
}

pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Writes `content` as a plaintext audio file at `path` (folders made) and describes it as the
/// answer audio of `question`, expiring at `expires`.
pub fn audio_file(
    path: &std::path::Path,
    question: &str,
    content: &str,
    expires: Option<chrono::DateTime<chrono::FixedOffset>>,
) -> MediaRef {
    std::fs::create_dir_all(path.parent().expect("folder")).expect("media dir");
    std::fs::write(path, content).expect("audio");
    MediaRef {
        question_id: Some(question.into()),
        kind: "answer_audio".into(),
        path: path.display().to_string(),
        sha256: None,
        bytes: None,
        expires_at: expires,
    }
}

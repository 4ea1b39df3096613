//! Sample data and measuring helpers the benchmarks share: a realistic scored result (factory
//! worker, Chinese answers) saved as the kiosk saves it, peak RSS of a process, percentiles.

use kiosk_screening::{
    Answer, Lexicon, Response, ScreeningResult, parse_lexicon, parse_role, score,
};
use kiosk_store::{Candidate, NewInterview, Saved, StationIdentity, Store};

use crate::examples;

/// The station identity of the benchmarks' real kiosk.
pub fn identity() -> StationIdentity {
    StationIdentity {
        tenant: "acme-retail".into(),
        store_id: "sh-pudong-001".into(),
        device_id: "kiosk-01".into(),
    }
}

/// A realistic result (factory worker, Chinese answers) to save again and again.
pub fn sample() -> (Vec<Answer>, ScreeningResult) {
    let role = parse_role(
        &std::fs::read_to_string(examples().join("roles/factory-worker.toml")).expect("role"),
        "factory-worker.toml",
    )
    .expect("role");
    let lex = parse_lexicon(
        &std::fs::read_to_string(examples().join("roles/lexicon.toml")).expect("lexicon"),
        "lexicon.toml",
    )
    .expect("lexicon");
    let texts = [
        "我想找一份稳定的工作，离家近，工资也不错，还能学点技术",
        "可以，两班倒没问题",
        "我在电子厂流水线做过两年组装和包装",
    ];
    let answers: Vec<Answer> = role
        .questions
        .iter()
        .zip(texts)
        .map(|(q, t)| Answer {
            question_id: q.id.clone(),
            response: Response::Typed { text: t.into() },
        })
        .collect();
    let result = score(&role, &Lexicon::new(&lex), &answers).expect("scores");
    (answers, result)
}

/// Saves one interview with that result, as the kiosk does.
pub fn save(store: &mut Store, answers: &[Answer], result: &ScreeningResult) -> Saved {
    let id = identity();
    let now = chrono::Local::now().fixed_offset();
    store
        .save_interview(&NewInterview {
            station: &id,
            candidate: Candidate {
                name: Some("张伟".into()),
                phone: Some("13800000001".into()),
            },
            locale: "zh-CN".into(),
            started_at: now,
            completed_at: now,
            answers,
            result,
            consents: vec![],
            media: vec![],
        })
        .expect("saved")
}

/// Peak resident memory (VmHWM) of a process, in KiB.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The `p` quantile (0–1) of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

//! Plain-text rendering of results for terminals: the explainable result and the results table.

use std::fmt::Write as _;

use kiosk_screening::RoleConfig;
use kiosk_store::ResultRow;
use unicode_width::UnicodeWidthStr;

use crate::commands::Scored;

fn pad(s: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// One result with its evidence, for a role author or a reviewer at a terminal.
pub fn result(role: &RoleConfig, s: &Scored, locale: &str) -> String {
    let r = &s.result;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}) — saved as interview {}, receipt {}",
        role.name.get(locale),
        r.role,
        s.interview_id,
        s.receipt
    );
    let total = r
        .total
        .map_or("not computed".to_string(), |t| format!("{t} / 100"));
    let _ = writeln!(
        out,
        "Recommendation: {} — total {total}, pass at {}",
        r.recommendation.as_str(),
        r.pass_threshold
    );
    let _ = writeln!(out, "Status: {} (a person decides)", r.status.as_str());
    if !r.reasons.is_empty() {
        let _ = writeln!(out, "Why review:");
        for reason in &r.reasons {
            let _ = writeln!(out, "  - {}", reason.message);
        }
    }
    for k in &r.knockouts {
        let _ = writeln!(out, "Must-have not met: {}", k.message);
    }
    if let Some(v) = &r.video {
        let _ = writeln!(
            out,
            "Camera ({} frames; presence only, never scored): face present {:.0}%, more than one person {:.0}%, facing the camera {:.0}%, too dark {:.0}%",
            v.frames,
            v.face_present_ratio * 100.0,
            v.multiple_faces_ratio * 100.0,
            v.frontal_ratio * 100.0,
            v.too_dark_ratio * 100.0
        );
    }
    let _ = writeln!(out, "Dimensions:");
    for d in &r.dimensions {
        let name = role
            .dimension(&d.id)
            .map_or(d.id.as_str(), |c| c.name.get(locale));
        let score = d.score.map_or("—".to_string(), |v| v.to_string());
        let _ = writeln!(
            out,
            "  {} {score:>3}  (weight {}%)",
            pad(&format!("{name} [{}]", d.id), 36),
            d.weight
        );
        for e in &d.evidence {
            let _ = writeln!(
                out,
                "      {} · {} (×{}): {}",
                e.question_id, e.rule, e.weight, e.explanation
            );
        }
    }
    let _ = writeln!(out, "Answers:");
    for (i, a) in r.answers.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}. {} [{}]: {}",
            i + 1,
            a.question_id,
            a.source,
            if a.transcript.is_empty() {
                "(nothing)"
            } else {
                &a.transcript
            }
        );
    }
    out
}

/// The results list as an aligned table.
pub fn results_table(rows: &[ResultRow]) -> String {
    let header = [
        "TIME",
        "CANDIDATE",
        "RECEIPT",
        "ROLE",
        "TOTAL",
        "RECOMMENDATION",
        "STATUS",
        "SYNCED",
    ];
    let when = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t).map_or_else(
            |_| t.to_string(),
            |t| t.format("%Y-%m-%d %H:%M %:z").to_string(),
        )
    };
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            [
                when(&r.completed_at),
                r.candidate.clone().unwrap_or_else(|| "—".into()),
                r.receipt.clone(),
                r.role.clone(),
                r.total.map_or("—".into(), |t| t.to_string()),
                r.recommendation.clone(),
                match (&r.decision, &r.decided_at) {
                    (Some(_), Some(at)) => format!("{} by the manager {}", r.status, when(at)),
                    _ => r.status.clone(),
                },
                if r.synced { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(UnicodeWidthStr::width);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(UnicodeWidthStr::width(c.as_str()));
        }
    }
    let mut out = String::new();
    let line = |cols: Vec<&str>| {
        cols.iter()
            .zip(&widths)
            .map(|(c, w)| pad(c, *w))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let _ = writeln!(out, "{}", line(header.to_vec()).trim_end());
    for row in &cells {
        let _ = writeln!(
            out,
            "{}",
            line(row.iter().map(String::as_str).collect()).trim_end()
        );
    }
    if rows.is_empty() {
        let _ = writeln!(out, "(no results yet)");
    }
    out
}

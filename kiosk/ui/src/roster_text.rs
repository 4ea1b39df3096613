//! The roster screen's words: a roster the cloud sent, turned into what a store manager reads in
//! the visit's language — the new hire's week, each shift with its buddy, and the shifts still
//! open with the rule that kept them open. A cancelled roster or one whose week is over gives
//! nothing (it is no longer current).

use chrono::{Datelike, NaiveDate, NaiveDateTime, Weekday};
use serde_json::Value;

use crate::strings::Strings;

/// What one roster shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterText {
    /// Who and which week.
    pub title: String,
    /// One line per shift.
    pub shifts: Vec<String>,
    /// Per shift still open: the shift, and the rule that kept it open.
    pub open: Vec<(String, String)>,
    /// The cloud's note (no rota, no onboarding terms).
    pub note: Option<String>,
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn day(l: &str, d: Weekday) -> &'static str {
    const ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
    const EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let i = d.num_days_from_monday() as usize;
    if l.starts_with("zh") { ZH[i] } else { EN[i] }
}

fn time(t: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok()
}

/// `周二 12-08 20:00 – 周三 08:00` (the end's day only when it differs).
fn when(l: &str, shift: &Value) -> String {
    match (time(s(shift, "start")), time(s(shift, "end"))) {
        (Some(a), Some(b)) => {
            let from = format!("{} {}", day(l, a.weekday()), a.format("%m-%d %H:%M"));
            let to = if a.date() == b.date() {
                b.format("%H:%M").to_string()
            } else {
                format!("{} {}", day(l, b.weekday()), b.format("%H:%M"))
            };
            format!("{from} – {to}")
        }
        _ => format!("{} – {}", s(shift, "start"), s(shift, "end")),
    }
}

/// The roster's lines, or None when it is cancelled or its week ended before `today`.
pub fn roster_text(
    key: &str,
    body: &Value,
    strings: &Strings,
    l: &str,
    today: NaiveDate,
) -> Option<RosterText> {
    if s(body, "state") == "cancelled" {
        return None;
    }
    let end = NaiveDate::parse_from_str(s(body, "week_end"), "%Y-%m-%d").ok();
    if end.is_some_and(|e| e < today) {
        return None;
    }
    let emp = body.get("employee");
    let name = emp
        .and_then(|e| e.get("name").or(e.get("value")))
        .and_then(Value::as_str)
        .unwrap_or(key);
    let title = match (body.get("week_start").and_then(Value::as_str), end) {
        (Some(from), Some(to)) => strings.fill(
            l,
            "roster_week",
            &[("name", name), ("from", from), ("to", &to.to_string())],
        ),
        _ => name.to_string(),
    };
    let parts = |x: &Value| {
        let mut v = vec![when(l, x)];
        for k in ["skill", "location"] {
            if !s(x, k).is_empty() {
                v.push(s(x, k).to_string());
            }
        }
        v
    };
    let shifts = body
        .get("shifts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|x| {
            let mut v = parts(x);
            if x.get("night").and_then(Value::as_bool) == Some(true) {
                v.push(strings.get(l, "roster_night"));
            }
            if let Some(b) = x.get("buddy").filter(|b| b.is_object()) {
                v.push(strings.fill(l, "roster_buddy", &[("name", s(b, "first_name"))]));
            }
            v.join(" · ")
        })
        .collect();
    let open = body
        .get("unfilled")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|x| {
            let mut v = parts(x);
            let n = x
                .get("open")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .to_string();
            v.push(strings.fill(l, "roster_open_places", &[("n", &n)]));
            let rule = strings.get(l, &format!("roster_rule_{}", s(x, "rule")));
            let why = if l.starts_with("zh") || s(x, "reason").is_empty() {
                rule
            } else {
                s(x, "reason").to_string()
            };
            (v.join(" · "), why)
        })
        .collect();
    let note = body.get("note").and_then(Value::as_str).map(String::from);
    Some(RosterText {
        title,
        shifts,
        open,
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body() -> Value {
        json!({
            "kind": "roster", "version": 2, "state": "current", "employee": {"name": "王芳"},
            "week_start": "2026-12-07", "week_end": "2026-12-13",
            "shifts": [{"demand": "night-1", "start": "2026-12-08T20:00:00", "end": "2026-12-09T08:00:00",
                        "skill": "nurse", "location": "Ward 3", "night": true,
                        "buddy": {"first_name": "Li", "skill": "nurse"}}],
            "unfilled": [{"demand": "day-3", "start": "2026-12-10T08:00:00", "end": "2026-12-10T20:00:00",
                          "skill": "nurse", "location": "Ward 3", "open": 1, "rule": "min_rest",
                          "reason": "only 0 h off next to shift night-2; the rule is 11 h"}],
        })
    }

    #[test]
    fn a_week_reads_as_days_times_skill_buddy_and_what_stays_open_in_both_languages() {
        let st = Strings::shipped();
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let zh = roster_text("k", &body(), &st, "zh-CN", today).unwrap();
        assert!(
            zh.title.contains("王芳") && zh.title.contains("2026-12-07"),
            "{}",
            zh.title
        );
        assert_eq!(
            zh.shifts,
            ["周二 12-08 20:00 – 周三 08:00 · nurse · Ward 3 · 夜班 · 搭档 Li"]
        );
        let (shift, why) = &zh.open[0];
        assert!(shift.starts_with("周四 12-10 08:00 – 20:00"), "{shift}");
        assert!(why.contains("休息"), "{why}");
        let en = roster_text("k", &body(), &st, "en", today).unwrap();
        assert_eq!(
            en.shifts,
            ["Tue 12-08 20:00 – Wed 08:00 · nurse · Ward 3 · night · with Li"]
        );
        let (shift, why) = &en.open[0];
        assert!(shift.contains("1 open"), "{shift}");
        assert!(why.contains("the rule is 11 h"), "{why}");
    }

    #[test]
    fn cancelled_and_past_rosters_are_not_shown() {
        let st = Strings::shipped();
        let mut b = body();
        assert!(
            roster_text(
                "k",
                &b,
                &st,
                "en",
                NaiveDate::from_ymd_opt(2026, 12, 14).unwrap()
            )
            .is_none()
        );
        assert!(
            roster_text(
                "k",
                &b,
                &st,
                "en",
                NaiveDate::from_ymd_opt(2026, 12, 13).unwrap()
            )
            .is_some()
        );
        b["state"] = json!("cancelled");
        assert!(
            roster_text(
                "k",
                &b,
                &st,
                "en",
                NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
            )
            .is_none()
        );
    }
}

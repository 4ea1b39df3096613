//! Why a shift was not given: the one-shift rules before solving, and after solving the rule
//! the chosen shifts leave no room under — named, with the numbers that decided it. The new
//! hire is never named in a reason (reasons are copied to HR and the kiosk; names get deleted).

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDateTime};

use crate::model::NewHire;
use crate::rules::{Rule, RulePack};
use crate::solve::Open;
use crate::validate::contract_problem;

fn hm(t: NaiveDateTime) -> String {
    t.format("%a %H:%M").to_string()
}

fn hours(h: f64) -> String {
    if h.fract() == 0.0 {
        format!("{h:.0} h")
    } else {
        format!("{h:.1} h")
    }
}

/// The first rule that alone keeps `hire` off shift `o`.
pub(crate) fn unary(o: &Open, hire: &NewHire, rules: &RulePack) -> Option<(Rule, String)> {
    let d = o.d;
    let c = &hire.contract;
    if !hire.skills.contains(&d.skill) {
        return Some((
            Rule::Skill,
            format!("needs {:?}, which the new hire does not have", d.skill),
        ));
    }
    if !rules.available(&hire.availability, d) {
        let part = crate::solve::part_word(rules.part(d));
        let day = if d.start.weekday().number_from_monday() >= 6 {
            "weekend"
        } else {
            "weekday"
        };
        return Some((
            Rule::Availability,
            format!("a {day} {part} shift; the new hire said they cannot work then"),
        ));
    }
    if hire.unavailable.contains(&d.start.date()) {
        return Some((
            Rule::Unavailable,
            format!("the new hire cannot work on {}", d.start.date()),
        ));
    }
    if o.night && !c.nights_allowed {
        return Some((
            Rule::NightWork,
            "a night shift; the contract excludes night work".into(),
        ));
    }
    if let Some(why) = contract_problem(c) {
        let rule = if c.max_shifts_day == 0 {
            Rule::MaxShiftsDay
        } else {
            Rule::MaxWeeklyHours
        };
        return Some((rule, format!("the contract cannot be worked: {why}")));
    }
    if d.hours() > c.max_hours_week {
        return Some((
            Rule::MaxWeeklyHours,
            format!(
                "{} long; the contract allows {} a week",
                hours(d.hours()),
                hours(c.max_hours_week)
            ),
        ));
    }
    None
}

/// The shifts the solver gave the new hire.
#[derive(Debug)]
pub(crate) struct Chosen<'a> {
    shifts: Vec<&'a Open<'a>>,
}

impl<'a> Chosen<'a> {
    pub(crate) fn new(open: &'a [Open<'a>], taken: &[usize]) -> Self {
        Self {
            shifts: taken.iter().map(|i| &open[*i]).collect(),
        }
    }
}

/// Why an open shift `hire` could take on its own was left: the rule the chosen shifts leave
/// no room under, or the soft rule that outweighed it.
pub(crate) fn why_not(
    o: &Open,
    chosen: &Chosen,
    hire: &NewHire,
    rules: &RulePack,
    avg: f64,
) -> (Rule, String) {
    for c in &chosen.shifts {
        match rules.conflict(o.d, c.d) {
            Some(Rule::Overlap) => {
                return (
                    Rule::Overlap,
                    format!(
                        "overlaps the new hire's shift {} ({} – {})",
                        c.d.id,
                        hm(c.d.start),
                        hm(c.d.end)
                    ),
                );
            }
            Some(rule) => {
                let gap = if c.d.end <= o.d.start {
                    o.d.start - c.d.end
                } else {
                    c.d.start - o.d.end
                };
                return (
                    rule,
                    format!(
                        "only {} off next to shift {} ({} – {}); the rule is {}",
                        hours(gap.num_minutes() as f64 / 60.0),
                        c.d.id,
                        hm(c.d.start),
                        hm(c.d.end),
                        hours(rules.min_rest_hours)
                    ),
                );
            }
            None => {}
        }
    }
    let worked: f64 = chosen.shifts.iter().map(|c| c.d.hours()).sum();
    if worked + o.d.hours() > hire.contract.max_hours_week + 1e-9 {
        return (
            Rule::MaxWeeklyHours,
            format!(
                "would make {}; the contract allows {} a week",
                hours(worked + o.d.hours()),
                hours(hire.contract.max_hours_week)
            ),
        );
    }
    let same_day = chosen.shifts.iter().filter(|c| c.day == o.day).count() as u32;
    if same_day >= hire.contract.max_shifts_day {
        return (
            Rule::MaxShiftsDay,
            format!(
                "the new hire already has {same_day} shift(s) that day; the contract allows {}",
                hire.contract.max_shifts_day
            ),
        );
    }
    if o.night {
        let mut days: BTreeSet<i64> = chosen
            .shifts
            .iter()
            .filter(|c| c.night)
            .map(|c| c.day)
            .collect();
        days.insert(o.day);
        let (mut lo, mut hi) = (o.day, o.day);
        while days.contains(&(lo - 1)) {
            lo -= 1;
        }
        while days.contains(&(hi + 1)) {
            hi += 1;
        }
        let run = hi - lo + 1;
        if run > i64::from(rules.max_consecutive_nights) {
            return (
                Rule::MaxConsecutiveNights,
                format!(
                    "would make {run} nights in a row; the rule is at most {}",
                    rules.max_consecutive_nights
                ),
            );
        }
        let nights = chosen.shifts.iter().filter(|c| c.night).count();
        return (
            Rule::Fairness,
            format!(
                "the new hire already has {nights} night(s); the team averages {avg:.1} a head"
            ),
        );
    }
    if let Some(first) = chosen.shifts.first()
        && o.d.start < first.d.start
        && let Some(b) = &first.buddy
    {
        return (
            Rule::Buddy,
            format!(
                "left so the new hire's first shift is with {} ({})",
                b.first_name, b.skill
            ),
        );
    }
    (Rule::Fairness, "the best week found leaves it open".into())
}

//! The new hire's first week as a mixed-integer programme: one binary per open shift they may
//! take (the one-shift rules already applied), the rules between shifts as constraints, the
//! soft rules in the objective. Everyone else's assignments stay as they are.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::explain::{Chosen, unary, why_not};
use crate::lp::Lp;
use crate::model::{Demand, Employee, NewHire, Week};
use crate::rows::{Candidate, person_rows};
use crate::rules::{Rule, RulePack};
use crate::validate::validate_week;
use crate::{DayPart, RosterError};

/// The experienced colleague on a shift with the new hire: first name and skill only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Buddy {
    /// First name.
    pub first_name: String,
    /// The skill they share.
    pub skill: String,
}

/// A shift given to the new hire, with what was checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// [`Demand::id`].
    pub demand: String,
    /// Start.
    pub start: NaiveDateTime,
    /// End.
    pub end: NaiveDateTime,
    /// Skill.
    pub skill: String,
    /// Location.
    pub location: String,
    /// Hours.
    pub hours: f64,
    /// A night shift under the rule pack.
    pub night: bool,
    /// Places open on it before the new hire, and how many it needs.
    pub open_before: u32,
    /// How many people it needs.
    pub needed: u32,
    /// In a part of the day they said they prefer.
    pub preferred: bool,
    /// The experienced colleague on it, if any.
    pub buddy: Option<Buddy>,
    /// Hours off since their previous shift this week (none if it is their first).
    pub rest_before_hours: Option<f64>,
    /// The hard rules checked (all of them, every time).
    pub checked: Vec<Rule>,
}

/// An open shift the new hire was not given, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unfilled {
    /// [`Demand::id`].
    pub demand: String,
    /// Start.
    pub start: NaiveDateTime,
    /// End.
    pub end: NaiveDateTime,
    /// Skill.
    pub skill: String,
    /// Location.
    pub location: String,
    /// Places still open after the new hire.
    pub open: u32,
    /// How many people it needs.
    pub needed: u32,
    /// The rule that kept the new hire off it.
    pub rule: Rule,
    /// The rule applied to this shift, in words (English; the rule name is for translating).
    pub reason: String,
}

/// The new hire's first week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roster {
    /// The HR candidate id.
    pub candidate: String,
    /// Their first name.
    pub first_name: String,
    /// The week's first day.
    pub week_start: NaiveDate,
    /// The rule pack's region.
    pub region: String,
    /// Their shifts, in time order.
    pub shifts: Vec<Placement>,
    /// The store's shifts still open, in time order, each with the rule that kept them open.
    pub unfilled: Vec<Unfilled>,
    /// Hours they work.
    pub hours: f64,
    /// Night shifts they work.
    pub nights: u32,
    /// Night shifts a head in the rest of the team this week.
    pub team_average_nights: f64,
    /// The objective: open hours covered, weighted by understaffing, plus the soft rules.
    pub objective: f64,
    /// The solver proved it optimal.
    pub optimal: bool,
}

/// An open shift with what the week says about it.
#[derive(Debug)]
pub(crate) struct Open<'a> {
    pub d: &'a Demand,
    pub open: u32,
    pub night: bool,
    pub day: i64,
    pub buddy: Option<Buddy>,
}

/// The experienced colleague of the same skill on most of `d`, among the week's assignments
/// resolved to (shift, employee).
fn buddy(on: &[(&Demand, &Employee)], d: &Demand) -> Option<Buddy> {
    on.iter()
        .filter_map(|(o, e)| {
            let overlap = (o.end.min(d.end) - o.start.max(d.start)).num_minutes();
            (e.experienced
                && e.skills.contains(&d.skill)
                && overlap * 2 >= (d.end - d.start).num_minutes())
            .then_some((
                std::cmp::Reverse(overlap),
                e.first_name.as_str(),
                e.id.as_str(),
            ))
        })
        .min()
        .map(|(_, name, _)| Buddy {
            first_name: name.to_string(),
            skill: d.skill.clone(),
        })
}

/// The week's open shifts, in time order.
pub(crate) fn open_shifts<'a>(week: &'a Week, rules: &RulePack) -> Vec<Open<'a>> {
    let mut on: BTreeMap<&str, u32> = BTreeMap::new();
    for a in &week.assignments {
        *on.entry(a.demand.as_str()).or_default() += 1;
    }
    let by_id: BTreeMap<_, _> = week.demand.iter().map(|x| (x.id.as_str(), x)).collect();
    let staff: BTreeMap<_, _> = week.employees.iter().map(|e| (e.id.as_str(), e)).collect();
    let assigned: Vec<(&Demand, &Employee)> = week
        .assignments
        .iter()
        .filter_map(|a| {
            Some((
                *by_id.get(a.demand.as_str())?,
                *staff.get(a.employee.as_str())?,
            ))
        })
        .collect();
    let mut v: Vec<Open> = week
        .demand
        .iter()
        .filter_map(|d| {
            let open = d
                .needed
                .saturating_sub(on.get(d.id.as_str()).copied().unwrap_or(0));
            (open > 0).then(|| Open {
                d,
                open,
                night: rules.is_night(d),
                day: (d.start.date() - week.start).num_days(),
                buddy: buddy(&assigned, d),
            })
        })
        .collect();
    v.sort_by(|a, b| (a.d.start, &a.d.id).cmp(&(b.d.start, &b.d.id)));
    v
}

fn team_average_nights(week: &Week, rules: &RulePack) -> f64 {
    if week.employees.is_empty() {
        return 0.0;
    }
    let by_id: BTreeMap<_, _> = week.demand.iter().map(|x| (x.id.as_str(), x)).collect();
    let nights = week
        .assignments
        .iter()
        .filter(|a| {
            by_id
                .get(a.demand.as_str())
                .is_some_and(|d| rules.is_night(d))
        })
        .count();
    nights as f64 / week.employees.len() as f64
}

/// How much taking an open shift is worth: its hours, weighted by how understaffed it is, plus
/// the preference bonus.
fn worth(o: &Open, hire: &NewHire, rules: &RulePack) -> f64 {
    let h = o.d.hours();
    let cover = h * f64::from(o.open) / f64::from(o.d.needed);
    let prefers = hire.availability.prefers.contains(&rules.part(o.d));
    cover
        + if prefers {
            rules.weights.preference * h
        } else {
            0.0
        }
}

/// Places `hire` on `week`'s open shifts under `rules`. The same input gives the same roster.
pub fn solve_new_hire(
    week: &Week,
    hire: &NewHire,
    rules: &RulePack,
) -> Result<Roster, RosterError> {
    validate_week(week, None, rules)?;
    let open = open_shifts(week, rules);
    let avg = team_average_nights(week, rules);
    let blocked: Vec<Option<(Rule, String)>> = open.iter().map(|o| unary(o, hire, rules)).collect();
    let eligible: Vec<usize> = (0..open.len()).filter(|i| blocked[*i].is_none()).collect();

    let (taken, optimal) = if eligible.is_empty() {
        (vec![], true)
    } else {
        choose(&open, &eligible, hire, rules, avg)?
    };

    let chosen = Chosen::new(&open, &taken);
    let mut shifts = Vec::new();
    let mut prev_end: Option<NaiveDateTime> = None;
    for &i in &taken {
        let o = &open[i];
        shifts.push(Placement {
            demand: o.d.id.clone(),
            start: o.d.start,
            end: o.d.end,
            skill: o.d.skill.clone(),
            location: o.d.location.clone(),
            hours: o.d.hours(),
            night: o.night,
            open_before: o.open,
            needed: o.d.needed,
            preferred: hire.availability.prefers.contains(&rules.part(o.d)),
            buddy: o.buddy.clone(),
            rest_before_hours: prev_end.map(|e| (o.d.start - e).num_minutes() as f64 / 60.0),
            checked: Rule::HARD.to_vec(),
        });
        prev_end = Some(o.d.end);
    }
    let mut unfilled = Vec::new();
    for (i, o) in open.iter().enumerate() {
        let took = taken.contains(&i);
        let left = o.open - u32::from(took);
        if left == 0 {
            continue;
        }
        let (rule, reason) = match (&blocked[i], took) {
            (Some(b), _) => b.clone(),
            (None, true) => (
                Rule::Overlap,
                format!(
                    "the new hire takes one of its {} open places; one person cannot take two",
                    o.open
                ),
            ),
            (None, false) => why_not(o, &chosen, hire, rules, avg),
        };
        unfilled.push(Unfilled {
            demand: o.d.id.clone(),
            start: o.d.start,
            end: o.d.end,
            skill: o.d.skill.clone(),
            location: o.d.location.clone(),
            open: left,
            needed: o.d.needed,
            rule,
            reason,
        });
    }
    let nights = taken.iter().filter(|i| open[**i].night).count() as u32;
    let objective = taken
        .iter()
        .map(|i| worth(&open[*i], hire, rules))
        .sum::<f64>()
        - rules.weights.extra_night * (f64::from(nights) - avg.floor()).max(0.0)
        + shifts
            .first()
            .filter(|p| p.buddy.is_some())
            .map_or(0.0, |_| rules.weights.buddy_first_shift);
    Ok(Roster {
        candidate: hire.id.clone(),
        first_name: hire.first_name.clone(),
        week_start: week.start,
        region: rules.region.clone(),
        hours: shifts.iter().map(|p| p.hours).sum(),
        nights,
        team_average_nights: (avg * 100.0).round() / 100.0,
        objective: (objective * 1000.0).round() / 1000.0,
        optimal,
        shifts,
        unfilled,
    })
}

/// The new hire's programme: variable `k` (for `k < eligible.len()`) is taking
/// `open[eligible[k]]`; then whole nights above the team's average, then one "this is the
/// first shift" indicator per shift with a buddy.
pub(crate) fn model(
    open: &[Open],
    eligible: &[usize],
    hire: &NewHire,
    rules: &RulePack,
    avg: f64,
) -> Lp {
    let mut lp = Lp::default();
    let w = &rules.weights;
    let x: Vec<usize> = eligible
        .iter()
        .map(|i| lp.binary(worth(&open[*i], hire, rules)))
        .collect();
    let extra = lp.var(0.0, 7.0, true, -w.extra_night);
    let first: Vec<Option<usize>> = eligible
        .iter()
        .map(|i| {
            open[*i]
                .buddy
                .is_some()
                .then(|| lp.binary(w.buddy_first_shift))
        })
        .collect();
    let shifts: Vec<Candidate> = eligible
        .iter()
        .zip(&x)
        .map(|(i, v)| (*v, open[*i].d, open[*i].day, open[*i].night))
        .collect();
    let mut nights = person_rows(&mut lp, &shifts, &hire.contract, rules);
    // Fairness: each whole night above the team's average costs.
    nights.push((extra, -1.0));
    lp.le(nights, avg.floor());
    // The buddy bonus counts only for the first shift taken.
    let mut firsts = vec![];
    for (k, f) in first.iter().enumerate() {
        let Some(f) = *f else { continue };
        firsts.push((f, 1.0));
        lp.le(vec![(f, 1.0), (x[k], -1.0)], 0.0);
        for (j, i) in eligible.iter().enumerate() {
            if open[*i].d.start < open[eligible[k]].d.start {
                lp.le(vec![(f, 1.0), (x[j], 1.0)], 1.0);
            }
        }
    }
    lp.le(firsts, 1.0);
    lp
}

/// Solves the programme; returns the taken indices into `open`, in time order.
fn choose(
    open: &[Open],
    eligible: &[usize],
    hire: &NewHire,
    rules: &RulePack,
    avg: f64,
) -> Result<(Vec<usize>, bool), RosterError> {
    let s = model(open, eligible, hire, rules, avg).solve(None)?;
    let taken = eligible
        .iter()
        .enumerate()
        .filter(|(k, _)| s.values[*k] > 0.5)
        .map(|(_, i)| *i)
        .collect();
    Ok((taken, s.optimal))
}

/// The new hire's programme exactly as [`solve_new_hire`] solves it (for the benchmark's peer).
pub fn new_hire_model(week: &Week, hire: &NewHire, rules: &RulePack) -> Result<Lp, RosterError> {
    validate_week(week, None, rules)?;
    let open = open_shifts(week, rules);
    let avg = team_average_nights(week, rules);
    let eligible: Vec<usize> = (0..open.len())
        .filter(|i| unary(&open[*i], hire, rules).is_none())
        .collect();
    Ok(model(&open, &eligible, hire, rules, avg))
}

/// The word the results use for a part of the day.
pub(crate) fn part_word(p: DayPart) -> &'static str {
    match p {
        DayPart::Morning => "morning",
        DayPart::Afternoon => "afternoon",
        DayPart::Night => "night",
    }
}

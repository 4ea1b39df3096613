//! A whole store's week solved again with everyone movable: who works which shift so that as
//! many hours as possible are covered under every contract and the region's rules. Stops at a
//! time limit with the gap to the best bound stated.

use std::collections::BTreeMap;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::RosterError;
use crate::lp::Lp;
use crate::model::{Assignment, Week};
use crate::rows::{Candidate, person_rows};
use crate::rules::RulePack;
use crate::validate::validate_week;

/// A store's week re-solved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreWeek {
    /// Who works what, by demand then employee.
    pub assignments: Vec<Assignment>,
    /// Hours of demand covered.
    pub covered_hours: f64,
    /// Hours of demand left uncovered.
    pub open_hours: f64,
    /// The objective (covered hours, less half an hour per night beyond two a head).
    pub objective: f64,
    /// Proven optimal.
    pub optimal: bool,
    /// Relative gap to the best bound when stopped by the time limit.
    pub gap: Option<f64>,
}

/// (variable, employee index, demand index).
pub type Pair = (usize, usize, usize);

/// The whole-store programme: one binary per (employee, shift) the one-shift rules allow, listed
/// as (variable, index into `week.employees`, index into `week.demand`).
pub fn store_model(week: &Week, rules: &RulePack) -> Result<(Lp, Vec<Pair>), RosterError> {
    validate_week(week, None, rules)?;
    let mut demand: Vec<usize> = (0..week.demand.len()).collect();
    demand.sort_by(|a, b| {
        (week.demand[*a].start, &week.demand[*a].id)
            .cmp(&(week.demand[*b].start, &week.demand[*b].id))
    });
    let mut employees: Vec<usize> = (0..week.employees.len()).collect();
    employees.sort_by(|a, b| week.employees[*a].id.cmp(&week.employees[*b].id));
    let mut lp = Lp::default();
    let mut pairs = vec![];
    let mut by_shift: BTreeMap<usize, Vec<(usize, f64)>> = BTreeMap::new();
    for &e in &employees {
        let emp = &week.employees[e];
        let mut mine: Vec<(usize, usize)> = vec![];
        for &s in &demand {
            let d = &week.demand[s];
            let night = rules.is_night(d);
            if !emp.skills.contains(&d.skill)
                || emp.unavailable.contains(&d.start.date())
                || (night && !emp.contract.nights_allowed)
                || d.hours() > emp.contract.max_hours_week
            {
                continue;
            }
            let v = lp.binary(d.hours());
            pairs.push((v, e, s));
            by_shift.entry(s).or_default().push((v, 1.0));
            mine.push((s, v));
        }
        let shifts: Vec<Candidate> = mine
            .iter()
            .map(|(s, v)| {
                let d = &week.demand[*s];
                (
                    *v,
                    d,
                    (d.start.date() - week.start).num_days(),
                    rules.is_night(d),
                )
            })
            .collect();
        let mut nights = person_rows(&mut lp, &shifts, &emp.contract, rules);
        // Half an hour's worth per night beyond the second, so nights spread across the team.
        if nights.len() > 2 {
            let extra = lp.var(0.0, 7.0, true, -0.5);
            nights.push((extra, -1.0));
            lp.le(nights, 2.0);
        }
    }
    for (s, terms) in by_shift {
        lp.le(terms, f64::from(week.demand[s].needed));
    }
    Ok((lp, pairs))
}

/// Re-solves `week` with every assignment movable, stopping after `time_limit` with the gap.
pub fn solve_store(
    week: &Week,
    rules: &RulePack,
    time_limit: Duration,
) -> Result<StoreWeek, RosterError> {
    let (lp, pairs) = store_model(week, rules)?;
    let s = lp.solve(Some(time_limit))?;
    let mut assignments = vec![];
    let mut covered = 0.0;
    for (v, e, d) in &pairs {
        if s.values[*v] > 0.5 {
            covered += week.demand[*d].hours();
            assignments.push(Assignment {
                demand: week.demand[*d].id.clone(),
                employee: week.employees[*e].id.clone(),
            });
        }
    }
    assignments.sort_by(|a, b| (&a.demand, &a.employee).cmp(&(&b.demand, &b.employee)));
    let total: f64 = week
        .demand
        .iter()
        .map(|d| d.hours() * f64::from(d.needed))
        .sum();
    Ok(StoreWeek {
        assignments,
        covered_hours: covered,
        open_hours: total - covered,
        objective: (s.objective * 1000.0).round() / 1000.0,
        optimal: s.optimal,
        gap: s.gap,
    })
}

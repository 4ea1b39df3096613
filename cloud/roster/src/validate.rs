//! Checks a store's week before it is stored or solved, naming the row to fix: unknown skills,
//! shifts that end before they start or fall outside the week, impossible contracts, and
//! assignments that overlap or exceed what a shift needs.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;

use crate::RosterError;
use crate::model::{Contract, Week};
use crate::rules::RulePack;

fn err<T>(msg: String) -> Result<T, RosterError> {
    Err(RosterError::Week(msg))
}

/// Whether a contract can be worked at all.
pub(crate) fn contract_problem(c: &Contract) -> Option<String> {
    if !c.max_hours_week.is_finite() || c.max_hours_week <= 0.0 || c.max_hours_week > 168.0 {
        return Some(format!(
            "max_hours_week {} is not between 0 and 168",
            c.max_hours_week
        ));
    }
    (c.max_shifts_day == 0).then(|| "max_shifts_day is 0".to_string())
}

/// Checks `week`; `skills`, when given, is every skill the tenant knows.
pub fn validate_week(
    week: &Week,
    skills: Option<&BTreeSet<String>>,
    rules: &RulePack,
) -> Result<(), RosterError> {
    let end = week.start + Duration::days(7);
    let mut employees = BTreeMap::new();
    for (i, e) in week.employees.iter().enumerate() {
        if e.id.trim().is_empty() {
            // By position: names stay out of errors, which are logged.
            return err(format!("employee number {} has no id", i + 1));
        }
        if employees.insert(e.id.as_str(), e).is_some() {
            return err(format!("employee {} is listed twice", e.id));
        }
        if let Some(why) = contract_problem(&e.contract) {
            return err(format!("employee {}: {why}", e.id));
        }
        if let Some(s) = skills
            && let Some(bad) = e.skills.iter().find(|k| !s.contains(*k))
        {
            return err(format!(
                "employee {} has skill {bad:?}, which is not one of the tenant's skills ({})",
                e.id,
                s.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let mut demand = BTreeMap::new();
    for d in &week.demand {
        if demand.insert(d.id.as_str(), d).is_some() {
            return err(format!("shift {} is listed twice", d.id));
        }
        if d.end <= d.start {
            return err(format!(
                "shift {} ends ({}) before it starts ({})",
                d.id, d.end, d.start
            ));
        }
        if d.end - d.start > Duration::hours(24) {
            return err(format!("shift {} is longer than 24 hours", d.id));
        }
        if d.start.date() < week.start || d.start.date() >= end {
            return err(format!(
                "shift {} starts {}, outside the week {} to {}",
                d.id,
                d.start,
                week.start,
                end - Duration::days(1)
            ));
        }
        if d.needed == 0 {
            return err(format!("shift {} needs 0 people", d.id));
        }
        if let Some(s) = skills
            && !s.contains(&d.skill)
        {
            return err(format!(
                "shift {} needs skill {:?}, which is not one of the tenant's skills ({})",
                d.id,
                d.skill,
                s.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let mut on: BTreeMap<&str, u32> = BTreeMap::new();
    let mut by_employee: BTreeMap<&str, Vec<&crate::Demand>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for a in &week.assignments {
        let Some(d) = demand.get(a.demand.as_str()) else {
            return err(format!(
                "an assignment names shift {}, which is not in the week",
                a.demand
            ));
        };
        let Some(e) = employees.get(a.employee.as_str()) else {
            return err(format!(
                "shift {} is assigned to employee {}, who is not in the week",
                a.demand, a.employee
            ));
        };
        if !seen.insert((a.demand.as_str(), a.employee.as_str())) {
            return err(format!(
                "employee {} is assigned to shift {} twice",
                a.employee, a.demand
            ));
        }
        if !e.skills.contains(&d.skill) {
            return err(format!(
                "employee {} is assigned to shift {}, which needs {:?} they do not have",
                e.id, d.id, d.skill
            ));
        }
        let n = on.entry(d.id.as_str()).or_default();
        *n += 1;
        if *n > d.needed {
            return err(format!(
                "shift {} needs {} but has more assigned",
                d.id, d.needed
            ));
        }
        let mine = by_employee.entry(e.id.as_str()).or_default();
        if let Some(o) = mine.iter().find(|o| o.start < d.end && d.start < o.end) {
            return err(format!(
                "employee {} is on overlapping shifts {} and {}",
                e.id, o.id, d.id
            ));
        }
        mine.push(d);
    }
    rules.validate()
}

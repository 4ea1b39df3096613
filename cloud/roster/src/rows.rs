//! The rows every person's shifts share, in the new hire's programme and the whole store's:
//! no two conflicting shifts (overlap, rest), weekly hours, shifts a day, and nights in every
//! window one day longer than the rule allows in a row.

use std::collections::BTreeMap;

use crate::lp::Lp;
use crate::model::{Contract, Demand};
use crate::rules::RulePack;

/// One shift a person may take: its variable, the shift, its day in the week, and whether it is
/// a night shift.
pub(crate) type Candidate<'a> = (usize, &'a Demand, i64, bool);

/// Adds one person's rows to `lp`; returns the terms counting their nights (for the caller's
/// fairness or spread row).
pub(crate) fn person_rows(
    lp: &mut Lp,
    shifts: &[Candidate],
    contract: &Contract,
    rules: &RulePack,
) -> Vec<(usize, f64)> {
    for (i, (va, a, _, _)) in shifts.iter().enumerate() {
        for (vb, b, _, _) in &shifts[i + 1..] {
            if rules.conflict(a, b).is_some() {
                lp.le(vec![(*va, 1.0), (*vb, 1.0)], 1.0);
            }
        }
    }
    lp.le(
        shifts.iter().map(|(v, d, _, _)| (*v, d.hours())).collect(),
        contract.max_hours_week,
    );
    let mut per_day: BTreeMap<i64, Vec<(usize, f64)>> = BTreeMap::new();
    let mut nights_day: BTreeMap<i64, Vec<(usize, f64)>> = BTreeMap::new();
    let mut nights = vec![];
    for (v, _, day, night) in shifts {
        per_day.entry(*day).or_default().push((*v, 1.0));
        if *night {
            nights_day.entry(*day).or_default().push((*v, 1.0));
            nights.push((*v, 1.0));
        }
    }
    for (_, terms) in per_day {
        lp.le(terms, f64::from(contract.max_shifts_day));
    }
    let run = i64::from(rules.max_consecutive_nights);
    for &start in nights_day.keys() {
        let window = (start..=start + run)
            .filter_map(|d| nights_day.get(&d))
            .flatten()
            .copied()
            .collect();
        lp.le(window, run as f64);
    }
    nights
}

//! A deterministic sample store for benchmarks and demos: 50 employees (cashiers, stock staff,
//! some both; full- and part-time; some without night work; a few days off), 3 shift types × 2
//! skills over 7 days, with more places than the staff can fill.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};

use crate::model::{Contract, Demand, Employee, Week};

/// The sample store's week from `start`, with no one assigned yet.
pub fn store_week(start: NaiveDate) -> Week {
    let employees = (0..50u32)
        .map(|i| {
            let skills: BTreeSet<String> = match i {
                0..30 => ["cashier"].as_slice(),
                30..45 => &["stock"],
                _ => &["cashier", "stock"],
            }
            .iter()
            .map(|s| s.to_string())
            .collect();
            let mut unavailable = BTreeSet::new();
            if (i * 7) % 10 < 3 {
                unavailable.insert(start + Duration::days(i64::from(i % 7)));
            }
            Employee {
                id: format!("e{i:02}"),
                first_name: format!("Staff{i:02}"),
                skills,
                contract: Contract {
                    max_hours_week: if i % 3 == 0 { 24.0 } else { 40.0 },
                    max_shifts_day: 1,
                    nights_allowed: i % 4 != 0,
                },
                unavailable,
                experienced: i % 5 == 0,
            }
        })
        .collect();
    let mut demand = vec![];
    for day in 0..7 {
        let date = start + Duration::days(day);
        for (skill, part, from, needed) in [
            ("cashier", "am", 6, 10),
            ("cashier", "pm", 14, 10),
            ("stock", "am", 6, 5),
            ("stock", "pm", 14, 5),
            ("stock", "night", 22, 4),
        ] {
            let Some(s) = date.and_hms_opt(from, 0, 0) else {
                continue;
            };
            demand.push(Demand {
                id: format!("d{day}-{skill}-{part}"),
                start: s,
                end: s + Duration::hours(8),
                skill: skill.into(),
                needed,
                location: String::new(),
            });
        }
    }
    Week {
        start,
        employees,
        demand,
        assignments: vec![],
    }
}

//! The rostering core against the brief's nurse ward and one case per hard rule: each builds a
//! week where breaking the rule would fill more, and checks the rule held and was named.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use cloud_roster::{
    Assignment, Availability, Contract, DayKind, DayPart, Demand, Employee, NewHire, Roster,
    RosterError, Rule, RulePack, Week, solve_new_hire, validate_week,
};

/// What the kiosk read: these parts of the day and days.
fn kiosk_availability(parts: &[DayPart], days: &[DayKind]) -> kiosk_screening::Availability {
    kiosk_screening::Availability {
        parts: parts.iter().copied().collect(),
        days: days.iter().copied().collect(),
    }
}

fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
}

fn at(day: i64, h: u32) -> NaiveDateTime {
    (monday() + Duration::days(day))
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

fn shift(id: &str, day: i64, from: u32, hours: i64, skill: &str, needed: u32) -> Demand {
    let start = at(day, from);
    Demand {
        id: id.into(),
        start,
        end: start + Duration::hours(hours),
        skill: skill.into(),
        needed,
        location: "Ward 3".into(),
    }
}

fn contract(max_hours: f64) -> Contract {
    Contract {
        max_hours_week: max_hours,
        max_shifts_day: 1,
        nights_allowed: true,
    }
}

fn skills(s: &[&str]) -> BTreeSet<String> {
    s.iter().map(|x| x.to_string()).collect()
}

fn nurse(id: &str, name: &str, experienced: bool) -> Employee {
    Employee {
        id: id.into(),
        first_name: name.into(),
        skills: skills(&["nurse"]),
        contract: contract(48.0),
        unavailable: BTreeSet::new(),
        experienced,
    }
}

fn hire(availability: Availability, c: Contract) -> NewHire {
    NewHire {
        id: "cand-1".into(),
        first_name: "Mei".into(),
        skills: skills(&["nurse"]),
        contract: c,
        availability,
        unavailable: BTreeSet::new(),
    }
}

fn week(demand: Vec<Demand>) -> Week {
    Week {
        start: monday(),
        employees: vec![nurse("e1", "Li", true)],
        demand,
        assignments: vec![],
    }
}

fn taken(r: &Roster) -> Vec<&str> {
    r.shifts.iter().map(|p| p.demand.as_str()).collect()
}

fn reason(r: &Roster, id: &str) -> Rule {
    r.unfilled
        .iter()
        .find(|u| u.demand == id)
        .unwrap_or_else(|| panic!("{id} not unfilled: {r:#?}"))
        .rule
}

/// The brief's ward: 20 nurses, 12 h days 08:00–20:00 and nights 20:00–08:00, every shift
/// staffed but two nights with one place each.
fn ward() -> Week {
    let employees: Vec<Employee> = (0..20)
        .map(|i| nurse(&format!("n{i:02}"), &format!("Nurse{i:02}"), i % 4 == 0))
        .collect();
    let mut demand = vec![];
    let mut assignments = vec![];
    let mut next = 0usize;
    for day in 0..7 {
        for (kind, from, needed) in [("day", 8, 3u32), ("night", 20, 2u32)] {
            let id = format!("{kind}-{day}");
            demand.push(shift(&id, day, from, 12, "nurse", needed));
            let open = u32::from(kind == "night" && (day == 1 || day == 4));
            for _ in 0..needed - open {
                assignments.push(Assignment {
                    demand: id.clone(),
                    employee: format!("n{:02}", next % 20),
                });
                next += 1;
            }
        }
    }
    Week {
        start: monday(),
        employees,
        demand,
        assignments,
    }
}

#[test]
fn a_nurse_who_accepts_nights_gets_the_two_open_nights_with_rest_between() {
    let r = solve_new_hire(
        &ward(),
        &hire(Availability::default(), contract(40.0)),
        &RulePack::default(),
    )
    .unwrap();
    assert_eq!(taken(&r), ["night-1", "night-4"], "{r:#?}");
    assert!(r.unfilled.is_empty(), "{r:#?}");
    assert!(r.optimal);
    assert!(r.shifts.iter().all(|p| p.night && p.hours == 12.0));
    assert!(r.shifts[1].rest_before_hours.unwrap() >= 11.0, "{r:#?}");
    assert_eq!(r.shifts[0].start, at(1, 20));
    assert_eq!(r.shifts[0].end, at(2, 8));
    assert!(
        r.shifts.iter().any(|p| p.buddy.is_some()),
        "an experienced nurse is on those nights"
    );
}

#[test]
fn a_nurse_who_refuses_nights_gets_no_night_and_each_open_night_says_why() {
    let refuses = Availability {
        can: kiosk_availability(&[DayPart::Morning, DayPart::Afternoon], &[]),
        ..Default::default()
    };
    let r = solve_new_hire(
        &ward(),
        &hire(refuses, contract(40.0)),
        &RulePack::default(),
    )
    .unwrap();
    assert!(r.shifts.is_empty(), "no day shift is open: {r:#?}");
    assert_eq!(reason(&r, "night-1"), Rule::Availability);
    assert_eq!(reason(&r, "night-4"), Rule::Availability);
    assert!(
        r.unfilled[0].reason.contains("night"),
        "{}",
        r.unfilled[0].reason
    );
    assert!(
        r.unfilled.iter().all(|u| !u.reason.contains("Mei")),
        "reasons never name the new hire: {r:#?}"
    );

    // The same nurse with an open day shift gets it.
    let mut w = ward();
    let first = w
        .assignments
        .iter()
        .position(|a| a.demand == "day-2")
        .unwrap();
    w.assignments.remove(first);
    let r = solve_new_hire(
        &w,
        &hire(
            Availability {
                can: kiosk_availability(&[DayPart::Morning], &[]),
                ..Default::default()
            },
            contract(40.0),
        ),
        &RulePack::default(),
    )
    .unwrap();
    assert_eq!(taken(&r), ["day-2"]);

    // A contract without night work says so.
    let mut c = contract(40.0);
    c.nights_allowed = false;
    let r = solve_new_hire(
        &ward(),
        &hire(Availability::default(), c),
        &RulePack::default(),
    )
    .unwrap();
    assert!(r.shifts.is_empty());
    assert_eq!(reason(&r, "night-1"), Rule::NightWork);
}

#[test]
fn skill_a_shift_needing_a_licence_the_hire_lacks_stays_open() {
    let w = week(vec![
        shift("ward", 0, 8, 8, "nurse", 1),
        shift("till", 1, 8, 8, "cashier", 1),
    ]);
    let mut h = hire(Availability::default(), contract(40.0));
    h.skills = skills(&["cashier"]);
    let r = solve_new_hire(&w, &h, &RulePack::default()).unwrap();
    assert_eq!(taken(&r), ["till"]);
    assert_eq!(reason(&r, "ward"), Rule::Skill);
}

#[test]
fn availability_days_keep_a_weekday_only_hire_off_the_weekend() {
    let w = week(vec![
        shift("fri", 4, 8, 8, "nurse", 1),
        shift("sat", 5, 8, 8, "nurse", 1),
    ]);
    let a = Availability {
        can: kiosk_availability(&[], &[DayKind::Weekdays]),
        ..Default::default()
    };
    let r = solve_new_hire(&w, &hire(a, contract(40.0)), &RulePack::default()).unwrap();
    assert_eq!(taken(&r), ["fri"]);
    assert_eq!(reason(&r, "sat"), Rule::Availability);
}

#[test]
fn unavailable_dates_are_kept_free() {
    let w = week(vec![
        shift("mon", 0, 8, 8, "nurse", 1),
        shift("tue", 1, 8, 8, "nurse", 1),
    ]);
    let mut h = hire(Availability::default(), contract(40.0));
    h.unavailable.insert(monday());
    let r = solve_new_hire(&w, &h, &RulePack::default()).unwrap();
    assert_eq!(taken(&r), ["tue"]);
    assert_eq!(reason(&r, "mon"), Rule::Unavailable);
}

#[test]
fn overlap_two_open_shifts_at_once_give_one() {
    let w = week(vec![
        shift("a", 0, 8, 8, "nurse", 1),
        shift("b", 0, 12, 8, "nurse", 1),
    ]);
    let mut c = contract(40.0);
    c.max_shifts_day = 2;
    let r = solve_new_hire(&w, &hire(Availability::default(), c), &RulePack::default()).unwrap();
    assert_eq!(r.shifts.len(), 1, "{r:#?}");
    let other = if taken(&r) == ["a"] { "b" } else { "a" };
    assert_eq!(reason(&r, other), Rule::Overlap);
}

#[test]
fn min_rest_no_day_shift_six_hours_after_a_night() {
    // Night Mon 20:00 – Tue 08:00 (12 h, worth more) and Tue 14:00 – 22:00: 6 h apart.
    let w = week(vec![
        shift("night", 0, 20, 12, "nurse", 1),
        shift("late", 1, 14, 8, "nurse", 1),
    ]);
    let r = solve_new_hire(
        &w,
        &hire(Availability::default(), contract(40.0)),
        &RulePack::default(),
    )
    .unwrap();
    assert_eq!(taken(&r), ["night"]);
    assert_eq!(reason(&r, "late"), Rule::MinRest);
    let u = &r.unfilled[0];
    assert!(
        u.reason.contains("6 h") && u.reason.contains("11 h"),
        "{}",
        u.reason
    );

    // A region with 5 h minimum rest allows both.
    let rules = RulePack {
        min_rest_hours: 5.0,
        ..RulePack::default()
    };
    let r = solve_new_hire(&w, &hire(Availability::default(), contract(40.0)), &rules).unwrap();
    assert_eq!(taken(&r), ["night", "late"]);
}

#[test]
fn max_weekly_hours_three_twelves_in_forty_hours() {
    let w = week(
        (0..4)
            .map(|d| shift(&format!("d{d}"), d, 8, 12, "nurse", 1))
            .collect(),
    );
    let r = solve_new_hire(
        &w,
        &hire(Availability::default(), contract(40.0)),
        &RulePack::default(),
    )
    .unwrap();
    assert_eq!(r.shifts.len(), 3, "{r:#?}");
    assert_eq!(r.hours, 36.0);
    assert_eq!(r.unfilled.len(), 1);
    assert_eq!(r.unfilled[0].rule, Rule::MaxWeeklyHours);
    assert!(
        r.unfilled[0].reason.contains("48 h") && r.unfilled[0].reason.contains("40 h"),
        "{}",
        r.unfilled[0].reason
    );
}

#[test]
fn max_shifts_day_one_shift_a_day_when_the_contract_says_so() {
    let w = week(vec![
        shift("early", 0, 7, 4, "nurse", 1),
        shift("late", 0, 18, 4, "nurse", 1),
    ]);
    let rules = RulePack {
        min_rest_hours: 0.0,
        ..RulePack::default()
    };
    let r = solve_new_hire(&w, &hire(Availability::default(), contract(40.0)), &rules).unwrap();
    assert_eq!(r.shifts.len(), 1, "{r:#?}");
    assert_eq!(r.unfilled[0].rule, Rule::MaxShiftsDay);
    let mut c = contract(40.0);
    c.max_shifts_day = 2;
    let r = solve_new_hire(&w, &hire(Availability::default(), c), &rules).unwrap();
    assert_eq!(r.shifts.len(), 2);
}

#[test]
fn max_consecutive_nights_five_open_nights_give_four_with_a_break() {
    let w = week(
        (0..5)
            .map(|d| shift(&format!("n{d}"), d, 20, 12, "nurse", 1))
            .collect(),
    );
    let mut rules = RulePack::default();
    rules.weights.extra_night = 0.0;
    let r = solve_new_hire(&w, &hire(Availability::default(), contract(60.0)), &rules).unwrap();
    assert_eq!(r.shifts.len(), 4, "{r:#?}");
    let days: Vec<i64> = r
        .shifts
        .iter()
        .map(|p| (p.start.date() - monday()).num_days())
        .collect();
    assert!(
        days.windows(4).all(|w| w[3] - w[0] > 3),
        "more than 3 nights in a row: {days:?}"
    );
    assert_eq!(r.unfilled.len(), 1);
    assert_eq!(r.unfilled[0].rule, Rule::MaxConsecutiveNights, "{r:#?}");
}

#[test]
fn fairness_the_newcomer_is_not_handed_the_nights_when_days_are_open() {
    // Equal hours by day or by night; the team works no nights this week.
    let w = week(vec![
        shift("day-mon", 0, 8, 12, "nurse", 1),
        shift("day-tue", 1, 8, 12, "nurse", 1),
        shift("night-thu", 3, 20, 12, "nurse", 1),
        shift("night-fri", 4, 20, 12, "nurse", 1),
    ]);
    let r = solve_new_hire(
        &w,
        &hire(Availability::default(), contract(24.0)),
        &RulePack::default(),
    )
    .unwrap();
    assert_eq!(taken(&r), ["day-mon", "day-tue"], "{r:#?}");
    assert_eq!(r.nights, 0);
}

#[test]
fn buddy_the_first_shift_is_alongside_an_experienced_colleague() {
    let mut w = week(vec![
        shift("mon", 0, 8, 12, "nurse", 2),
        shift("wed", 2, 8, 12, "nurse", 2),
    ]);
    w.employees.push(nurse("e2", "Wang", false));
    w.assignments = vec![
        Assignment {
            demand: "mon".into(),
            employee: "e2".into(),
        },
        Assignment {
            demand: "wed".into(),
            employee: "e1".into(),
        },
    ];
    let r = solve_new_hire(
        &w,
        &hire(Availability::default(), contract(12.0)),
        &RulePack::default(),
    )
    .unwrap();
    assert_eq!(taken(&r), ["wed"], "{r:#?}");
    let b = r.shifts[0].buddy.as_ref().unwrap();
    assert_eq!((b.first_name.as_str(), b.skill.as_str()), ("Li", "nurse"));
}

#[test]
fn a_preferred_part_of_the_day_wins_a_tie() {
    let w = week(vec![
        shift("am", 0, 7, 8, "nurse", 1),
        shift("pm", 2, 14, 8, "nurse", 1),
    ]);
    let a = Availability {
        prefers: [DayPart::Afternoon].into(),
        ..Default::default()
    };
    let r = solve_new_hire(&w, &hire(a, contract(8.0)), &RulePack::default()).unwrap();
    assert_eq!(taken(&r), ["pm"]);
    assert!(r.shifts[0].preferred);
}

#[test]
fn the_same_week_in_another_order_gives_the_same_roster() {
    let h = hire(Availability::default(), contract(40.0));
    let a = solve_new_hire(&ward(), &h, &RulePack::default()).unwrap();
    let mut w = ward();
    w.demand.reverse();
    w.assignments.reverse();
    let b = solve_new_hire(&w, &h, &RulePack::default()).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        a,
        solve_new_hire(&ward(), &h, &RulePack::default()).unwrap()
    );
}

#[test]
fn no_open_shift_is_an_explained_empty_week_and_an_impossible_contract_blocks_each_shift() {
    let mut w = ward();
    for d in &mut w.demand {
        if matches!(d.id.as_str(), "night-1" | "night-4") {
            d.needed = 1;
        }
    }
    let r = solve_new_hire(
        &w,
        &hire(Availability::default(), contract(40.0)),
        &RulePack::default(),
    )
    .unwrap();
    assert!(r.shifts.is_empty() && r.unfilled.is_empty(), "{r:#?}");

    let r = solve_new_hire(
        &ward(),
        &hire(Availability::default(), contract(0.0)),
        &RulePack::default(),
    )
    .unwrap();
    assert!(r.shifts.is_empty());
    assert_eq!(r.unfilled.len(), 2);
    assert!(
        r.unfilled
            .iter()
            .all(|u| u.rule == Rule::MaxWeeklyHours && u.reason.contains("cannot be worked")),
        "{r:#?}"
    );
}

#[test]
fn bad_weeks_name_the_row_to_fix() {
    let rules = RulePack::default();
    let known = skills(&["nurse", "cashier"]);
    let bad = |w: &Week| match validate_week(w, Some(&known), &rules) {
        Err(RosterError::Week(m)) => m,
        other => panic!("{other:?}"),
    };
    let m = bad(&week(vec![shift("x", 0, 8, 8, "surgeon", 1)]));
    assert!(
        m.contains("x") && m.contains("surgeon") && m.contains("cashier, nurse"),
        "{m}"
    );

    let mut backwards = shift("b", 0, 8, 8, "nurse", 1);
    backwards.end = backwards.start - Duration::hours(1);
    assert!(bad(&week(vec![backwards])).contains("before it starts"));

    assert!(bad(&week(vec![shift("late", 7, 8, 8, "nurse", 1)])).contains("outside the week"));

    let mut w = week(vec![
        shift("a", 0, 8, 8, "nurse", 2),
        shift("b", 0, 12, 8, "nurse", 2),
    ]);
    w.assignments = vec![
        Assignment {
            demand: "a".into(),
            employee: "e1".into(),
        },
        Assignment {
            demand: "b".into(),
            employee: "e1".into(),
        },
    ];
    assert!(bad(&w).contains("overlapping shifts a and b"));

    let mut w = week(vec![]);
    w.employees[0].contract.max_hours_week = -4.0;
    assert!(bad(&w).contains("e1") && bad(&w).contains("max_hours_week"));

    // The solver refuses an inconsistent week the same way, and a bad rule pack by field.
    let mut w = week(vec![shift("a", 0, 8, 8, "nurse", 1)]);
    w.assignments = vec![Assignment {
        demand: "a".into(),
        employee: "ghost".into(),
    }];
    assert!(matches!(
        solve_new_hire(&w, &hire(Availability::default(), contract(40.0)), &rules),
        Err(RosterError::Week(_))
    ));
    let broken = RulePack {
        max_consecutive_nights: 0,
        ..RulePack::default()
    };
    let e = solve_new_hire(
        &week(vec![]),
        &hire(Availability::default(), contract(40.0)),
        &broken,
    )
    .unwrap_err();
    assert!(e.to_string().contains("max_consecutive_nights"), "{e}");
}

#[test]
fn a_whole_ward_re_solved_covers_at_least_the_old_rota_and_keeps_every_rule() {
    let w = ward();
    let rules = RulePack::default();
    let r = cloud_roster::solve_store(&w, &rules, std::time::Duration::from_secs(5)).unwrap();
    assert!(r.optimal, "{:?}", r.gap);
    let before = w.assignments.len() as f64 * 12.0;
    assert!(r.covered_hours >= before, "{} < {before}", r.covered_hours);
    assert_eq!(r.open_hours, 0.0, "20 nurses at 48 h can staff the ward");
    let mut again = w.clone();
    again.assignments = r.assignments.clone();
    validate_week(&again, None, &rules).unwrap();
    // Every nurse keeps 11 h between shifts and at most 48 h.
    for e in &w.employees {
        let mut mine: Vec<&Demand> = r
            .assignments
            .iter()
            .filter(|a| a.employee == e.id)
            .map(|a| w.demand.iter().find(|d| d.id == a.demand).unwrap())
            .collect();
        mine.sort_by_key(|d| d.start);
        assert!(mine.len() as f64 * 12.0 <= 48.0, "{}: {}", e.id, mine.len());
        for p in mine.windows(2) {
            assert!(
                p[1].start - p[0].end >= Duration::hours(11),
                "{}: {:?}",
                e.id,
                p
            );
        }
    }
}

//! A region's labour rules (a rule pack from configuration, not code), the names the results
//! give them, and the checks that need only one shift and one person.

use chrono::{Datelike, Duration, NaiveDateTime, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use crate::model::{Availability, DayKind, DayPart, Demand};

/// The hard rules of a region and the weights of the soft ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePack {
    /// e.g. `cn`, `de`.
    pub region: String,
    /// Hours off between the end of one shift and the start of the next.
    #[serde(default = "d_rest")]
    pub min_rest_hours: f64,
    /// Night shifts in a row, at most.
    #[serde(default = "d_nights")]
    pub max_consecutive_nights: u32,
    /// The night window's start (store-local).
    #[serde(default = "d_night_start")]
    pub night_start: NaiveTime,
    /// The night window's end (store-local, the next morning).
    #[serde(default = "d_night_end")]
    pub night_end: NaiveTime,
    /// A shift is a night shift when at least this many of its hours fall in the window.
    #[serde(default = "d_night_hours")]
    pub night_min_hours: f64,
    /// Shifts starting before this are morning shifts, from it afternoon ones.
    #[serde(default = "d_noon")]
    pub afternoon_from: NaiveTime,
    /// The soft rules' weights.
    #[serde(default)]
    pub weights: Weights,
}

/// How much each soft rule counts, in open-shift hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    /// Added per hour of a shift in a part of the day the new hire prefers.
    pub preference: f64,
    /// Taken per night above the team's average nights a head, rounded down.
    pub extra_night: f64,
    /// Added when the first shift is alongside an experienced colleague of the same skill.
    pub buddy_first_shift: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            preference: 0.25,
            extra_night: 2.0,
            buddy_first_shift: 2.0,
        }
    }
}

fn d_rest() -> f64 {
    11.0
}
fn d_nights() -> u32 {
    3
}
fn d_night_start() -> NaiveTime {
    NaiveTime::from_hms_opt(22, 0, 0).unwrap_or_default()
}
fn d_night_end() -> NaiveTime {
    NaiveTime::from_hms_opt(6, 0, 0).unwrap_or_default()
}
fn d_night_hours() -> f64 {
    3.0
}
fn d_noon() -> NaiveTime {
    NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default()
}

impl Default for RulePack {
    fn default() -> Self {
        Self {
            region: "default".into(),
            min_rest_hours: d_rest(),
            max_consecutive_nights: d_nights(),
            night_start: d_night_start(),
            night_end: d_night_end(),
            night_min_hours: d_night_hours(),
            afternoon_from: d_noon(),
            weights: Weights::default(),
        }
    }
}

/// A rule a result names: why a shift was not given, or what was checked for one that was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The shift needs a skill or licence the person does not have.
    Skill,
    /// Outside what they said they can work (part of day, weekdays/weekend).
    Availability,
    /// A day they cannot work.
    Unavailable,
    /// Their contract excludes night work.
    NightWork,
    /// It overlaps another of their shifts.
    Overlap,
    /// Too little rest after or before another of their shifts.
    MinRest,
    /// It would take them over their contract's weekly hours.
    MaxWeeklyHours,
    /// It would take them over their contract's shifts a day.
    MaxShiftsDay,
    /// It would make too many nights in a row.
    MaxConsecutiveNights,
    /// The new hire already has more nights than the team's average (a soft rule).
    Fairness,
    /// Left so the first shift is alongside an experienced colleague (a soft rule).
    Buddy,
}

impl Rule {
    /// The hard rules, in the order they are checked and reported.
    pub const HARD: [Rule; 9] = [
        Rule::Skill,
        Rule::Availability,
        Rule::Unavailable,
        Rule::NightWork,
        Rule::Overlap,
        Rule::MinRest,
        Rule::MaxWeeklyHours,
        Rule::MaxShiftsDay,
        Rule::MaxConsecutiveNights,
    ];
}

impl RulePack {
    /// Checks the pack is usable, naming the field that is not.
    pub fn validate(&self) -> Result<(), crate::RosterError> {
        let bad = |field: &str, why: &str| {
            Err(crate::RosterError::Rules {
                region: self.region.clone(),
                field: field.into(),
                why: why.into(),
            })
        };
        if !(0.0..=48.0).contains(&self.min_rest_hours) {
            return bad("min_rest_hours", "must be between 0 and 48");
        }
        if self.max_consecutive_nights == 0 {
            return bad(
                "max_consecutive_nights",
                "must be at least 1 (use a contract's nights_allowed = false to forbid nights)",
            );
        }
        if !(0.0..=24.0).contains(&self.night_min_hours) {
            return bad("night_min_hours", "must be between 0 and 24");
        }
        let w = &self.weights;
        if [w.preference, w.extra_night, w.buddy_first_shift]
            .iter()
            .any(|x| !x.is_finite() || *x < 0.0)
        {
            return bad("weights", "must be finite and not negative");
        }
        Ok(())
    }

    /// Hours of `[start, end)` inside the night window.
    pub fn night_hours(&self, start: NaiveDateTime, end: NaiveDateTime) -> f64 {
        let mut total = 0;
        // A window opens each evening; the one of the day before covers an early-morning shift.
        let mut day = start.date() - Duration::days(1);
        while day <= end.date() {
            let open = day.and_time(self.night_start);
            let close = if self.night_end > self.night_start {
                day.and_time(self.night_end)
            } else {
                (day + Duration::days(1)).and_time(self.night_end)
            };
            let (a, b) = (open.max(start), close.min(end));
            if b > a {
                total += (b - a).num_minutes();
            }
            day += Duration::days(1);
        }
        total as f64 / 60.0
    }

    /// Whether a shift is a night shift.
    pub fn is_night(&self, d: &Demand) -> bool {
        self.night_hours(d.start, d.end) >= self.night_min_hours.max(1.0 / 60.0)
    }

    /// The shift's part of the day.
    pub fn part(&self, d: &Demand) -> DayPart {
        if self.is_night(d) {
            DayPart::Night
        } else if d.start.time() < self.afternoon_from {
            DayPart::Morning
        } else {
            DayPart::Afternoon
        }
    }

    /// The first of availability's rules a shift breaks, if any.
    pub fn available(&self, a: &Availability, d: &Demand) -> bool {
        let kind = match d.start.weekday() {
            Weekday::Sat | Weekday::Sun => DayKind::Weekend,
            _ => DayKind::Weekdays,
        };
        let can = &a.can;
        (can.parts.is_empty() || can.parts.contains(&self.part(d)))
            && (can.days.is_empty() || can.days.contains(&kind))
    }

    /// Whether two shifts of one person conflict, and by which rule: they overlap, or the rest
    /// between them is too short.
    pub fn conflict(&self, a: &Demand, b: &Demand) -> Option<Rule> {
        if a.start < b.end && b.start < a.end {
            return Some(Rule::Overlap);
        }
        let gap = if a.end <= b.start {
            b.start - a.end
        } else {
            a.start - b.end
        };
        (gap.num_minutes() as f64 / 60.0 < self.min_rest_hours).then_some(Rule::MinRest)
    }
}

//! What a store's week is made of: employees and their contracts, shift demand, the shifts
//! already assigned, and the new hire with what they said at the kiosk about when they can work.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// What an employment contract allows in a week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    /// Hours a week, at most.
    pub max_hours_week: f64,
    /// Shifts starting on one day, at most.
    #[serde(default = "one")]
    pub max_shifts_day: u32,
    /// Whether night shifts may be given at all.
    #[serde(default = "yes")]
    pub nights_allowed: bool,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

/// Someone already on the store's staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Employee {
    /// The store's own id for them.
    pub id: String,
    /// Shown to the new hire as their buddy: first name only.
    pub first_name: String,
    /// Skills and licences, e.g. `nurse`, `cashier`.
    #[serde(default)]
    pub skills: BTreeSet<String>,
    /// Their contract.
    pub contract: Contract,
    /// Days they cannot work.
    #[serde(default)]
    pub unavailable: BTreeSet<NaiveDate>,
    /// Able to show a newcomer the job (a buddy).
    #[serde(default)]
    pub experienced: bool,
}

pub use kiosk_screening::{DayKind, DayPart};

/// When the new hire can work: the kiosk's `availability` answer (its parts and days, the same
/// JSON fields), plus preferences.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    /// Parts of the day and days they can work, as the kiosk read them; empty = any.
    #[serde(flatten)]
    pub can: kiosk_screening::Availability,
    /// Parts of the day they would rather work (a preference, not a rule).
    #[serde(default)]
    pub prefers: BTreeSet<DayPart>,
}

/// The person being placed: a candidate who passed and is now onboarding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewHire {
    /// The HR candidate id.
    pub id: String,
    /// First name, as the roster shows it.
    pub first_name: String,
    /// Skills and licences the role gives them.
    #[serde(default)]
    pub skills: BTreeSet<String>,
    /// Their contract.
    pub contract: Contract,
    /// What they said at the kiosk.
    #[serde(default)]
    pub availability: Availability,
    /// Days they cannot work.
    #[serde(default)]
    pub unavailable: BTreeSet<NaiveDate>,
}

/// A shift the store needs staffed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Demand {
    /// The store's id for this shift.
    pub id: String,
    /// Store-local start.
    pub start: NaiveDateTime,
    /// Store-local end (the next day for a night shift).
    pub end: NaiveDateTime,
    /// The skill or licence it needs.
    pub skill: String,
    /// How many people it needs.
    pub needed: u32,
    /// Where (ward, department, till), shown on the roster.
    #[serde(default)]
    pub location: String,
}

impl Demand {
    /// Length in hours.
    pub fn hours(&self) -> f64 {
        (self.end - self.start).num_minutes() as f64 / 60.0
    }
}

/// An employee already on a shift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// [`Demand::id`].
    pub demand: String,
    /// [`Employee::id`].
    pub employee: String,
}

/// A store's week: who works there, what it needs, who is already on what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Week {
    /// The first of the seven days.
    #[serde(rename = "week_start")]
    pub start: NaiveDate,
    /// The staff.
    #[serde(default)]
    pub employees: Vec<Employee>,
    /// The shifts it needs.
    #[serde(default)]
    pub demand: Vec<Demand>,
    /// Who is already on them.
    #[serde(default)]
    pub assignments: Vec<Assignment>,
}

//! Rostering's pure core: a store's week and a region's rule pack in, a new hire's first week
//! out — which open shifts they get, which stay open and the rule that kept each one open —
//! solved as a mixed-integer programme with `good_lp` on `microlp` (pure Rust). No IO, no clock.

mod explain;
mod lp;
mod model;
mod rows;
mod rules;
pub mod sample;
mod solve;
mod validate;
mod whole;

pub use lp::{Lp, LpSolution, Row, Var};
pub use model::{
    Assignment, Availability, Contract, DayKind, DayPart, Demand, Employee, NewHire, Week,
};
pub use rules::{Rule, RulePack, Weights};
pub use solve::{Buddy, Placement, Roster, Unfilled, new_hire_model, solve_new_hire};
pub use validate::validate_week;
pub use whole::{StoreWeek, solve_store, store_model};

/// Why a week could not be rostered.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RosterError {
    /// The store's week is not consistent; names what to fix.
    #[error("roster data: {0}")]
    Week(String),
    /// The region's rule pack has a value that cannot be used.
    #[error("rule pack {region}: {field} {why}")]
    Rules {
        /// The pack's region.
        region: String,
        /// The field.
        field: String,
        /// What is wrong with it.
        why: String,
    },
    /// The solver failed (it should not on a validated week).
    #[error("solver: {0}")]
    Solver(String),
}

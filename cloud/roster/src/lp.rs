//! A small, solver-neutral linear programme (variables with bounds, a maximised objective, `≤`
//! rows) that the rostering models are written in. It is solved here with `good_lp` on
//! `microlp`, and serialised as is for the benchmark's peer solver, so both solve the same model.

use std::time::Duration;

use good_lp::{
    Expression, ProblemVariables, Solution, SolutionStatus, SolverModel, Variable, WithMipGap,
    WithTimeLimit, microlp, variable,
};
use serde::{Deserialize, Serialize};

use crate::RosterError;

/// One variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Var {
    /// Lower bound.
    pub lb: f64,
    /// Upper bound.
    pub ub: f64,
    /// Integer (binary when the bounds are 0 and 1).
    pub integer: bool,
    /// Objective coefficient (maximised).
    pub obj: f64,
}

/// `Σ coefficient × variable ≤ le`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// (variable index, coefficient).
    pub terms: Vec<(usize, f64)>,
    /// The right-hand side.
    pub le: f64,
}

/// A maximisation programme.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lp {
    /// The variables.
    pub vars: Vec<Var>,
    /// The constraints.
    pub rows: Vec<Row>,
}

/// What the solver found.
#[derive(Debug, Clone, PartialEq)]
pub struct LpSolution {
    /// A value per variable.
    pub values: Vec<f64>,
    /// The objective.
    pub objective: f64,
    /// Proven optimal.
    pub optimal: bool,
    /// Relative gap to the best bound, when stopped early.
    pub gap: Option<f64>,
}

impl Lp {
    /// A binary variable worth `obj`.
    pub fn binary(&mut self, obj: f64) -> usize {
        self.var(0.0, 1.0, true, obj)
    }

    /// A variable.
    pub fn var(&mut self, lb: f64, ub: f64, integer: bool, obj: f64) -> usize {
        self.vars.push(Var {
            lb,
            ub,
            integer,
            obj,
        });
        self.vars.len() - 1
    }

    /// Adds `Σ terms ≤ le` (nothing when `terms` is empty and the row holds).
    pub fn le(&mut self, terms: Vec<(usize, f64)>, le: f64) {
        if !terms.is_empty() {
            self.rows.push(Row { terms, le });
        }
    }

    /// The objective of `values`.
    pub fn objective_of(&self, values: &[f64]) -> f64 {
        self.vars.iter().zip(values).map(|(v, x)| v.obj * x).sum()
    }

    /// Whether `values` keeps every bound and row (within `tol`).
    pub fn feasible(&self, values: &[f64], tol: f64) -> bool {
        values.len() == self.vars.len()
            && self
                .vars
                .iter()
                .zip(values)
                .all(|(v, x)| *x >= v.lb - tol && *x <= v.ub + tol)
            && self
                .rows
                .iter()
                .all(|r| r.terms.iter().map(|(i, c)| c * values[*i]).sum::<f64>() <= r.le + tol)
    }

    /// Solves with `microlp`, stopping at `time_limit` if given.
    pub fn solve(&self, time_limit: Option<Duration>) -> Result<LpSolution, RosterError> {
        let mut pv = ProblemVariables::new();
        let xs: Vec<Variable> = self
            .vars
            .iter()
            .map(|v| {
                let d = variable().min(v.lb).max(v.ub);
                pv.add(if v.integer { d.integer() } else { d })
            })
            .collect();
        let objective: Expression = self.vars.iter().zip(&xs).map(|(v, x)| v.obj * *x).sum();
        let mut model = pv.maximise(objective).using(microlp);
        for r in &self.rows {
            let lhs: Expression = r.terms.iter().map(|(i, c)| *c * xs[*i]).sum();
            model.add_constraint(lhs.leq(r.le));
        }
        if let Some(t) = time_limit {
            model = model.with_time_limit(t.as_secs_f64());
        }
        let model = model
            .with_mip_gap(0.0)
            .map_err(|e| RosterError::Solver(e.to_string()))?;
        let s = model
            .solve()
            .map_err(|e| RosterError::Solver(e.to_string()))?;
        let optimal = matches!(s.status(), SolutionStatus::Optimal);
        let values: Vec<f64> = xs.iter().map(|x| s.value(*x)).collect();
        let gap = if optimal { None } else { s.into_inner().gap() };
        Ok(LpSolution {
            objective: self.objective_of(&values),
            values,
            optimal,
            gap,
        })
    }
}

//! A store's existing rota as CSV (how it usually arrives): `employees.csv`, `shifts.csv` and an
//! optional `assignments.csv`, read into a week with every bad cell named by file, line and
//! column.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use cloud_roster::{Assignment, Contract, Demand, Employee, Week};
use serde::Deserialize;

/// A cell or file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{file} line {line}: {message}")]
pub struct CsvError {
    file: String,
    line: u64,
    message: String,
}

#[derive(Debug, Deserialize)]
struct EmployeeRow {
    id: String,
    first_name: String,
    skills: String,
    max_hours_week: String,
    #[serde(default)]
    max_shifts_day: String,
    #[serde(default)]
    nights_allowed: String,
    #[serde(default)]
    unavailable: String,
    #[serde(default)]
    experienced: String,
}

#[derive(Debug, Deserialize)]
struct ShiftRow {
    id: String,
    start: String,
    end: String,
    skill: String,
    needed: String,
    #[serde(default)]
    location: String,
}

#[derive(Debug, Deserialize)]
struct AssignmentRow {
    shift: String,
    employee: String,
}

fn rows<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<(u64, T)>, CsvError> {
    let file = path.display().to_string();
    let err = |line, message: String| CsvError {
        file: file.clone(),
        line,
        message,
    };
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(path)
        .map_err(|e| err(0, format!("cannot read: {e}")))?;
    let mut out = vec![];
    for rec in r.deserialize::<T>() {
        match rec {
            Ok(row) => out.push((out.len() as u64 + 2, row)),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(err(line, e.to_string()));
            }
        }
    }
    Ok(out)
}

fn list(s: &str) -> impl Iterator<Item = &str> {
    s.split([';', '|']).map(str::trim).filter(|x| !x.is_empty())
}

fn yes(s: &str, default: bool) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "" => Ok(default),
        "yes" | "y" | "true" | "1" | "是" => Ok(true),
        "no" | "n" | "false" | "0" | "否" => Ok(false),
        other => Err(format!("`{other}` is not yes or no")),
    }
}

fn time(s: &str) -> Result<NaiveDateTime, String> {
    [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .ok_or_else(|| format!("`{s}` is not a time like 2026-12-07 20:00"))
}

fn date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date like 2026-12-07"))
}

/// Reads the week starting `start` from the files.
pub fn read(
    start: NaiveDate,
    employees: &Path,
    shifts: &Path,
    assignments: Option<&Path>,
) -> Result<Week, CsvError> {
    let at = |path: &Path, line: u64, message: String| CsvError {
        file: path.display().to_string(),
        line,
        message,
    };
    let mut week = Week {
        start,
        employees: vec![],
        demand: vec![],
        assignments: vec![],
    };
    for (line, r) in rows::<EmployeeRow>(employees)? {
        let bad = |m: String| at(employees, line, m);
        let max_hours_week = r.max_hours_week.parse().map_err(|_| {
            bad(format!(
                "max_hours_week `{}` is not a number",
                r.max_hours_week
            ))
        })?;
        let max_shifts_day = if r.max_shifts_day.is_empty() {
            1
        } else {
            r.max_shifts_day.parse().map_err(|_| {
                bad(format!(
                    "max_shifts_day `{}` is not a whole number",
                    r.max_shifts_day
                ))
            })?
        };
        let unavailable = list(&r.unavailable)
            .map(date)
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(|m| bad(format!("unavailable: {m}")))?;
        week.employees.push(Employee {
            id: r.id,
            first_name: r.first_name,
            skills: list(&r.skills).map(String::from).collect(),
            contract: Contract {
                max_hours_week,
                max_shifts_day,
                nights_allowed: yes(&r.nights_allowed, true)
                    .map_err(|m| bad(format!("nights_allowed: {m}")))?,
            },
            unavailable,
            experienced: yes(&r.experienced, false)
                .map_err(|m| bad(format!("experienced: {m}")))?,
        });
    }
    for (line, r) in rows::<ShiftRow>(shifts)? {
        let bad = |m: String| at(shifts, line, m);
        week.demand.push(Demand {
            start: time(&r.start).map_err(|m| bad(format!("start: {m}")))?,
            end: time(&r.end).map_err(|m| bad(format!("end: {m}")))?,
            needed: r
                .needed
                .parse()
                .map_err(|_| bad(format!("needed `{}` is not a whole number", r.needed)))?,
            id: r.id,
            skill: r.skill,
            location: r.location,
        });
    }
    if let Some(path) = assignments {
        for (_, r) in rows::<AssignmentRow>(path)? {
            week.assignments.push(Assignment {
                demand: r.shift,
                employee: r.employee,
            });
        }
    }
    Ok(week)
}

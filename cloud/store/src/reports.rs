//! Pass rates per store, role or language, with each group's impact ratio against the best
//! group (the four-fifths rule of bias audits).

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::{Status, Store, StoreError};

/// What to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// Store.
    Store,
    /// Role.
    Role,
    /// Interview language.
    Locale,
}

impl GroupBy {
    /// Parses `store`, `role` or `locale`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "store" => Some(Self::Store),
            "role" => Some(Self::Role),
            "locale" => Some(Self::Locale),
            _ => None,
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::Store => "store_id",
            Self::Role => "role_id",
            Self::Locale => "locale",
        }
    }
}

/// One group's figures.
#[derive(Debug, Clone, Serialize)]
pub struct PassRateRow {
    /// The store, role or language.
    pub group: String,
    /// Candidates per status code.
    pub counts: BTreeMap<String, i64>,
    /// Candidates a person decided on (passed, onboarding or failed).
    pub decided: i64,
    /// Passed or onboarding, over decided; None before any decision.
    pub pass_rate: Option<f64>,
    /// This group's pass rate over the best group's; below 0.8 fails the four-fifths rule.
    pub impact_ratio: Option<f64>,
    /// `impact_ratio < 0.8`.
    pub below_four_fifths: bool,
}

impl Store {
    /// The tenant's pass rates per group since `since`.
    pub async fn pass_rates(
        &self,
        tenant: &str,
        by: GroupBy,
        since: Option<DateTime<FixedOffset>>,
    ) -> Result<Vec<PassRateRow>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {col}, status, count(*) FROM candidates
                     WHERE tenant = $1 AND ($2::timestamptz IS NULL OR interviewed_at >= $2)
                     GROUP BY {col}, status",
                    col = by.column()
                ),
                &[&tenant, &since],
            )
            .await?;
        let mut groups: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for r in &rows {
            let counts = groups.entry(r.get(0)).or_default();
            for s in Status::ALL {
                counts.entry(s.code().to_string()).or_insert(0);
            }
            counts.insert(r.get(1), r.get(2));
        }
        let mut out: Vec<PassRateRow> = groups
            .into_iter()
            .map(|(group, counts)| {
                let n = |s: Status| counts.get(s.code()).copied().unwrap_or(0);
                let passed = n(Status::Passed) + n(Status::Onboarding);
                let decided = passed + n(Status::Failed);
                PassRateRow {
                    group,
                    pass_rate: (decided > 0).then(|| passed as f64 / decided as f64),
                    decided,
                    counts,
                    impact_ratio: None,
                    below_four_fifths: false,
                }
            })
            .collect();
        let best = out
            .iter()
            .filter_map(|r| r.pass_rate)
            .fold(0.0_f64, f64::max);
        for r in &mut out {
            r.impact_ratio = r.pass_rate.filter(|_| best > 0.0).map(|p| p / best);
            r.below_four_fifths = r.impact_ratio.is_some_and(|x| x < 0.8);
        }
        Ok(out)
    }
}

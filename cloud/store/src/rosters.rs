//! Rostering's IO: a store's rota put by HR, the new hire's first week solved (by `cloud-roster`)
//! in the transaction that makes them `onboarding`, re-solved when the rota changes, cancelled
//! when they withdraw; the `roster.published` webhook, and the `roster` downlink to every active
//! device of the store until its health lists the version.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Duration, NaiveDate, Utc};
use cloud_roster::{
    Assignment, Availability, Contract, Employee, NewHire, Roster, RulePack, Week, solve_new_hire,
    validate_week,
};
use deadpool_postgres::Transaction;
use kiosk_protocol::{Downlink, device_base};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::Cached;
use crate::{Store, StoreError, TenantPolicy, webhooks};

/// Unfilled shifts listed in one roster message at most (the body stays well under 64 KiB).
const MAX_UNFILLED: usize = 60;

/// A tenant's rostering settings.
#[derive(Debug, Clone, Default)]
pub struct RosterPolicy {
    /// The region's rule pack.
    pub rules: RulePack,
    /// Every skill the tenant's rotas may name; empty = any.
    pub skills: BTreeSet<String>,
    /// What a new hire of each role brings (`*` for any other role).
    pub terms: HashMap<String, HireTerms>,
}

/// A role's new hire: skills and contract.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HireTerms {
    /// Skills and licences the role gives.
    pub skills: BTreeSet<String>,
    /// The contract.
    pub contract: Contract,
}

/// Why a rota was not accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum RotaRefused {
    /// The tenant has no `[tenant.roster]` settings.
    NotConfigured,
    /// The rota is not consistent: what to fix.
    Invalid(String),
}

/// A roster due to be (re)sent to a device.
#[derive(Debug, Clone)]
pub struct DueRoster {
    /// The device's topic base.
    pub device_base: String,
    /// The document for `{base}/down/roster`, keyed by the candidate.
    pub downlink: Downlink,
}

impl Store {
    /// Stores a store's rota for a week (replacing what was there), then re-solves every
    /// onboarding new hire of that store whose first week overlaps it. Returns
    /// `{week_start, resolved: [candidate ids]}`.
    pub async fn put_rota(
        &self,
        tenant: &str,
        store: &str,
        week: &Week,
        by: &str,
    ) -> Result<Result<Value, RotaRefused>, StoreError> {
        let policy = self.policy(tenant);
        let Some(rp) = &policy.roster else {
            return Ok(Err(RotaRefused::NotConfigured));
        };
        let known = (!rp.skills.is_empty()).then_some(&rp.skills);
        if let Err(e) = validate_week(week, known, &rp.rules) {
            return Ok(Err(RotaRefused::Invalid(e.to_string())));
        }
        let body = serde_json::to_value(week).unwrap_or(Value::Null);
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        lock_store(&tx, tenant, store).await?;
        tx.run(
            "INSERT INTO roster_weeks (tenant, store_id, week_start, week, put_by) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant, store_id, week_start) DO UPDATE
                 SET week = excluded.week, put_by = excluded.put_by, put_at = now()",
            &[&tenant, &store, &week.start, &body, &by],
        )
        .await?;
        let affected = tx
            .rows(
                "SELECT candidate_id FROM candidates
                 WHERE tenant = $1 AND store_id = $2 AND status = 'onboarding' AND deleted_at IS NULL
                   AND start_date > $3::date - 7 AND start_date < $3::date + 7
                 ORDER BY start_date, candidate_id",
                &[&tenant, &store, &week.start],
            )
            .await?;
        let mut resolved = vec![];
        for r in &affected {
            let id: Uuid = r.get(0);
            solve(&tx, tenant, id, &policy).await?;
            resolved.push(id);
        }
        tx.commit().await?;
        Ok(Ok(
            json!({"store_id": store, "week_start": week.start, "resolved": resolved}),
        ))
    }

    /// A store's rota for the week starting `start`.
    pub async fn rota(
        &self,
        tenant: &str,
        store: &str,
        start: NaiveDate,
    ) -> Result<Option<Value>, StoreError> {
        let client = self.pool.get().await?;
        Ok(client
            .opt(
                "SELECT week FROM roster_weeks WHERE tenant = $1 AND store_id = $2 AND week_start = $3",
                &[&tenant, &store, &start],
            )
            .await?
            .map(|r| r.get(0)))
    }

    /// One of the tenant's candidates' current roster (the body the kiosk and the webhook get).
    pub async fn candidate_roster(
        &self,
        tenant: &str,
        candidate: Uuid,
    ) -> Result<Option<Value>, StoreError> {
        let client = self.pool.get().await?;
        Ok(client
            .opt(
                "SELECT body FROM rosters WHERE tenant = $1 AND candidate_id = $2",
                &[&tenant, &candidate],
            )
            .await?
            .map(|r| r.get(0)))
    }

    /// Rosters whose week has not ended that an active device of their store does not hold
    /// yet and was not sent in the last `resend_after_s` seconds; each is marked sent.
    pub async fn due_rosters(&self, resend_after_s: u64) -> Result<Vec<DueRoster>, StoreError> {
        let client = self.pool.get().await?;
        let secs = resend_after_s as f64;
        let rows = client
            .rows(
                "WITH due AS (
                     SELECT r.candidate_id, r.version, d.device_id
                     FROM rosters r JOIN devices d ON d.tenant = r.tenant AND d.store_id = r.store_id
                                                  AND d.status = 'active'
                     LEFT JOIN device_state s ON s.device_id = d.device_id
                     WHERE r.week_start + 7 > current_date
                       AND coalesce((s.health->'roster_versions'->>r.candidate_id::text)::bigint, 0) < r.version),
                 sent AS (
                     INSERT INTO roster_sends (device_id, candidate_id, version)
                     SELECT device_id, candidate_id, version FROM due
                     ON CONFLICT (device_id, candidate_id, version) DO UPDATE
                         SET sends = roster_sends.sends + 1, last_sent_at = now()
                         WHERE roster_sends.last_sent_at < now() - make_interval(secs => $1)
                     RETURNING device_id, candidate_id, version)
                 SELECT d.tenant, d.store_id, d.device_id, sent.candidate_id, sent.version, r.body
                 FROM sent JOIN devices d ON d.device_id = sent.device_id
                 JOIN rosters r ON r.candidate_id = sent.candidate_id AND r.version = sent.version",
                &[&secs],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| DueRoster {
                device_base: device_base(r.get(0), r.get(1), r.get(2)),
                downlink: Downlink {
                    version: r.get(4),
                    key: r.get::<_, Uuid>(3).to_string(),
                    body: r.get(5),
                },
            })
            .collect())
    }
}

async fn lock_store(tx: &Transaction<'_>, tenant: &str, store: &str) -> Result<(), StoreError> {
    tx.run(
        "SELECT pg_advisory_xact_lock(hashtext('roster/' || $1 || '/' || $2))",
        &[&tenant, &store],
    )
    .await?;
    Ok(())
}

/// A candidate just became `onboarding`: solve their first week (in the caller's transaction).
pub(crate) async fn on_onboarding(
    tx: &Transaction<'_>,
    tenant: &str,
    candidate: Uuid,
    policy: &TenantPolicy,
) -> Result<(), StoreError> {
    if policy.roster.is_none() {
        return Ok(());
    }
    let store: String = tx
        .one(
            "SELECT store_id FROM candidates WHERE candidate_id = $1",
            &[&candidate],
        )
        .await?
        .get(0);
    lock_store(tx, tenant, &store).await?;
    solve(tx, tenant, candidate, policy).await
}

/// A candidate with a roster withdrew: the roster becomes a cancelled version with no shifts.
pub(crate) async fn on_withdrawn(
    tx: &Transaction<'_>,
    tenant: &str,
    candidate: Uuid,
    policy: &TenantPolicy,
) -> Result<(), StoreError> {
    let Some(r) = tx
        .opt(
            "SELECT version, body FROM rosters WHERE candidate_id = $1 FOR UPDATE",
            &[&candidate],
        )
        .await?
    else {
        return Ok(());
    };
    let version = r.get::<_, i64>(0) + 1;
    let mut body: Value = r.get(1);
    body["version"] = json!(version);
    body["state"] = json!("cancelled");
    body["shifts"] = json!([]);
    body["note"] = json!("withdrawn: this roster no longer applies");
    body["solved_at"] = json!(Utc::now());
    tx.run(
        "UPDATE rosters SET version = $2, state = 'cancelled', body = $3, solved_at = now()
         WHERE candidate_id = $1",
        &[&candidate, &version, &body],
    )
    .await?;
    if policy.webhooks {
        webhooks::enqueue(tx, tenant, "roster.published", without_name(body)).await?;
    }
    Ok(())
}

/// The rota from `start` for seven days, made of the stored weeks it spans, with the shifts
/// other new hires of the store already hold as fixed assignments.
async fn week_from(
    tx: &Transaction<'_>,
    tenant: &str,
    store: &str,
    candidate: Uuid,
    start: NaiveDate,
) -> Result<Option<Week>, StoreError> {
    let end = start + Duration::days(7);
    let rows = tx
        .rows(
            "SELECT week FROM roster_weeks WHERE tenant = $1 AND store_id = $2
               AND week_start > $3::date - 7 AND week_start < $4 ORDER BY week_start",
            &[&tenant, &store, &start, &end],
        )
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut employees: BTreeMap<String, Employee> = BTreeMap::new();
    let mut week = Week {
        start,
        employees: vec![],
        demand: vec![],
        assignments: vec![],
    };
    for r in rows {
        let Ok(w) = serde_json::from_value::<Week>(r.get(0)) else {
            continue;
        };
        for e in w.employees {
            employees.insert(e.id.clone(), e);
        }
        let kept: Vec<_> = w
            .demand
            .into_iter()
            .filter(|d| d.start.date() >= start && d.start.date() < end)
            .collect();
        let ids: BTreeSet<&str> = kept.iter().map(|d| d.id.as_str()).collect();
        week.assignments.extend(
            w.assignments
                .into_iter()
                .filter(|a| ids.contains(a.demand.as_str())),
        );
        week.demand.extend(kept);
    }
    // Other new hires' current shifts in these days are taken.
    let others = tx
        .rows(
            "SELECT candidate_id, body FROM rosters
             WHERE tenant = $1 AND store_id = $2 AND candidate_id <> $3 AND state = 'current'
               AND week_start > $4::date - 7 AND week_start < $5",
            &[&tenant, &store, &candidate, &start, &end],
        )
        .await?;
    let mut on: BTreeMap<String, u32> = BTreeMap::new();
    for a in &week.assignments {
        *on.entry(a.demand.clone()).or_default() += 1;
    }
    for r in others {
        let (id, body): (Uuid, Value) = (r.get(0), r.get(1));
        let hire_id = format!("new-hire:{id}");
        for s in body["shifts"].as_array().into_iter().flatten() {
            let demand = s["demand"].as_str().unwrap_or_default();
            let Some(d) = week.demand.iter().find(|d| d.id == demand) else {
                continue;
            };
            let n = on.entry(d.id.clone()).or_default();
            if *n >= d.needed {
                continue;
            }
            *n += 1;
            employees
                .entry(hire_id.clone())
                .or_insert_with(|| Employee {
                    id: hire_id.clone(),
                    first_name: body["employee"]["name"].as_str().unwrap_or("").into(),
                    skills: BTreeSet::new(),
                    contract: Contract {
                        max_hours_week: 168.0,
                        max_shifts_day: 24,
                        nights_allowed: true,
                    },
                    unavailable: BTreeSet::new(),
                    experienced: false,
                })
                .skills
                .insert(d.skill.clone());
            week.assignments.push(Assignment {
                demand: d.id.clone(),
                employee: hire_id.clone(),
            });
        }
    }
    week.employees = employees.into_values().collect();
    Ok(Some(week))
}

/// Solves one onboarding candidate's first week and stores it as their next roster version,
/// with its webhook. Bad or missing rota data gives an explained empty roster, never an error.
async fn solve(
    tx: &Transaction<'_>,
    tenant: &str,
    candidate: Uuid,
    policy: &TenantPolicy,
) -> Result<(), StoreError> {
    let Some(rp) = &policy.roster else {
        return Ok(());
    };
    let c = tx
        .one(
            "SELECT store_id, coalesce(name, receipt), role_id, result->'availability', start_date
             FROM candidates WHERE candidate_id = $1",
            &[&candidate],
        )
        .await?;
    let (store, name, role): (String, String, String) = (c.get(0), c.get(1), c.get(2));
    let availability: Availability = c
        .get::<_, Option<Value>>(3)
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let Some(start) = c.get::<_, Option<NaiveDate>>(4) else {
        return Ok(());
    };
    let terms = rp.terms.get(&role).or_else(|| rp.terms.get("*"));
    let hire = NewHire {
        id: candidate.to_string(),
        first_name: name.clone(),
        skills: terms.map(|t| t.skills.clone()).unwrap_or_default(),
        contract: terms.map_or(
            Contract {
                max_hours_week: 40.0,
                max_shifts_day: 1,
                nights_allowed: true,
            },
            |t| t.contract.clone(),
        ),
        availability,
        unavailable: BTreeSet::new(),
    };
    let mut note = None;
    if terms.is_none() {
        note = Some(format!(
            "cloud.toml has no [tenant.roster.roles] entry for role {role:?} (or \"*\"): the new hire has no skills to place"
        ));
    }
    let empty = |start| Roster {
        candidate: candidate.to_string(),
        first_name: name.clone(),
        week_start: start,
        region: rp.rules.region.clone(),
        shifts: vec![],
        unfilled: vec![],
        hours: 0.0,
        nights: 0,
        team_average_nights: 0.0,
        objective: 0.0,
        optimal: true,
    };
    let roster = match week_from(tx, tenant, &store, candidate, start).await? {
        None => {
            note = Some(format!(
                "store {store} has no rota for {start} to {}: HR can PUT /v1/stores/{store}/roster",
                start + Duration::days(6)
            ));
            empty(start)
        }
        Some(week) => match solve_new_hire(&week, &hire, &rp.rules) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(%candidate, store, "roster not solved: {e}");
                note = Some(format!("the rota could not be used: {e}"));
                empty(start)
            }
        },
    };
    let version = tx
        .opt(
            "SELECT version FROM rosters WHERE candidate_id = $1 FOR UPDATE",
            &[&candidate],
        )
        .await?
        .map_or(1, |r| r.get::<_, i64>(0) + 1);
    let body = body(&roster, candidate, version, note);
    tx.run(
        "INSERT INTO rosters (candidate_id, tenant, store_id, week_start, version, state, body)
         VALUES ($1, $2, $3, $4, $5, 'current', $6)
         ON CONFLICT (candidate_id) DO UPDATE SET store_id = excluded.store_id,
             week_start = excluded.week_start, version = excluded.version, state = 'current',
             body = excluded.body, solved_at = now()",
        &[&candidate, &tenant, &store, &start, &version, &body],
    )
    .await?;
    if policy.webhooks {
        webhooks::enqueue(tx, tenant, "roster.published", without_name(body)).await?;
    }
    Ok(())
}

/// The webhook's copy of a roster: no name (webhook bodies carry ids; HR reads the record with
/// the API), so nothing personal is left in the outbox for a deletion to miss.
fn without_name(mut body: Value) -> Value {
    if let Some(o) = body.as_object_mut() {
        o.remove("first_name");
        o.remove("employee");
    }
    body
}

/// The roster message: what the kiosk shows, HR's webhook carries and the API returns.
fn body(r: &Roster, candidate: Uuid, version: i64, note: Option<String>) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_else(|_| json!({}));
    let more = r.unfilled.len().saturating_sub(MAX_UNFILLED);
    if more > 0 {
        v["unfilled"] = json!(r.unfilled[..MAX_UNFILLED]);
        v["unfilled_more"] = json!(more);
    }
    v["kind"] = json!("roster");
    v["candidate_id"] = json!(candidate);
    v["version"] = json!(version);
    v["state"] = json!("current");
    v["employee"] = json!({"name": r.first_name});
    v["week_end"] = json!(r.week_start + Duration::days(6));
    v["solved_at"] = json!(Utc::now());
    if let Some(n) = note {
        v["note"] = json!(n);
    }
    v
}

//! Rostering over the HR API: `PUT /v1/stores/{store}/roster` stores a week's rota (employees,
//! shift demand, assignments) after checking it, and re-solves the store's new hires it touches;
//! `GET` the same path (`?week_start=`) returns it; `GET /v1/candidates/{id}/roster` returns the
//! new hire's current first week.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::NaiveDate;
use cloud_roster::Week;
use cloud_store::RotaRefused;
use serde::Deserialize;
use serde_json::Value;

use super::{ApiError, ApiState, caller, parse_id};

fn store_id(store: &str) -> Result<(), ApiError> {
    if store.is_empty() || store.contains(['/', '+', '#']) || store.len() > 128 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the store id must be a topic level: not empty, no / + #",
        ));
    }
    Ok(())
}

pub(super) async fn put(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path(store): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let c = caller(&s, &headers)?;
    store_id(&store)?;
    let week: Week = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "not a rota: {e} (expected {{\"week_start\": \"YYYY-MM-DD\", \"employees\": [...], \
                 \"demand\": [{{\"id\", \"start\": \"YYYY-MM-DDTHH:MM:SS\", \"end\", \"skill\", \"needed\"}}], \
                 \"assignments\": [{{\"demand\", \"employee\"}}]}})"
            ),
        )
    })?;
    match s
        .store
        .put_rota(&c.tenant, &store, &week, &format!("HR user {}", c.user))
        .await?
    {
        Ok(v) => Ok(Json(v)),
        Err(RotaRefused::NotConfigured) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "rostering is not set up for this tenant ([tenant.roster] in cloud.toml)",
        )),
        Err(RotaRefused::Invalid(m)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{m}; nothing was stored"),
        )),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct WeekParam {
    week_start: NaiveDate,
}

pub(super) async fn get(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path(store): Path<String>,
    Query(q): Query<WeekParam>,
) -> Result<Json<Value>, ApiError> {
    let c = caller(&s, &headers)?;
    store_id(&store)?;
    s.store
        .rota(&c.tenant, &store, q.week_start)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no rota for store `{store}` in the week of {}",
                    q.week_start
                ),
            )
        })
}

pub(super) async fn candidate(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = caller(&s, &headers)?;
    s.store
        .candidate_roster(&c.tenant, parse_id(&id)?)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no roster for candidate `{id}` (it is solved when they become onboarding)"
                ),
            )
        })
}

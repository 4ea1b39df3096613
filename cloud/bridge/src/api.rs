//! The HR API: JSON over HTTP, `Authorization: Bearer <token>`, every call scoped to the token's
//! tenant (the store's queries take the tenant; a handler cannot forget it).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, NaiveDate};
use cloud_store::{
    CandidateFilter, GroupBy, Status, StatusChange, StatusRefused, Store, StoreError,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::CloudConfig;

mod deletion;
mod enrolment;
mod roles;
mod roster;

/// Who is calling.
#[derive(Debug, Clone)]
struct Caller {
    tenant: String,
    user: String,
}

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct ApiState {
    store: Store,
    tokens: Arc<HashMap<[u8; 32], Caller>>,
    signer: Option<Arc<Signer>>,
}

pub use enrolment::Signer;

impl ApiState {
    /// The store and the tenants' tokens (kept as SHA-256 digests).
    pub fn new(store: Store, config: &CloudConfig) -> Self {
        let tokens = config
            .tenants
            .iter()
            .flat_map(|t| {
                t.tokens.iter().map(|k| {
                    (
                        digest(&k.token),
                        Caller {
                            tenant: t.id.clone(),
                            user: k.user.clone(),
                        },
                    )
                })
            })
            .collect();
        Self {
            store,
            tokens: Arc::new(tokens),
            signer: None,
        }
    }

    /// Enrolment, with the fleet CA.
    pub fn with_signer(mut self, signer: Signer) -> Self {
        self.signer = Some(Arc::new(signer));
        self
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/candidates", get(list))
        .route("/v1/candidates/{candidate_id}", get(detail))
        .route("/v1/candidates/{candidate_id}/status", post(change_status))
        .route(
            "/v1/candidates/{candidate_id}/deletion",
            post(deletion::request),
        )
        .route("/v1/deletions/{request_id}", get(deletion::show))
        .route(
            "/v1/candidates/{candidate_id}/roster",
            get(roster::candidate),
        )
        .route(
            "/v1/stores/{store}/roster",
            get(roster::get).put(roster::put),
        )
        .route(
            "/v1/tenants/{tenant}/roles/{role_id}",
            get(roles::get).put(roles::put),
        )
        .route("/v1/devices", get(devices))
        .route("/v1/devices/enrolment-tokens", post(enrolment::issue))
        .route("/v1/enroll", post(enrolment::enroll))
        .route("/v1/reports/pass-rates", get(pass_rates))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such endpoint") })
        .with_state(state)
}

/// An error answer: `{"error": message, ...}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    body: Value,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({"error": message.into()}),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!("store: {e}");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the store of record is unavailable; try again shortly",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                "Bearer".parse().expect("static header"),
            );
        }
        r
    }
}

fn caller(state: &ApiState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing `Authorization: Bearer <token>`",
            )
        })?;
    state
        .tokens
        .get(&digest(token.trim()))
        .cloned()
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unknown API token"))
}

fn parse_since(s: Option<&str>) -> Result<Option<DateTime<FixedOffset>>, ApiError> {
    let Some(s) = s.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc().fixed_offset()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("`since` must be a date (2026-12-01) or an RFC 3339 time, not `{s}`"),
            )
        })
}

fn parse_id(s: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s)
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, format!("no candidate `{s}`")))
}

async fn healthz(State(s): State<ApiState>) -> Result<Json<Value>, ApiError> {
    s.store.ping().await?;
    Ok(Json(json!({"ok": true})))
}

#[derive(Debug, Deserialize)]
struct ListParams {
    store: Option<String>,
    role: Option<String>,
    status: Option<String>,
    since: Option<String>,
    limit: Option<i64>,
}

async fn list(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let c = caller(&s, &headers)?;
    let status = match q.status.as_deref().filter(|x| !x.is_empty()) {
        None => None,
        Some(x) => Some(Status::from_code(x).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("unknown status `{x}` (one of {})", codes(&Status::ALL)),
            )
        })?),
    };
    let f = CandidateFilter {
        store: q.store.filter(|x| !x.is_empty()),
        role: q.role.filter(|x| !x.is_empty()),
        status,
        since: parse_since(q.since.as_deref())?,
        limit: q.limit.unwrap_or(500),
    };
    Ok(Json(json!(s.store.candidates(&c.tenant, &f).await?)))
}

async fn detail(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = caller(&s, &headers)?;
    s.store
        .candidate(&c.tenant, parse_id(&id)?)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no candidate `{id}`")))
}

#[derive(Debug, Deserialize)]
struct StatusBody {
    status: String,
    reason: String,
    start_date: Option<NaiveDate>,
}

fn codes(s: &[Status]) -> String {
    s.iter().map(|s| s.code()).collect::<Vec<_>>().join(", ")
}

async fn change_status(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let c = caller(&s, &headers)?;
    let b: StatusBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("body must be {{\"status\": ..., \"reason\": ..., \"start_date\": \"YYYY-MM-DD\"}}: {e}"),
        )
    })?;
    let to = Status::from_code(&b.status).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown status `{}` (one of {})",
                b.status,
                codes(&Status::ALL)
            ),
        )
    })?;
    let change = StatusChange {
        to,
        reason: b.reason,
        actor: format!("HR user {}", c.user),
        start_date: b.start_date,
    };
    match s
        .store
        .change_status(&c.tenant, parse_id(&id)?, &change)
        .await?
    {
        Ok(record) => Ok(Json(record)),
        Err(StatusRefused::NotFound) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no candidate `{id}`"),
        )),
        Err(StatusRefused::Invalid { from, allowed }) => Err(ApiError {
            status: StatusCode::CONFLICT,
            body: json!({
                "error": format!("a `{}` candidate cannot become `{}`", from.code(), to.code()),
                "status": from.code(),
                "allowed": allowed.iter().map(|s| s.code()).collect::<Vec<_>>(),
            }),
        }),
        Err(StatusRefused::MissingStartDate) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "`onboarding` needs a `start_date` (YYYY-MM-DD)",
        )),
        Err(StatusRefused::MissingReason) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "every status change needs a `reason`",
        )),
    }
}

async fn devices(State(s): State<ApiState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let c = caller(&s, &headers)?;
    Ok(Json(json!(s.store.devices(Some(&c.tenant)).await?)))
}

#[derive(Debug, Deserialize)]
struct RateParams {
    group_by: Option<String>,
    since: Option<String>,
}

async fn pass_rates(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<RateParams>,
) -> Result<Json<Value>, ApiError> {
    let c = caller(&s, &headers)?;
    let g = q.group_by.as_deref().unwrap_or("store");
    let by = GroupBy::parse(g).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("`group_by` must be store, role or locale, not `{g}`"),
        )
    })?;
    let rows = s
        .store
        .pass_rates(&c.tenant, by, parse_since(q.since.as_deref())?)
        .await?;
    Ok(Json(
        json!({"group_by": g, "four_fifths_threshold": 0.8, "groups": rows}),
    ))
}

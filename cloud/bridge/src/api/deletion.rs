//! Deletion on request: `POST /v1/candidates/{id}/deletion` removes the candidate's personal data
//! centrally at once and answers 202 with a request id; the device holding the interview is sent
//! the request; `GET /v1/deletions/{id}` says whether it has confirmed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{ApiError, ApiState, caller, parse_id};

pub(super) async fn request(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let c = caller(&s, &headers)?;
    let Some(request) = s
        .store
        .request_deletion(&c.tenant, parse_id(&id)?, &format!("HR user {}", c.user))
        .await?
    else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no candidate `{id}`"),
        ));
    };
    tracing::info!(%request, "deletion requested");
    let url = format!("/v1/deletions/{request}");
    let mut r = (
        StatusCode::ACCEPTED,
        Json(json!({"request_id": request, "status_url": url})),
    )
        .into_response();
    if let Ok(v) = url.parse() {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

pub(super) async fn show(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = caller(&s, &headers)?;
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, format!("no deletion request `{id}`"));
    let request = Uuid::parse_str(&id).map_err(|_| not_found())?;
    s.store
        .deletion(&c.tenant, request)
        .await?
        .map(Json)
        .ok_or_else(not_found)
}

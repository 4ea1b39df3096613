//! Role configuration from HR: `PUT /v1/tenants/{tenant}/roles/{role_id}` (the role file's TOML,
//! or the same as JSON) is checked with the validator the kiosk uses, refused with its errors
//! (file, role, field), or stored as the next version and sent to the tenant's devices;
//! `GET` shows the version and which devices hold it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use kiosk_screening::role::RoleConfig;
use kiosk_screening::validate::{ConfigErrors, parse_role, validate_role};
use serde_json::{Value, json};

use super::{ApiError, ApiState, Caller, caller};

/// The caller's own tenant only: another tenant's path does not exist for it.
fn own_tenant(c: &Caller, tenant: &str) -> Result<(), ApiError> {
    if c.tenant == tenant {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no tenant `{tenant}`"),
        ))
    }
}

fn refused(e: &ConfigErrors) -> ApiError {
    ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        body: json!({
            "error": "the role configuration is not valid; nothing was sent to the devices",
            "errors": e.0.iter().map(|e| json!({
                "file": e.file, "role": e.role, "field": e.field, "message": e.message,
            })).collect::<Vec<_>>(),
        }),
    }
}

/// Parses the body as JSON (by content type, or when it starts with `{`) or as the role file's
/// TOML, and validates it.
fn parse(headers: &HeaderMap, body: &[u8], file: &str) -> Result<RoleConfig, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the body must be UTF-8 text"))?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
        || text.trim_start().starts_with('{');
    if !json {
        return parse_role(text, file).map_err(|e| refused(&e));
    }
    let role: RoleConfig = serde_json::from_str(text).map_err(|e| {
        refused(&ConfigErrors::file(
            file,
            "(file)",
            format!("not a valid role: {e}"),
        ))
    })?;
    validate_role(&role, file).map_err(|e| refused(&e))?;
    Ok(role)
}

pub(super) async fn put(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path((tenant, role_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let c = caller(&s, &headers)?;
    own_tenant(&c, &tenant)?;
    let file = format!("roles/{role_id}");
    let role = parse(&headers, &body, &file)?;
    if role.id != role_id {
        return Err(refused(&ConfigErrors::file(
            &file,
            "id",
            format!(
                "the role's id `{}` is not the `{role_id}` of the path",
                role.id
            ),
        )));
    }
    let value = serde_json::to_value(&role)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("role: {e}")))?;
    let version = s
        .store
        .push_role(&c.tenant, &role_id, &value, &format!("HR user {}", c.user))
        .await?;
    tracing::info!(role = %role_id, version, "role configuration accepted");
    show_role(&s, &c.tenant, &role_id).await
}

pub(super) async fn get(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path((tenant, role_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let c = caller(&s, &headers)?;
    own_tenant(&c, &tenant)?;
    show_role(&s, &c.tenant, &role_id).await
}

async fn show_role(s: &ApiState, tenant: &str, role_id: &str) -> Result<Json<Value>, ApiError> {
    s.store
        .role_status(tenant, role_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no role `{role_id}`")))
}

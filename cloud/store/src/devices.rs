//! The device registry (which tenant and store a device belongs to) and each device's last-known
//! presence and health.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::db::Cached;
use crate::{Store, StoreError};

/// A device to register.
#[derive(Debug, Clone)]
pub struct NewDevice {
    /// Tenant.
    pub tenant: String,
    /// Store.
    pub store_id: String,
    /// Device id (its certificate's CN).
    pub device_id: String,
    /// Who registered it.
    pub registered_by: String,
}

/// A registered device and what it last said about itself.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceRow {
    /// Device id.
    pub device_id: String,
    /// Tenant.
    pub tenant: String,
    /// Store.
    pub store_id: String,
    /// `active` or `retired`.
    pub status: String,
    /// Its presence says online (None: never heard from).
    pub online: Option<bool>,
    /// Last presence or health message.
    pub last_seen: Option<DateTime<Utc>>,
    /// Events not yet sent, from its last health report.
    pub backlog: Option<i64>,
    /// Events sent without a receipt yet, from its last health report.
    pub unconfirmed: Option<i64>,
    /// Configuration documents it holds (`role:<id>` → version), from its last health report.
    pub config_versions: Option<Value>,
    /// Its last health report, whole.
    pub health: Option<Value>,
    /// Events it set aside because the broker kept refusing them.
    pub quarantined_reports: i64,
}

impl Store {
    /// Registers a device, or moves it to another store or tenant (an existing id is updated).
    pub async fn add_device(&self, d: &NewDevice) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .run(
"INSERT INTO devices (device_id, tenant, store_id, registered_by) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (device_id) DO UPDATE SET tenant = excluded.tenant, store_id = excluded.store_id,
                     status = 'active', registered_by = excluded.registered_by, registered_at = now()",
                &[&d.device_id, &d.tenant, &d.store_id, &d.registered_by],
            )
            .await?;
        Ok(())
    }

    /// The tenant's devices (every tenant's when `tenant` is None: the operator's CLI).
    pub async fn devices(&self, tenant: Option<&str>) -> Result<Vec<DeviceRow>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .rows(
"SELECT d.device_id, d.tenant, d.store_id, d.status, s.online, s.last_seen, s.health,
                        (SELECT count(*) FROM device_reports r WHERE r.device_id = d.device_id AND r.kind = 'event_quarantined')
                 FROM devices d LEFT JOIN device_state s ON s.device_id = d.device_id
                 WHERE $1::text IS NULL OR d.tenant = $1
                 ORDER BY d.tenant, d.store_id, d.device_id",
                &[&tenant],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let health: Option<Value> = r.get(6);
                let field = |k: &str| health.as_ref().and_then(|h| h.get(k)).cloned();
                DeviceRow {
                    device_id: r.get(0),
                    tenant: r.get(1),
                    store_id: r.get(2),
                    status: r.get(3),
                    online: r.get(4),
                    last_seen: r.get(5),
                    backlog: field("backlog").and_then(|v| v.as_i64()),
                    unconfirmed: field("unconfirmed").and_then(|v| v.as_i64()),
                    config_versions: field("config_versions"),
                    quarantined_reports: r.get(7),
                    health,
                }
            })
            .collect())
    }

    /// Records a retained presence (`status`) or `health` message of a registered device whose
    /// topic matches its registry entry; returns false (and records nothing) otherwise.
    pub async fn record_device_state(
        &self,
        tenant: &str,
        store_id: &str,
        device_id: &str,
        health: bool,
        message: &Value,
    ) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        let known = client
            .opt(
                "SELECT 1 FROM devices WHERE device_id = $1 AND tenant = $2 AND store_id = $3",
                &[&device_id, &tenant, &store_id],
            )
            .await?
            .is_some();
        if !known {
            return Ok(false);
        }
        if health {
            client
                .run(
"INSERT INTO device_state (device_id, health, health_at, last_seen) VALUES ($1, $2, now(), now())
                     ON CONFLICT (device_id) DO UPDATE SET health = excluded.health, health_at = now(), last_seen = now()",
                    &[&device_id, message],
                )
                .await?;
        } else {
            let online = message.get("state").and_then(Value::as_str) == Some("online");
            client
                .run(
"INSERT INTO device_state (device_id, online, presence, presence_at, last_seen) VALUES ($1, $2, $3, now(), now())
                     ON CONFLICT (device_id) DO UPDATE SET online = excluded.online, presence = excluded.presence,
                         presence_at = now(), last_seen = now()",
                    &[&device_id, &online, message],
                )
                .await?;
        }
        Ok(true)
    }

    /// Messages held or refused, newest first (the operator's report).
    pub async fn rejected(&self, limit: i64) -> Result<Vec<Value>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .rows(
"SELECT id, received_at, topic, device_id, event_id, code, reason FROM rejected ORDER BY id DESC LIMIT $1",
                &[&limit],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.get::<_, i64>(0), "received_at": r.get::<_, DateTime<Utc>>(1),
                    "topic": r.get::<_, String>(2), "device_id": r.get::<_, Option<String>>(3),
                    "event_id": r.get::<_, Option<String>>(4), "code": r.get::<_, String>(5),
                    "reason": r.get::<_, String>(6),
                })
            })
            .collect())
    }
}

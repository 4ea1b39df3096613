//! Role configurations pushed by HR: each accepted body becomes the role's next version (the
//! same body again is no new version), and the newest version is sent to every active device of
//! the tenant until the device's health says it holds it.

use chrono::{DateTime, Utc};
use kiosk_protocol::{Downlink, device_base};
use serde_json::{Value, json};

use crate::db::Cached;
use crate::{Store, StoreError};

/// A configuration document due to be (re)sent to a device.
#[derive(Debug, Clone)]
pub struct DueConfig {
    /// The device's topic base.
    pub device_base: String,
    /// The document for `{base}/down/config`: key `role:<id>`, body `{"kind": "role", "role": …}`.
    pub downlink: Downlink,
}

/// The inbox key a role's configuration has on the device.
pub fn config_key(role_id: &str) -> String {
    format!("role:{role_id}")
}

impl Store {
    /// Records a validated role as the tenant's newest version of it; returns the version (the
    /// current one when the body is unchanged).
    pub async fn push_role(
        &self,
        tenant: &str,
        role_id: &str,
        role: &Value,
        pushed_by: &str,
    ) -> Result<i64, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.run(
            "SELECT pg_advisory_xact_lock(hashtext($1 || '/' || $2))",
            &[&tenant, &role_id],
        )
        .await?;
        let latest = tx
            .opt(
                "SELECT version, role FROM roles WHERE tenant = $1 AND role_id = $2
                 ORDER BY version DESC LIMIT 1",
                &[&tenant, &role_id],
            )
            .await?;
        if let Some(r) = &latest
            && r.get::<_, Value>(1) == *role
        {
            return Ok(r.get(0));
        }
        let version = latest.map_or(1, |r| r.get::<_, i64>(0) + 1);
        tx.run(
"INSERT INTO roles (tenant, role_id, version, role, pushed_by) VALUES ($1, $2, $3, $4, $5)",
            &[&tenant, &role_id, &version, role, &pushed_by],
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// The tenant's role: its newest version and, per active device, what was sent and what the
    /// device holds.
    pub async fn role_status(
        &self,
        tenant: &str,
        role_id: &str,
    ) -> Result<Option<Value>, StoreError> {
        let client = self.pool.get().await?;
        let Some(r) = client
            .opt(
"SELECT version, role, pushed_by, pushed_at FROM roles WHERE tenant = $1 AND role_id = $2
                 ORDER BY version DESC LIMIT 1",
                &[&tenant, &role_id],
            )
            .await?
        else {
            return Ok(None);
        };
        let version: i64 = r.get(0);
        let devices = client
            .rows(
"SELECT d.device_id, d.store_id, (s.health->'config_versions'->>$3)::bigint,
                        (SELECT max(c.version) FROM config_sends c WHERE c.device_id = d.device_id AND c.role_id = $2),
                        (SELECT sum(c.sends)::bigint FROM config_sends c WHERE c.device_id = d.device_id AND c.role_id = $2),
                        s.health_at
                 FROM devices d LEFT JOIN device_state s ON s.device_id = d.device_id
                 WHERE d.tenant = $1 AND d.status = 'active' ORDER BY d.store_id, d.device_id",
                &[&tenant, &role_id, &config_key(role_id)],
            )
            .await?;
        Ok(Some(json!({
            "role_id": role_id, "version": version, "role": r.get::<_, Value>(1),
            "pushed_by": r.get::<_, String>(2), "pushed_at": r.get::<_, DateTime<Utc>>(3),
            "devices": devices.iter().map(|d| {
                let holds: Option<i64> = d.get(2);
                json!({
                    "device_id": d.get::<_, String>(0), "store_id": d.get::<_, String>(1),
                    "holds_version": holds, "sent_version": d.get::<_, Option<i64>>(3),
                    "sends": d.get::<_, Option<i64>>(4).unwrap_or(0),
                    "up_to_date": holds.is_some_and(|h| h >= version),
                    "health_at": d.get::<_, Option<DateTime<Utc>>>(5),
                })
            }).collect::<Vec<_>>(),
        })))
    }

    /// Newest role versions that an active device does not hold yet and was not sent in the
    /// last `resend_after_s` seconds; each is marked sent (the caller publishes it). Devices
    /// registered later get the tenant's roles the same way.
    pub async fn due_configs(&self, resend_after_s: u64) -> Result<Vec<DueConfig>, StoreError> {
        let client = self.pool.get().await?;
        let secs = resend_after_s as f64;
        let rows = client
            .rows(
"WITH latest AS (
                     SELECT DISTINCT ON (tenant, role_id) tenant, role_id, version, role
                     FROM roles ORDER BY tenant, role_id, version DESC),
                 due AS (
                     SELECT l.role_id, l.version, d.device_id
                     FROM latest l JOIN devices d ON d.tenant = l.tenant AND d.status = 'active'
                     LEFT JOIN device_state s ON s.device_id = d.device_id
                     WHERE coalesce((s.health->'config_versions'->>('role:' || l.role_id))::bigint, 0) < l.version),
                 sent AS (
                     INSERT INTO config_sends (device_id, role_id, version)
                     SELECT device_id, role_id, version FROM due
                     ON CONFLICT (device_id, role_id, version) DO UPDATE
                         SET sends = config_sends.sends + 1, last_sent_at = now()
                         WHERE config_sends.last_sent_at < now() - make_interval(secs => $1)
                     RETURNING device_id, role_id, version)
                 SELECT d.tenant, d.store_id, d.device_id, sent.role_id, sent.version, r.role
                 FROM sent JOIN devices d ON d.device_id = sent.device_id
                 JOIN roles r ON r.tenant = d.tenant AND r.role_id = sent.role_id AND r.version = sent.version",
                &[&secs],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| DueConfig {
                device_base: device_base(r.get(0), r.get(1), r.get(2)),
                downlink: Downlink {
                    version: r.get(4),
                    key: config_key(r.get(3)),
                    body: json!({"kind": "role", "role": r.get::<_, Value>(5)}),
                },
            })
            .collect())
    }
}

//! One-time enrolment tokens: HR issues one for a device path (tenant/store/device); the box
//! redeems it once, with its certificate request, and the device is registered in the same
//! transaction. Only the token's SHA-256 is stored.

use chrono::{DateTime, Utc};

use crate::db::Cached;
use crate::{Store, StoreError};

/// Why a token cannot be issued or redeemed.
#[derive(Debug, thiserror::Error)]
pub enum EnrolRefused {
    /// No such token.
    #[error("unknown enrolment token")]
    Unknown,
    /// It was redeemed before.
    #[error("this enrolment token was already used (at {0}): ask HR for a new one")]
    Used(DateTime<Utc>),
    /// Too late.
    #[error("this enrolment token expired at {0}: ask HR for a new one")]
    Expired(DateTime<Utc>),
    /// The box is configured as another device than the token is for (nothing was spent).
    #[error(
        "this token is for {0}, but the box is configured as another device: fix [station] \
         tenant/store_id/device_id or ask HR for this device's token (the token is still valid)"
    )]
    WrongDevice(String),
    /// The device id belongs to another tenant's registry.
    #[error("device id {0} is registered to another tenant")]
    OtherTenant(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<tokio_postgres::Error> for EnrolRefused {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Store(e.into())
    }
}

impl From<deadpool_postgres::PoolError> for EnrolRefused {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Self::Store(e.into())
    }
}

/// The device a redeemed token enrols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    /// Tenant.
    pub tenant: String,
    /// Store.
    pub store_id: String,
    /// Device id.
    pub device_id: String,
}

impl Enrolled {
    /// `tenant/store/device`, as the certificate names it.
    pub fn path(&self) -> String {
        format!("{}/{}/{}", self.tenant, self.store_id, self.device_id)
    }
}

impl Store {
    /// Records a token (by its digest) for this device path, valid until `expires_at`. A device id
    /// registered to another tenant is refused: a tenant cannot enrol itself into another's device.
    pub async fn add_enrolment_token(
        &self,
        digest: &[u8; 32],
        device: &Enrolled,
        created_by: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), EnrolRefused> {
        let client = self.pool.get().await?;
        if let Some(row) = client
            .opt(
                "SELECT tenant FROM devices WHERE device_id = $1",
                &[&device.device_id],
            )
            .await?
        {
            let tenant: String = row.get(0);
            if tenant != device.tenant {
                return Err(EnrolRefused::OtherTenant(device.device_id.clone()));
            }
        }
        client
            .run(
"INSERT INTO enrolment_tokens (token_sha256, tenant, store_id, device_id, created_by, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &digest.as_slice(),
                    &device.tenant,
                    &device.store_id,
                    &device.device_id,
                    &created_by,
                    &expires_at,
                ],
            )
            .await?;
        Ok(())
    }

    /// Redeems a token once: marks it used (with the serial of the certificate about to be
    /// issued) and registers the device, in one transaction. A second redemption is refused; so
    /// is one from a box that says it is another device than `expected` (the token stays valid).
    pub async fn redeem_enrolment_token(
        &self,
        digest: &[u8; 32],
        certificate_serial: &str,
        expected: Option<&Enrolled>,
    ) -> Result<Enrolled, EnrolRefused> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .opt(
                "SELECT tenant, store_id, device_id, expires_at, used_at FROM enrolment_tokens
                 WHERE token_sha256 = $1 FOR UPDATE",
                &[&digest.as_slice()],
            )
            .await?
            .ok_or(EnrolRefused::Unknown)?;
        let device = Enrolled {
            tenant: row.get(0),
            store_id: row.get(1),
            device_id: row.get(2),
        };
        let expires_at: DateTime<Utc> = row.get(3);
        if let Some(used) = row.get::<_, Option<DateTime<Utc>>>(4) {
            return Err(EnrolRefused::Used(used));
        }
        if expires_at <= Utc::now() {
            return Err(EnrolRefused::Expired(expires_at));
        }
        if expected.is_some_and(|e| *e != device) {
            return Err(EnrolRefused::WrongDevice(device.path()));
        }
        if let Some(other) = tx
            .opt(
                "SELECT tenant FROM devices WHERE device_id = $1 FOR UPDATE",
                &[&device.device_id],
            )
            .await?
            .map(|r| r.get::<_, String>(0))
            .filter(|t| *t != device.tenant)
        {
            tracing::warn!(device = %device.device_id, other, "enrolment into another tenant's device refused");
            return Err(EnrolRefused::OtherTenant(device.device_id));
        }
        tx.run(
            "UPDATE enrolment_tokens SET used_at = now(), certificate_serial = $2 WHERE token_sha256 = $1",
            &[&digest.as_slice(), &certificate_serial],
        )
        .await?;
        tx.run(
"INSERT INTO devices (device_id, tenant, store_id, registered_by) VALUES ($1, $2, $3, 'enrolment')
             ON CONFLICT (device_id) DO UPDATE SET store_id = excluded.store_id, status = 'active',
                 registered_by = excluded.registered_by, registered_at = now()",
            &[&device.device_id, &device.tenant, &device.store_id],
        )
        .await?;
        tx.commit().await?;
        Ok(device)
    }

    /// Retires a device: its events are held from now on and every certificate enrolment issued
    /// it is revoked (for the CRL). None if no such device.
    pub async fn retire_device(&self, device_id: &str) -> Result<Option<u64>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let found = tx
            .run(
                "UPDATE devices SET status = 'retired' WHERE device_id = $1",
                &[&device_id],
            )
            .await?;
        if found == 0 {
            return Ok(None);
        }
        let revoked = tx
            .run(
                "UPDATE enrolment_tokens SET revoked_at = now()
                 WHERE device_id = $1 AND used_at IS NOT NULL AND revoked_at IS NULL",
                &[&device_id],
            )
            .await?;
        tx.commit().await?;
        Ok(Some(revoked))
    }

    /// Every revoked enrolment certificate: (serial in hex, when), oldest first.
    pub async fn revoked_certificates(&self) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .rows(
"SELECT certificate_serial, revoked_at FROM enrolment_tokens
                 WHERE revoked_at IS NOT NULL AND certificate_serial IS NOT NULL ORDER BY revoked_at",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

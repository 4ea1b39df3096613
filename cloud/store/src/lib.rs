//! The cloud's store of record in PostgreSQL — the only crate that knows its SQL: migrations,
//! idempotent ingest of kiosk events, the HR status flow, the device registry, tenant-scoped
//! reads for the HR API and the webhook outbox. Every read takes the tenant: isolation is
//! enforced here, not in each handler.

mod candidates;
mod created;
mod db;
mod deletions;
mod devices;
mod enrolment;
mod ingest;
mod reports;
mod roles;
mod rosters;
mod schema;
pub mod status;
mod webhooks;

use std::collections::HashMap;
use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

pub use candidates::{CandidateFilter, CandidateSummary, StatusChange, StatusRefused};
pub use deletions::DueDeletion;
pub use devices::{DeviceRow, NewDevice};
pub use enrolment::{EnrolRefused, Enrolled};
pub use ingest::{Incoming, Outcome};
pub use reports::{GroupBy, PassRateRow};
pub use roles::{DueConfig, config_key};
pub use rosters::{DueRoster, HireTerms, RosterPolicy, RotaRefused};
pub use schema::SCHEMA_VERSION;
pub use status::Status;
pub use webhooks::{DeadWebhook, DueWebhook, WebhookResult};

/// What the store could not do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// PostgreSQL refused or is unreachable.
    #[error("database: {}", describe(.0))]
    Db(#[from] tokio_postgres::Error),
    /// No connection could be had from the pool (database down, pool exhausted).
    #[error("database unavailable: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The database URL does not parse.
    #[error(
        "database url: {0} (expected e.g. postgres://user@host:5432/db or host=/run/postgresql dbname=hr)"
    )]
    Url(String),
    /// A newer build migrated this database.
    #[error(
        "the database schema is version {found}, newer than this build's {known}: upgrade cloud-bridge"
    )]
    NewerSchema {
        /// In the database.
        found: i32,
        /// This build's.
        known: i32,
    },
}

/// What PostgreSQL said, without the row it quotes (`DETAIL` may hold a candidate's data):
/// the message, the constraint if any, and the SQLSTATE; or the connection error.
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => match d.constraint() {
            Some(c) => format!(
                "{} (constraint {c}, SQLSTATE {})",
                d.message(),
                d.code().code()
            ),
            None => format!("{} (SQLSTATE {})", d.message(), d.code().code()),
        },
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

/// Whether PostgreSQL refused for a reason of the moment, not of the data: a deadlock or
/// serialization failure (class 40), no resources such as a full disk (53), the server
/// shutting down (57), a lost connection (08), a lock not available (55P03). Such a batch is
/// retried whole; no message of it is held as if it were bad.
pub(crate) fn transient(e: &tokio_postgres::Error) -> bool {
    let Some(d) = e.as_db_error() else {
        return true;
    };
    let code = d.code().code();
    ["40", "53", "57", "08"].iter().any(|c| code.starts_with(c)) || code == "55P03"
}

/// Per-tenant policy the store applies while ingesting.
#[derive(Debug, Clone, Default)]
pub struct TenantPolicy {
    /// A webhook endpoint is configured: enqueue webhooks for this tenant.
    pub webhooks: bool,
    /// Move `passed` candidates straight to `onboarding`, starting this many days later.
    pub auto_onboarding_days: Option<u32>,
    /// Rostering: an onboarding candidate's first week is solved against the store's rota.
    pub roster: Option<RosterPolicy>,
}

/// How ingest treats what the registry does not know.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// Development only: register a device on first sight under its topic's tenant and store.
    pub auto_register: bool,
    /// Tenants by id.
    pub tenants: HashMap<String, TenantPolicy>,
}

/// A pool of connections to the store of record.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    options: StoreOptions,
}

impl Store {
    /// Connects lazily (the pool opens connections on demand; a database that is down shows up
    /// as [`StoreError::Pool`] on first use, and later uses retry).
    pub fn connect(
        url: &str,
        max_connections: usize,
        options: StoreOptions,
    ) -> Result<Self, StoreError> {
        let config =
            tokio_postgres::Config::from_str(url).map_err(|e| StoreError::Url(e.to_string()))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(5)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Url(e.to_string()))?;
        Ok(Self { pool, options })
    }

    /// Applies the schema migrations (safe to run from several instances at once).
    pub async fn migrate(&self) -> Result<i32, StoreError> {
        let mut client = self.pool.get().await?;
        schema::migrate(&mut client).await
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.pool.get().await?.simple_query("SELECT 1").await?;
        Ok(())
    }

    fn policy(&self, tenant: &str) -> TenantPolicy {
        self.options
            .tenants
            .get(tenant)
            .cloned()
            .unwrap_or_default()
    }
}

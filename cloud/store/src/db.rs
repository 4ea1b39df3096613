//! Statements prepared once per connection: every query of the store goes through these, so a
//! statement costs one round trip instead of two (parse, then execute) after its first use.

use std::future::Future;

use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::StoreError;

/// Parameters of a statement.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A connection or transaction with a statement cache.
pub(crate) trait Cached {
    /// Executes; returns the rows affected.
    fn run(&self, sql: &str, p: Params<'_>)
    -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// At most one row.
    fn opt(
        &self,
        sql: &str,
        p: Params<'_>,
    ) -> impl Future<Output = Result<Option<Row>, StoreError>> + Send;
    /// Exactly one row.
    fn one(&self, sql: &str, p: Params<'_>)
    -> impl Future<Output = Result<Row, StoreError>> + Send;
    /// Every row.
    fn rows(
        &self,
        sql: &str,
        p: Params<'_>,
    ) -> impl Future<Output = Result<Vec<Row>, StoreError>> + Send;
}

macro_rules! cached {
    ($t:ty) => {
        impl Cached for $t {
            async fn run(&self, sql: &str, p: Params<'_>) -> Result<u64, StoreError> {
                let st = self.prepare_cached(sql).await?;
                Ok(self.execute(&st, p).await?)
            }
            async fn opt(&self, sql: &str, p: Params<'_>) -> Result<Option<Row>, StoreError> {
                let st = self.prepare_cached(sql).await?;
                Ok(self.query_opt(&st, p).await?)
            }
            async fn one(&self, sql: &str, p: Params<'_>) -> Result<Row, StoreError> {
                let st = self.prepare_cached(sql).await?;
                Ok(self.query_one(&st, p).await?)
            }
            async fn rows(&self, sql: &str, p: Params<'_>) -> Result<Vec<Row>, StoreError> {
                let st = self.prepare_cached(sql).await?;
                Ok(self.query(&st, p).await?)
            }
        }
    };
}

cached!(deadpool_postgres::Transaction<'_>);
cached!(deadpool_postgres::ClientWrapper);

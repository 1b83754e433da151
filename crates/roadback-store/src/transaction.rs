//! A consumer's transaction: its own writes and its checkpoint commit together or not at all.

use crate::error::StoreError;
use crate::{postgres, sqlite};

/// An open database transaction on the store's database, for a consumer (a projector) that keeps
/// its read models beside the events. Dropping it without [`commit`](Self::commit) rolls back.
pub enum StoreTransaction {
    /// On PostgreSQL.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    /// On SQLite (started with `BEGIN IMMEDIATE`).
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

impl StoreTransaction {
    /// Records that consumer `name` has processed everything up to `position`.
    pub async fn save_checkpoint(&mut self, name: &str, position: u64) -> Result<(), StoreError> {
        match self {
            Self::Postgres(tx) => postgres::save_checkpoint(tx, name, position).await,
            Self::Sqlite(tx) => sqlite::save_checkpoint(tx, name, position).await,
        }
    }

    /// Commits the consumer's writes and checkpoint together.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(tx) => tx.commit().await?,
            Self::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Throws the consumer's writes and checkpoint away.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(tx) => tx.rollback().await?,
            Self::Sqlite(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

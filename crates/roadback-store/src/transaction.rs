//! A consumer's transaction: its own writes and its checkpoint commit together or not at all.

use std::ops::{Deref, DerefMut};

use sqlx::SqliteConnection;

use crate::error::StoreError;
use crate::{postgres, sqlite};

/// An open database transaction on the store's database, for a consumer (a projector) that keeps
/// its read models beside the events. Dropping it without [`commit`](Self::commit) rolls back.
pub enum StoreTransaction {
    /// On PostgreSQL.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    /// On SQLite.
    Sqlite(SqliteTransaction),
}

/// A transaction on SQLite. One that writes (started with `BEGIN IMMEDIATE`) holds the
/// writers' turn (the store's one SQLite writer connection) until it ends, so the
/// event writer and the access log wait for it in this process rather than meet it at SQLite's
/// write lock, where the busy handler sleeps (up to 100 ms at a time) before trying again.
/// Derefs to its connection.
pub struct SqliteTransaction {
    // Declared first, dropped first: a transaction dropped unfinished queues its rollback
    // before the turn passes on.
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    turn: Option<sqlite::WriterTurn>,
}

impl SqliteTransaction {
    pub(crate) fn new(
        tx: sqlx::Transaction<'static, sqlx::Sqlite>,
        turn: Option<sqlite::WriterTurn>,
    ) -> Self {
        Self { tx, turn }
    }
}

impl Deref for SqliteTransaction {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl DerefMut for SqliteTransaction {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl StoreTransaction {
    /// Records that consumer `name` has processed everything up to `position`.
    pub async fn save_checkpoint(&mut self, name: &str, position: u64) -> Result<(), StoreError> {
        match self {
            Self::Postgres(tx) => postgres::save_checkpoint(tx, name, position).await,
            Self::Sqlite(tx) => sqlite::save_checkpoint(tx, name, position).await,
        }
    }

    /// Reads consumer `name`'s checkpoint inside the transaction, locking it until commit so that
    /// two consumers of the same name cannot both move it (on SQLite the write lock already does).
    pub async fn checkpoint(&mut self, name: &str) -> Result<Option<u64>, StoreError> {
        let position: Option<i64> = match self {
            Self::Postgres(tx) => {
                sqlx::query_scalar("SELECT position FROM checkpoints WHERE name = $1 FOR UPDATE")
                    .bind(name)
                    .fetch_optional(&mut **tx)
                    .await?
            }
            Self::Sqlite(tx) => {
                sqlx::query_scalar("SELECT position FROM checkpoints WHERE name = ?1")
                    .bind(name)
                    .fetch_optional(&mut **tx)
                    .await?
            }
        };
        Ok(position.map(|p| p as u64))
    }

    /// Commits the consumer's writes and checkpoint together.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(tx) => tx.commit().await?,
            Self::Sqlite(tx) => {
                tx.tx.commit().await?;
                if let Some(turn) = &tx.turn {
                    turn.wrote();
                }
            }
        }
        Ok(())
    }

    /// Throws the consumer's writes and checkpoint away.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(tx) => tx.rollback().await?,
            Self::Sqlite(tx) => tx.tx.rollback().await?,
        }
        Ok(())
    }
}

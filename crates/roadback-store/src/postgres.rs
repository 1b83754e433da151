//! The PostgreSQL backend: the production store, shared by several server instances.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row};
use tokio::sync::watch;
use uuid::Uuid;

use crate::StoreConfig;
use crate::error::StoreError;
use crate::event::{AppendResult, EventContext, RecordedEvent, StreamId};
use crate::writer::{BatchAppender, Command, Outcome, advance_head};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// The channel `append_batch` notifies with the new head position.
const CHANNEL: &str = "roadback_events";

const EVENT_COLUMNS: &str = "position, event_id, stream_id, version, event_type, schema_version, occurred_on, \
     recorded_at, actor_id, organisation_id, correlation_id, payload::text";

/// Reads and checkpoints on a PostgreSQL database.
#[derive(Clone, Debug)]
pub(crate) struct PgBackend {
    pub pool: PgPool,
}

/// One connection to `url`, made once: a pool retries until its timeout and then says only
/// that it timed out, where a single attempt tells why (refused, unknown host, password,
/// no such database).
async fn connect_once(url: &str, config: &StoreConfig) -> Result<PgConnection, StoreError> {
    let options: PgConnectOptions = url.parse().map_err(|e| {
        StoreError::Database(Arc::new(sqlx::Error::Configuration(
            format!("not a PostgreSQL URL (postgres://user:password@host:port/database): {e}")
                .into(),
        )))
    })?;
    tokio::time::timeout(config.acquire_timeout, PgConnection::connect_with(&options))
        .await
        .map_err(|_| {
            StoreError::Unavailable(Arc::new(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "PostgreSQL did not answer within {} s",
                    config.acquire_timeout.as_secs()
                ),
            ))))
        })?
        .map_err(StoreError::from)
}

/// True when the database at `url` holds Roadback's event log.
pub(crate) async fn holds_store(url: &str, config: &StoreConfig) -> Result<bool, StoreError> {
    let mut connection = connect_once(url, config).await?;
    let found: bool = sqlx::query_scalar("SELECT to_regclass('events') IS NOT NULL")
        .fetch_one(&mut connection)
        .await?;
    connection.close().await?;
    Ok(found)
}

impl PgBackend {
    /// Connects, applies the migrations, and connects the writer.
    ///
    /// The writer gets a connection of its own, which always uses the generic plan of
    /// `append_batch`'s statement: its shape never changes, and re-planning it on every call
    /// costs more than running it.
    pub async fn connect(
        url: &str,
        config: &StoreConfig,
    ) -> Result<(Self, PgAppender), StoreError> {
        let first = connect_once(url, config).await?;
        let options: PgConnectOptions = url.parse()?;
        first.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let options = pool
            .connect_options()
            .as_ref()
            .clone()
            .options([("plan_cache_mode", "force_generic_plan")]);
        // A failed batch surfaces a broken connection, which the pool then replaces; pinging
        // before every batch would add a round trip to every append.
        let writer_pool = PgPoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options)
            .await?;
        Ok((Self { pool }, PgAppender { pool: writer_pool }))
    }

    /// Wakes subscribers on this instance when any instance appends; ends when nobody listens.
    pub fn spawn_listener(&self, head: Arc<watch::Sender<u64>>) {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let mut listener = match PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(error) => {
                    tracing::warn!(%error, "cannot LISTEN for new events; subscribers fall back to polling");
                    return;
                }
            };
            if let Err(error) = listener.listen(CHANNEL).await {
                tracing::warn!(%error, "cannot LISTEN for new events; subscribers fall back to polling");
                return;
            }
            loop {
                tokio::select! {
                    _ = head.closed() => return,
                    received = listener.try_recv() => match received {
                        Ok(Some(note)) => {
                            if let Ok(position) = note.payload().parse::<u64>() {
                                advance_head(&head, position);
                            }
                        }
                        // The connection dropped and sqlx reconnects on the next call; notifications
                        // sent meanwhile are lost, which the subscribers' polling covers.
                        // The store was closed (a clean shutdown): the listener ends with it.
                        _ if pool.is_closed() => return,
                        Ok(None) => tracing::info!("event listener reconnecting"),
                        Err(error) => {
                            tracing::warn!(%error, "event listener failed; retrying");
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        }
                    }
                }
            }
        });
    }

    pub async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version >= $2 ORDER BY version LIMIT $3"
        );
        sqlx::query(&sql)
            .bind(stream.as_str())
            .bind(from_version as i64)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    pub async fn read_all(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2"
        );
        sqlx::query(&sql)
            .bind(after as i64)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    pub async fn read_streams(
        &self,
        prefix: &str,
        after: (&str, u64),
        upto: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE (stream_id, version) > ($2, $3) \
             AND starts_with(stream_id, $1) AND position <= $4 ORDER BY stream_id, version LIMIT $5"
        );
        sqlx::query(&sql)
            .bind(prefix)
            .bind(after.0)
            .bind(after.1 as i64)
            .bind(upto as i64)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    pub async fn read_by_ids(&self, ids: &[Uuid]) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ANY($1) ORDER BY position"
        );
        sqlx::query(&sql)
            .bind(ids)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    pub async fn stream_version(&self, stream: &StreamId) -> Result<u64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM events WHERE stream_id = $1")
                .bind(stream.as_str())
                .fetch_one(&self.pool)
                .await?;
        Ok(version.unwrap_or(0) as u64)
    }

    pub async fn head(&self) -> Result<u64, StoreError> {
        let position: i64 = sqlx::query_scalar("SELECT position FROM head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(position as u64)
    }

    pub async fn checkpoint(&self, name: &str) -> Result<Option<u64>, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM checkpoints WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(position.map(|p| p as u64))
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// Saves a consumer's checkpoint inside the consumer's transaction.
pub(crate) async fn save_checkpoint(
    tx: &mut sqlx::Transaction<'static, Postgres>,
    name: &str,
    position: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO checkpoints (name, position, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(position as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Commits batches through the `append_batch` function: one statement, one round trip, one commit.
pub(crate) struct PgAppender {
    pool: PgPool,
}

impl BatchAppender for PgAppender {
    async fn append_batch(&mut self, batch: &[Command]) -> Result<Vec<Outcome>, StoreError> {
        let events = batch.iter().map(|c| c.events.len()).sum();
        let mut streams = Vec::with_capacity(batch.len());
        let mut expected = Vec::with_capacity(batch.len());
        let mut counts = Vec::with_capacity(batch.len());
        let mut event_cmds = Vec::with_capacity(events);
        let mut ids = Vec::with_capacity(events);
        let mut types = Vec::with_capacity(events);
        let mut schema_versions = Vec::with_capacity(events);
        let mut occurred = Vec::with_capacity(events);
        let mut actors = Vec::with_capacity(events);
        let mut organisations = Vec::with_capacity(events);
        let mut correlations = Vec::with_capacity(events);
        let mut payloads = Vec::with_capacity(events);
        for (ord, command) in (1i32..).zip(batch) {
            streams.push(command.stream.as_str());
            expected.push(command.expected.as_db());
            counts.push(command.events.len() as i32);
            for e in &command.events {
                event_cmds.push(ord);
                ids.push(e.id);
                types.push(e.event_type.as_str());
                schema_versions.push(e.schema_version as i32);
                occurred.push(e.occurred_on);
                actors.push(e.context.actor);
                organisations.push(e.context.organisation);
                correlations.push(e.context.correlation_id);
                payloads.push(e.payload.get());
            }
        }
        let rows = sqlx::query(
            "SELECT * FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&streams)
        .bind(&expected)
        .bind(&counts)
        .bind(&event_cmds)
        .bind(&ids)
        .bind(&types)
        .bind(&schema_versions)
        .bind(&occurred)
        .bind(&actors)
        .bind(&organisations)
        .bind(&correlations)
        .bind(&payloads)
        .fetch_all(&self.pool)
        .await?;
        if rows.len() != batch.len() {
            return Err(StoreError::Corrupt(format!(
                "append_batch answered {} rows for {} commands",
                rows.len(),
                batch.len()
            )));
        }
        rows.iter()
            .zip(batch)
            .map(|(row, command)| {
                let outcome: i16 = row.try_get(0)?;
                let version: i64 = row.try_get(1)?;
                Ok(match outcome {
                    0 => {
                        let first: i64 = row.try_get(2)?;
                        let recorded_at: DateTime<Utc> = row.try_get(3)?;
                        Outcome::Appended(AppendResult {
                            stream_version: version as u64,
                            first_position: first as u64,
                            last_position: (first as u64) + command.events.len() as u64 - 1,
                            recorded_at,
                        })
                    }
                    1 => Outcome::Conflict {
                        actual: version as u64,
                    },
                    _ => Outcome::Duplicate,
                })
            })
            .collect()
    }
}

fn decode(row: &PgRow) -> Result<RecordedEvent, StoreError> {
    let payload: String = row.try_get(11)?;
    let payload = serde_json::value::RawValue::from_string(payload)
        .map_err(|e| StoreError::Corrupt(format!("payload is not JSON: {e}")))?;
    Ok(RecordedEvent {
        position: row.try_get::<i64, _>(0)? as u64,
        id: row.try_get(1)?,
        stream_id: row.try_get(2)?,
        version: row.try_get::<i64, _>(3)? as u64,
        event_type: row.try_get(4)?,
        schema_version: row.try_get::<i32, _>(5)? as u32,
        occurred_on: row.try_get::<NaiveDate, _>(6)?,
        recorded_at: row.try_get(7)?,
        context: EventContext {
            actor: row.try_get(8)?,
            organisation: row.try_get(9)?,
            correlation_id: row.try_get(10)?,
        },
        payload,
    })
}

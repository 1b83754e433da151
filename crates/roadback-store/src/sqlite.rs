//! The SQLite backend: the embedded store, one file in the data directory, WAL, one writer.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Row, Sqlite};
use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

use crate::StoreConfig;
use crate::error::StoreError;
use crate::event::{AppendResult, EventContext, RecordedEvent, StreamId, stored_payload};
use crate::sqlite_bulk::BulkReader;
use crate::writer::{BatchAppender, Command, Outcome};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

const EVENT_COLUMNS: &str = "position, event_id, stream_id, version, event_type, schema_version, occurred_on, \
     recorded_at, actor_id, organisation_id, correlation_id, payload";

/// Rows per multi-row INSERT (12 parameters each, well under SQLite's limit of 32,766).
const INSERT_CHUNK: usize = 1000;
/// Events a bulk read makes room for before it grows.
const PAGE_CAPACITY: usize = 10_000;
/// Ids per `IN (...)` lookup.
const LOOKUP_CHUNK: usize = 500;

/// Reads and checkpoints on a SQLite file.
#[derive(Clone, Debug)]
pub(crate) struct SqliteBackend {
    pub pool: SqlitePool,
    /// How readiness checks connect: waiting at most a moment for the write lock.
    probe: Arc<SqliteConnectOptions>,
    /// Where pages of the log are read in bulk (replays, subscriptions).
    pub bulk: Arc<BulkReader>,
    /// The writers' connection (the appender's), whose lock is this process's turn to write.
    pub writer: WriterConnection,
}

impl SqliteBackend {
    /// Opens (creating if missing) the database file, applies the migrations, and connects the
    /// single writer, which owns a connection of its own.
    pub async fn open(
        path: &Path,
        config: &StoreConfig,
    ) -> Result<(Self, SqliteAppender), StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged append survives a power cut, not only a crash of the process.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            // Deleted rows are overwritten, so erased vault entries leave nothing in the file.
            .pragma("secure_delete", "ON")
            // A rebuild is one transaction, so the WAL grows to the size of the read models;
            // after the next checkpoint, shrink the file back rather than keep it at its peak.
            .pragma("journal_size_limit", "67108864")
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        // The writer walks the indexes on every append: give it a larger page cache (64 MiB).
        let conn =
            SqliteConnection::connect_with(&options.clone().pragma("cache_size", "-65536")).await?;
        let probe = options
            .clone()
            .create_if_missing(false)
            .busy_timeout(Duration::from_millis(300));
        let writer = Arc::new(tokio::sync::Mutex::new(conn));
        Ok((
            Self {
                pool,
                probe: Arc::new(probe),
                bulk: BulkReader::new(path.to_path_buf(), config.max_connections as usize),
                writer: writer.clone(),
            },
            SqliteAppender {
                turn: Turn::new(writer),
            },
        ))
    }

    pub async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ?1 AND version >= ?2 ORDER BY version LIMIT ?3"
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
            "SELECT {EVENT_COLUMNS} FROM events WHERE position > ?1 ORDER BY position LIMIT ?2"
        );
        self.bulk
            .events(sql, (after as i64, limit as i64), limit.min(PAGE_CAPACITY))
            .await
    }

    pub async fn read_streams(
        &self,
        prefix: &str,
        after: (&str, u64),
        upto: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE (stream_id, version) > (?2, ?3) \
             AND substr(stream_id, 1, length(?1)) = ?1 AND position <= ?4 ORDER BY stream_id, version LIMIT ?5"
        );
        let params = (
            prefix.to_string(),
            after.0.to_string(),
            after.1 as i64,
            upto as i64,
            limit as i64,
        );
        self.bulk
            .events(sql, params, limit.min(PAGE_CAPACITY))
            .await
    }

    /// The stream of the event at this offset in (stream, version) order among the streams
    /// starting with `prefix` (an index-only walk).
    pub async fn stream_at(&self, prefix: &str, offset: u64) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT stream_id FROM events WHERE substr(stream_id, 1, length(?1)) = ?1 \
             ORDER BY stream_id, version LIMIT 1 OFFSET ?2",
        )
        .bind(prefix)
        .bind(offset as i64)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn read_by_ids(&self, ids: &[Uuid]) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut found = Vec::new();
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            let mut query = QueryBuilder::<Sqlite>::new(format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE event_id IN ("
            ));
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(") ORDER BY position");
            for row in query.build().fetch_all(&self.pool).await? {
                found.push(decode(&row)?);
            }
        }
        found.sort_by_key(|e| e.position);
        Ok(found)
    }

    pub async fn stream_version(&self, stream: &StreamId) -> Result<u64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM events WHERE stream_id = ?1")
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
            sqlx::query_scalar("SELECT position FROM checkpoints WHERE name = ?1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(position.map(|p| p as u64))
    }

    /// Reads, and takes the write lock for a moment on a connection of its own: a file
    /// locked by another process (a backup, a `sqlite3` shell) reads fine while every write
    /// fails.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        let mut probe = SqliteConnection::connect_with(&self.probe).await?;
        let locked = sqlx::query("BEGIN IMMEDIATE").execute(&mut probe).await;
        if locked.is_ok() {
            sqlx::query("ROLLBACK").execute(&mut probe).await?;
        }
        probe.close().await?;
        locked.map(|_| ()).map_err(StoreError::from)
    }
}

/// Saves a consumer's checkpoint inside the consumer's transaction.
pub(crate) async fn save_checkpoint(
    conn: &mut SqliteConnection,
    name: &str,
    position: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO checkpoints (name, position, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(position as i64)
    .bind(Utc::now().timestamp_micros())
    .execute(conn)
    .await?;
    Ok(())
}

/// The connection the store's writers share: the event writer's batches and the access log's
/// rows take turns on it in this process, in the order they ask. On connections of their own
/// they met at SQLite's write lock, where a writer that finds it taken sleeps and tries again
/// (SQLite's busy handler sleeps up to 100 ms at a time), which set the tail of every read's
/// latency under load (each read waits for its access-log row).
pub(crate) type WriterConnection = Arc<tokio::sync::Mutex<SqliteConnection>>;

/// A writer's turn on the [`WriterConnection`]: waited for as soon as the writer has something
/// to write and before it gathers what else is waiting ([`wait`](Self::wait)), so what arrives
/// while another writer commits goes into this writer's next commit, not the one after.
pub(crate) struct Turn {
    conn: WriterConnection,
    held: Option<OwnedMutexGuard<SqliteConnection>>,
}

impl Turn {
    pub fn new(conn: WriterConnection) -> Self {
        Self { conn, held: None }
    }

    /// Waits for the turn and keeps it until [`take`](Self::take).
    pub async fn wait(&mut self) {
        if self.held.is_none() {
            self.held = Some(self.conn.clone().lock_owned().await);
        }
    }

    /// The turn (waited for if not kept); it passes on when the guard is dropped.
    pub async fn take(&mut self) -> OwnedMutexGuard<SqliteConnection> {
        match self.held.take() {
            Some(held) => held,
            None => self.conn.clone().lock_owned().await,
        }
    }
}

/// The one event writer: commits each batch in one `BEGIN IMMEDIATE` transaction on the
/// writers' connection.
pub(crate) struct SqliteAppender {
    turn: Turn,
}

impl SqliteAppender {
    /// The connection it writes on, for the access log's writer.
    pub fn connection(&self) -> WriterConnection {
        self.turn.conn.clone()
    }
}

impl BatchAppender for SqliteAppender {
    async fn ready(&mut self) {
        self.turn.wait().await;
    }

    async fn append_batch(&mut self, batch: &[Command]) -> Result<Vec<Outcome>, StoreError> {
        let mut conn = self.turn.take().await;
        let conn = &mut *conn;
        // IMMEDIATE takes the write lock now, so the head read below cannot go stale, even if
        // another process (a CLI load beside a running server) writes to the same file.
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let result = match append_in_transaction(conn, batch).await {
            Ok(outcomes) => sqlx::query("COMMIT")
                .execute(&mut *conn)
                .await
                .map(|_| outcomes),
            Err(e) => Err(e),
        };
        if result.is_err() {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        }
        Ok(result?)
    }
}

/// Checks and inserts a whole batch with a handful of statements: one lookup of the batch's
/// event ids, one of its streams' versions, then multi-row inserts across commands. (The
/// writer never puts two commands on one stream, or sharing an id, into one batch.)
async fn append_in_transaction(
    conn: &mut SqliteConnection,
    batch: &[Command],
) -> Result<Vec<Outcome>, sqlx::Error> {
    let (mut head, last_recorded): (i64, i64) =
        sqlx::query_as("SELECT position, recorded_at FROM head WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
    let recorded_micros = Utc::now().timestamp_micros().max(last_recorded);
    let recorded_at =
        DateTime::<Utc>::from_timestamp_micros(recorded_micros).unwrap_or_else(Utc::now);
    let stored = stored_ids(conn, batch).await?;
    let versions = stream_versions(conn, batch).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    // (command, version of its first event) for every command that is appended.
    let mut admitted = Vec::with_capacity(batch.len());
    for command in batch {
        if command.events.iter().any(|e| stored.contains(&e.id)) {
            outcomes.push(Outcome::Duplicate);
            continue;
        }
        let current = versions.get(command.stream.as_str()).copied().unwrap_or(0);
        if !command.expected.admits(current as u64) {
            outcomes.push(Outcome::Conflict {
                actual: current as u64,
            });
            continue;
        }
        let count = command.events.len() as i64;
        outcomes.push(Outcome::Appended(AppendResult {
            stream_version: (current + count) as u64,
            first_position: (head + 1) as u64,
            last_position: (head + count) as u64,
            recorded_at,
        }));
        admitted.push((command, current + 1, head + 1));
        head += count;
    }
    let rows = admitted.iter().flat_map(|(command, version, position)| {
        command
            .events
            .iter()
            .zip(0..)
            .map(move |(e, i)| (command.stream.as_str(), version + i, position + i, e))
    });
    let rows: Vec<_> = rows.collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut query =
            QueryBuilder::<Sqlite>::new(format!("INSERT INTO events ({EVENT_COLUMNS}) "));
        query.push_values(chunk, |mut row, (stream, version, position, e)| {
            row.push_bind(*position)
                .push_bind(e.id)
                .push_bind(*stream)
                .push_bind(*version)
                .push_bind(e.event_type.as_str())
                .push_bind(e.schema_version as i64)
                .push_bind(e.occurred_on)
                .push_bind(recorded_micros)
                .push_bind(e.context.actor)
                .push_bind(e.context.organisation)
                .push_bind(e.context.correlation_id)
                .push_bind(e.payload.get());
        });
        query.build().execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE head SET position = ?1, recorded_at = ?2 WHERE id = 1")
        .bind(head)
        .bind(recorded_micros)
        .execute(&mut *conn)
        .await?;
    Ok(outcomes)
}

/// The batch's event ids that are already stored (retries, or reused ids).
async fn stored_ids(
    conn: &mut SqliteConnection,
    batch: &[Command],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let ids: Vec<Uuid> = batch
        .iter()
        .flat_map(|c| c.events.iter().map(|e| e.id))
        .collect();
    let mut stored = HashSet::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let mut query =
            QueryBuilder::<Sqlite>::new("SELECT event_id FROM events WHERE event_id IN (");
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        query.push(")");
        stored.extend(
            query
                .build_query_scalar::<Uuid>()
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    Ok(stored)
}

/// The current version of each of the batch's streams that has events.
async fn stream_versions(
    conn: &mut SqliteConnection,
    batch: &[Command],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let mut versions = HashMap::new();
    for chunk in batch.chunks(LOOKUP_CHUNK) {
        // One scalar max() per stream: SQLite answers each with one step on the (stream_id,
        // version) index, where a GROUP BY would read every event of the stream.
        let mut query = QueryBuilder::<Sqlite>::new("WITH s (id) AS (VALUES ");
        let mut list = query.separated(", ");
        for command in chunk {
            list.push("(");
            list.push_bind_unseparated(command.stream.as_str());
            list.push_unseparated(")");
        }
        query.push(
            ") SELECT id, (SELECT max(version) FROM events WHERE stream_id = s.id) AS version \
             FROM s WHERE version IS NOT NULL",
        );
        versions.extend(
            query
                .build_query_as::<(String, i64)>()
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    Ok(versions)
}

fn decode(row: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    Ok(RecordedEvent {
        position: row.try_get::<i64, _>(0)? as u64,
        id: row.try_get(1)?,
        stream_id: row.try_get(2)?,
        version: row.try_get::<i64, _>(3)? as u64,
        event_type: row.try_get(4)?,
        schema_version: row.try_get::<i64, _>(5)? as u32,
        occurred_on: row.try_get::<NaiveDate, _>(6)?,
        recorded_at: recorded_at(row.try_get(7)?)?,
        context: EventContext {
            actor: row.try_get(8)?,
            organisation: row.try_get(9)?,
            correlation_id: row.try_get(10)?,
        },
        payload: stored_payload(row.try_get(11)?)?,
    })
}

/// A stored `recorded_at`: microseconds since the epoch.
pub(crate) fn recorded_at(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .ok_or_else(|| StoreError::Corrupt(format!("recorded_at {micros} is out of range")))
}

//! The SQLite backend: the embedded store, one file in the data directory, WAL, one writer.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow,
};
use sqlx::{Connection, QueryBuilder, Row, Sqlite};
use tokio::sync::{OwnedMutexGuard, watch};
use uuid::Uuid;

use crate::StoreConfig;
use crate::error::StoreError;
use crate::event::{AppendResult, EventContext, RecordedEvent, StreamId, stored_payload};
use crate::sqlite_bulk::BulkReader;
use crate::writer::{BatchAppender, Command, Outcome};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

const EVENT_COLUMNS: &str = "position, event_id, stream_id, version, event_type, schema_version, occurred_on, \
     recorded_at, actor_id, organisation_id, correlation_id, payload";

/// The settings of every connection that may write (the pool's, the writers', the background
/// checkpoints'); WAL is the file's own.
const CONNECTION_PRAGMAS: [(&str, &str); 5] = [
    // FULL: an acknowledged append survives a power cut, not only a crash of the process.
    ("synchronous", "FULL"),
    // Deleted rows are overwritten, so erased vault entries leave nothing in the file.
    ("secure_delete", "ON"),
    // A rebuild is one transaction, so the WAL grows to the size of the read models; after the
    // next checkpoint, shrink the file back rather than keep it at its peak.
    ("journal_size_limit", "67108864"),
    // The log is checkpointed in the background (`checkpoints`); a commit checkpoints it itself
    // only past this many pages (SQLite's default is 1,000), should that fall so far behind.
    ("wal_autocheckpoint", "16384"),
    ("foreign_keys", "ON"),
];
/// How long a connection waits for SQLite's write lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Events a bulk read makes room for before it grows.
const PAGE_CAPACITY: usize = 10_000;
/// Events a read of one stream makes room for before it grows (a record's history is tens).
const STREAM_CAPACITY: usize = 64;
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
        let options = CONNECTION_PRAGMAS.iter().fold(
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(BUSY_TIMEOUT),
            |options, (name, value)| options.pragma(*name, *value),
        );
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        // Opened now (a moment's work), so a file that cannot be written fails the opening.
        let (wrote, written) = watch::channel(());
        let writer = DirectWriter {
            path: path.to_path_buf(),
            conn: Some(open_writer(path)?),
            wrote,
        };
        tokio::spawn(checkpoints(path.to_path_buf(), written));
        let probe = options
            .clone()
            .create_if_missing(false)
            .busy_timeout(Duration::from_millis(300));
        let writer = Arc::new(tokio::sync::Mutex::new(writer));
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
        let params = (
            stream.as_str().to_string(),
            from_version as i64,
            limit as i64,
        );
        self.bulk
            .events(sql, params, limit.min(STREAM_CAPACITY))
            .await
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
/// rows take turns on it in this process, in the order they ask, and a consumer's write
/// transaction ([`EventStore::begin`](crate::EventStore::begin)) holds the turn while it is open.
/// On connections of their own they met at SQLite's write lock, where a writer that finds it
/// taken sleeps and tries again (SQLite's busy handler sleeps up to 100 ms at a time), which set
/// the tail of every read's latency under load (each read waits for its access-log row).
pub(crate) type WriterConnection = Arc<tokio::sync::Mutex<DirectWriter>>;

/// The writers' turn, held.
pub(crate) type WriterTurn = OwnedMutexGuard<DirectWriter>;

/// The writers' connection, through rusqlite: each commit (a batch of appends, a batch of
/// access-log rows) runs whole on a blocking thread, one hand-off there and back. Through
/// sqlx-sqlite every statement is a hand-off to the connection's worker thread and back (a batch
/// of appends took seven), each made while holding the turn that every read's access-log row
/// waits for, and on busy cores each hand-off waits to be scheduled.
#[derive(Debug)]
pub(crate) struct DirectWriter {
    path: PathBuf,
    /// Dropped after a failure that may have come from the file (busy past the timeout, I/O),
    /// and opened afresh by the next write.
    conn: Option<rusqlite::Connection>,
    /// Told of every commit made in the turn, for the background checkpoints.
    wrote: watch::Sender<()>,
}

impl DirectWriter {
    /// Runs `write` on `input` in one `BEGIN IMMEDIATE` transaction on a blocking thread,
    /// committed when it returns `Ok` and rolled back otherwise; `input` comes back with the
    /// answer (not after a panic, which is answered as an error).
    pub async fn write<T, R>(
        &mut self,
        input: T,
        write: fn(&rusqlite::Transaction<'_>, &T) -> Result<R, StoreError>,
    ) -> Result<(T, Result<R, StoreError>), StoreError>
    where
        T: Send + 'static,
        R: Send + 'static,
    {
        let conn = self.conn.take();
        let path = self.path.clone();
        let (conn, input, result) = tokio::task::spawn_blocking(move || {
            let mut conn = match conn.map_or_else(|| open_writer(&path), Ok) {
                Ok(conn) => conn,
                Err(e) => return (None, input, Err(e)),
            };
            let result = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(StoreError::from)
                .and_then(|tx| {
                    let written = write(&tx, &input)?;
                    tx.commit()?;
                    Ok(written)
                });
            (Some(conn), input, result)
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("a write to the store stopped: {e}")))?;
        self.conn = conn.filter(|_| !matches!(result, Err(StoreError::Unavailable(_))));
        if result.is_ok() {
            self.wrote();
        }
        Ok((input, result))
    }

    /// Notes a commit made in the turn (a consumer's, on a connection of the pool).
    pub fn wrote(&self) {
        self.wrote.send_replace(());
    }
}

/// How long after a commit the background checkpoint runs: commits meanwhile share it.
const CHECKPOINT_DELAY: Duration = Duration::from_millis(250);

/// Copies the write-ahead log into the database file in the background, on a connection of its
/// own, a moment after commits (`PRAGMA wal_checkpoint(PASSIVE)`: it waits for no reader or
/// writer). SQLite's own automatic checkpoint runs inside the commit that crosses 1,000 pages,
/// so that commit, and everything waiting for the writers' turn behind it (every read's
/// access-log row), waited for the copy and its `fsync`; under load that set the tail of the
/// latency of reads and writes alike. Ends when the store's writer is dropped.
async fn checkpoints(path: PathBuf, mut written: watch::Receiver<()>) {
    let mut conn: Option<rusqlite::Connection> = None;
    while written.changed().await.is_ok() {
        tokio::time::sleep(CHECKPOINT_DELAY).await;
        written.borrow_and_update();
        let path = path.clone();
        let taken = conn.take();
        let done = tokio::task::spawn_blocking(move || {
            let conn = taken.map_or_else(|| open_writer(&path), Ok)?;
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
            Ok::<_, StoreError>(conn)
        })
        .await;
        match done {
            Ok(Ok(kept)) => conn = Some(kept),
            Ok(Err(error)) => {
                tracing::warn!(%error, "checkpoint of the write-ahead log failed; the next commit tries again");
            }
            Err(error) => tracing::warn!(%error, "checkpoint of the write-ahead log stopped"),
        }
    }
}

/// Opens a connection for the writers (or the background checkpoints) with the pool's settings.
fn open_writer(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // As the pool's, and a larger page cache (64 MiB): the writer walks the indexes on every
    // append.
    for (name, value) in CONNECTION_PRAGMAS.iter().chain([&("cache_size", "-65536")]) {
        conn.pragma_update(None, name, value)?;
    }
    Ok(conn)
}

/// A writer's turn on the [`WriterConnection`]: waited for as soon as the writer has something
/// to write and before it gathers what else is waiting ([`wait`](Self::wait)), so what arrives
/// while another writer commits goes into this writer's next commit, not the one after.
pub(crate) struct Turn {
    conn: WriterConnection,
    held: Option<WriterTurn>,
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
    pub async fn take(&mut self) -> WriterTurn {
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

    // IMMEDIATE takes the write lock up front, so the head read cannot go stale, even if
    // another process (a CLI load beside a running server) writes to the same file.
    async fn append_batch(
        &mut self,
        batch: Vec<Command>,
    ) -> (Vec<Command>, Result<Vec<Outcome>, StoreError>) {
        match self.turn.take().await.write(batch, append_batch).await {
            Ok(done) => done,
            Err(stopped) => (Vec::new(), Err(stopped)),
        }
    }
}

/// Checks and inserts a whole batch, each statement prepared once per connection: per command,
/// a probe of the event-id index for each of its events and one of the (stream, version) index
/// for its version, then its rows. (The writer never puts two commands on one stream, or
/// sharing an id, into one batch, so what one command inserts cannot change another's checks.)
fn append_batch(
    tx: &rusqlite::Transaction<'_>,
    batch: &Vec<Command>,
) -> Result<Vec<Outcome>, StoreError> {
    let (mut head, last_recorded): (i64, i64) = tx.query_row(
        "SELECT position, recorded_at FROM head WHERE id = 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let recorded_micros = Utc::now().timestamp_micros().max(last_recorded);
    let recorded_at =
        DateTime::<Utc>::from_timestamp_micros(recorded_micros).unwrap_or_else(Utc::now);
    let mut stored = tx.prepare_cached("SELECT 1 FROM events WHERE event_id = ?1")?;
    // A scalar max(): one step on the (stream_id, version) index.
    let mut version = tx.prepare_cached("SELECT max(version) FROM events WHERE stream_id = ?1")?;
    let mut insert = tx.prepare_cached(&format!(
        "INSERT INTO events ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for command in batch {
        let mut duplicate = false;
        for e in &command.events {
            if stored.exists([e.id.as_bytes().as_slice()])? {
                duplicate = true;
                break;
            }
        }
        if duplicate {
            outcomes.push(Outcome::Duplicate);
            continue;
        }
        let current: i64 = version
            .query_row([command.stream.as_str()], |row| {
                row.get::<_, Option<i64>>(0)
            })?
            .unwrap_or(0);
        if !command.expected.admits(current as u64) {
            outcomes.push(Outcome::Conflict {
                actual: current as u64,
            });
            continue;
        }
        for (i, e) in (0..).zip(&command.events) {
            insert.execute(rusqlite::params![
                head + 1 + i,
                e.id.as_bytes().as_slice(),
                command.stream.as_str(),
                current + 1 + i,
                e.event_type,
                e.schema_version as i64,
                // As sqlx writes a date (and reads it back).
                e.occurred_on.format("%F").to_string(),
                recorded_micros,
                e.context.actor.as_bytes().as_slice(),
                e.context.organisation.as_bytes().as_slice(),
                e.context.correlation_id.as_bytes().as_slice(),
                e.payload.get(),
            ])?;
        }
        let count = command.events.len() as i64;
        outcomes.push(Outcome::Appended(AppendResult {
            stream_version: (current + count) as u64,
            first_position: (head + 1) as u64,
            last_position: (head + count) as u64,
            recorded_at,
        }));
        head += count;
    }
    tx.execute(
        "UPDATE head SET position = ?1, recorded_at = ?2 WHERE id = 1",
        rusqlite::params![head, recorded_micros],
    )?;
    Ok(outcomes)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The writers' connection has the pool's settings: FULL durability above all.
    #[test]
    fn the_writers_connection_has_the_pools_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roadback.db");
        rusqlite::Connection::open(&path).unwrap();
        let conn = open_writer(&path).unwrap();
        let setting = |name: &str| -> i64 {
            conn.pragma_query_value(None, name, |row| row.get(0))
                .unwrap()
        };
        assert_eq!(setting("synchronous"), 2, "FULL");
        assert_eq!(setting("secure_delete"), 1);
        assert_eq!(setting("journal_size_limit"), 67_108_864);
        assert_eq!(setting("wal_autocheckpoint"), 16_384);
        assert_eq!(setting("foreign_keys"), 1);
        assert_eq!(setting("cache_size"), -65_536);
    }
}

//! The Roadback event store: an append-only log of immutable events with a gap-free global order,
//! on PostgreSQL (production, several server instances) or SQLite (embedded, one file).
//!
//! One [`EventStore`] type serves both backends; the conformance suite runs every test against each.

mod access_log;
pub mod directory;
mod error;
mod event;
mod limits;
mod postgres;
pub mod projector;
pub mod read_models;
pub mod records;
mod sql;
mod sqlite;
mod sqlite_bulk;
mod subscription;
#[cfg(feature = "testing")]
pub mod testing;
mod transaction;
pub mod vault;
mod writer;

use std::path::Path;
use std::sync::Arc;

use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use tokio::sync::watch;
use uuid::Uuid;

pub use error::StoreError;
pub use event::{AppendResult, EventContext, ExpectedVersion, NewEvent, RecordedEvent, StreamId};
pub use limits::Limits;
pub use subscription::Subscription;
pub use transaction::{SqliteTransaction, StoreTransaction};

use access_log::{AccessLog, PgAccessSink, SqliteAccessSink};
use postgres::{HeldConnection, PgBackend};
use sqlite::{SqliteBackend, Turn};
use writer::{Command, Outcome, Writer};

/// Events per page when reading the whole log.
pub const DEFAULT_PAGE: usize = 1000;

/// Where the events live.
#[derive(Clone, Debug)]
pub enum StoreLocation {
    /// A PostgreSQL server, by connection URL.
    Postgres(String),
    /// A SQLite database file (created if missing).
    Sqlite(std::path::PathBuf),
}

/// How to open a store.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Which backend and where.
    pub location: StoreLocation,
    /// Limits on appends.
    pub limits: Limits,
    /// Database connections for reads and consumers (the writer has one of its own).
    pub max_connections: u32,
    /// How long to wait for a database connection before reporting the store unavailable.
    pub acquire_timeout: std::time::Duration,
}

impl StoreConfig {
    /// A configuration with default limits and pool size.
    pub fn new(location: StoreLocation) -> Self {
        Self {
            location,
            limits: Limits::default(),
            max_connections: 8,
            acquire_timeout: std::time::Duration::from_secs(5),
        }
    }
}

/// The event store: append, read one stream, read all, subscribe, checkpoints. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EventStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    backend: Backend,
    writer: Writer,
    access: AccessLog,
    tokens: directory::TokenLookups,
    limits: Limits,
    head: watch::Receiver<u64>,
}

#[derive(Debug)]
enum Backend {
    Postgres(PgBackend),
    Sqlite(SqliteBackend),
}

impl EventStore {
    /// Opens the store, applying any pending migrations first.
    pub async fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        match &config.location {
            StoreLocation::Postgres(url) => {
                let (backend, appender) = PgBackend::connect(url, config).await?;
                let head = Arc::new(watch::channel(backend.head().await?).0);
                backend.spawn_listener(head.clone());
                let writer = Writer::spawn(appender, head.clone());
                let access = AccessLog::spawn(PgAccessSink(HeldConnection::new(
                    backend.pool.connect_options().as_ref().clone(),
                    config.acquire_timeout,
                )));
                Ok(Self::assemble(
                    Backend::Postgres(backend),
                    writer,
                    access,
                    config.limits,
                    &head,
                ))
            }
            StoreLocation::Sqlite(path) => Self::open_sqlite(path, config).await,
        }
    }

    /// True when the configured place holds a Roadback store already (without creating
    /// anything): the SQLite file exists, or the PostgreSQL database has the event log.
    pub async fn exists(config: &StoreConfig) -> Result<bool, StoreError> {
        match &config.location {
            StoreLocation::Sqlite(path) => Ok(path.exists()),
            StoreLocation::Postgres(url) => postgres::holds_store(url, config).await,
        }
    }

    async fn open_sqlite(path: &Path, config: &StoreConfig) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Database(Arc::new(sqlx::Error::Configuration(
                    format!("cannot create the data directory {}: {e}", dir.display()).into(),
                )))
            })?;
        }
        let (backend, appender) = SqliteBackend::open(path, config).await?;
        let head = Arc::new(watch::channel(backend.head().await?).0);
        let access = AccessLog::spawn(SqliteAccessSink(Turn::new(appender.connection())));
        let writer = Writer::spawn(appender, head.clone());
        Ok(Self::assemble(
            Backend::Sqlite(backend),
            writer,
            access,
            config.limits,
            &head,
        ))
    }

    fn assemble(
        backend: Backend,
        writer: Writer,
        access: AccessLog,
        limits: Limits,
        head: &watch::Sender<u64>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                backend,
                writer,
                access,
                tokens: Default::default(),
                limits,
                head: head.subscribe(),
            }),
        }
    }

    /// The backend's name: `postgres` or `sqlite`.
    pub fn backend_name(&self) -> &'static str {
        match self.inner.backend {
            Backend::Postgres(_) => "postgres",
            Backend::Sqlite(_) => "sqlite",
        }
    }

    /// The limits appends are checked against.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// Appends `events` to `stream` atomically, if the stream is at `expected`.
    ///
    /// Sending the same event ids again (a retried command) stores nothing and returns the first
    /// append's result; an id already stored with different content is an error.
    pub async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        Ok(self.commit(stream, expected, events).await?.0)
    }

    /// Like [`append`](Self::append), answering the events as stored: what reading them back
    /// would give (positions, versions, recorded time), without reading them back. A retry's
    /// answer is the first append's events, which have the same content.
    pub async fn append_recorded(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let (result, command) = self.commit(stream, expected, events).await?;
        Ok(result.recorded(stream, command.events))
    }

    async fn commit(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<(AppendResult, Command), StoreError> {
        self.inner.limits.check(&events)?;
        let command = Command {
            stream: stream.clone(),
            expected,
            events,
        };
        match self.inner.writer.submit(command).await? {
            (Outcome::Appended(result), command) => Ok((result, command)),
            (Outcome::Conflict { actual }, _) => Err(StoreError::Conflict {
                stream: stream.to_string(),
                expected,
                actual,
            }),
            (Outcome::Duplicate, command) => Ok((self.replayed_result(&command).await?, command)),
        }
    }

    /// Some ids of an append are already stored: answers the first append's result if this is an
    /// exact retry of it, and an error otherwise.
    async fn replayed_result(&self, command: &Command) -> Result<AppendResult, StoreError> {
        let ids: Vec<Uuid> = command.events.iter().map(|e| e.id).collect();
        let stored = self.read_by_ids(&ids).await?;
        let mismatch = command.events.iter().enumerate().find(|(i, new)| {
            stored.get(*i).is_none_or(|old| {
                !old.same_content_as(&command.stream, new)
                    || (*i > 0 && old.version != stored[i - 1].version + 1)
            })
        });
        match (mismatch, stored.first(), stored.last()) {
            (None, Some(first), Some(last)) if stored.len() == command.events.len() => {
                Ok(AppendResult {
                    stream_version: last.version,
                    first_position: first.position,
                    last_position: last.position,
                    recorded_at: first.recorded_at,
                })
            }
            (Some((i, new)), _, _) => Err(StoreError::IdempotencyMismatch {
                event_id: stored.get(i).map_or(new.id, |old| old.id),
            }),
            _ => Err(StoreError::IdempotencyMismatch { event_id: ids[0] }),
        }
    }

    /// Reads up to `limit` events of one stream, from version `from_version` (versions start at 1).
    pub async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        match &self.inner.backend {
            Backend::Postgres(b) => b.read_stream(stream, from_version, limit).await,
            Backend::Sqlite(b) => b.read_stream(stream, from_version, limit).await,
        }
    }

    /// Reads up to `limit` events of the whole log with a position greater than `after`, in order.
    pub async fn read_all(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        match &self.inner.backend {
            Backend::Postgres(b) => b.read_all(after, limit).await,
            Backend::Sqlite(b) => b.read_all(after, limit).await,
        }
    }

    /// Every event with a position greater than `after`, in order, to the end of the log as the
    /// read finds it: never with a gap, and with or without what is appended while it runs. On
    /// PostgreSQL one query on one snapshot, its rows decoded as they arrive (the database
    /// produces while the caller consumes, and no page is planned and fetched on its own); on
    /// SQLite pages of [`DEFAULT_PAGE`], so that no read transaction keeps the write-ahead log
    /// from being checkpointed for the length of the read.
    pub fn read_log(&self, after: u64) -> BoxStream<'_, Result<RecordedEvent, StoreError>> {
        match &self.inner.backend {
            Backend::Postgres(b) => b.read_log(after),
            Backend::Sqlite(_) => stream::try_unfold(Some(after), move |after| async move {
                let Some(after) = after else {
                    return Ok::<_, StoreError>(None);
                };
                let page = self.read_all(after, DEFAULT_PAGE).await?;
                let next = page.last().filter(|_| page.len() == DEFAULT_PAGE);
                let next = next.map(|last| last.position);
                Ok(Some((stream::iter(page.into_iter().map(Ok)), next)))
            })
            .try_flatten()
            .boxed(),
        }
    }

    /// Reads up to `limit` events of the streams whose id starts with `prefix`, ordered by
    /// stream and version, after `after` (a stream id and version; `("", 0)` to start) and up to
    /// position `upto`. Replays that fold one stream at a time read the log this way.
    pub async fn read_streams(
        &self,
        prefix: &str,
        after: (&str, u64),
        upto: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        match &self.inner.backend {
            Backend::Postgres(b) => b.read_streams(prefix, after, upto, limit).await,
            Backend::Sqlite(b) => b.read_streams(prefix, after, upto, limit).await,
        }
    }

    /// Stream ids that cut the streams whose id starts with `prefix` into `parts` ranges of about
    /// as many events each, for reading them in parallel with [`read_streams`](Self::read_streams):
    /// ascending, without repeats, at most `parts - 1` of them (fewer when there are few streams).
    /// Each is read off the `(stream_id, version)` index at an offset of a fraction of the head.
    pub async fn stream_splits(
        &self,
        prefix: &str,
        parts: usize,
    ) -> Result<Vec<String>, StoreError> {
        let head = self.head().await?;
        let mut splits: Vec<String> = Vec::new();
        for part in 1..parts as u64 {
            let offset = head * part / parts as u64;
            let split = match &self.inner.backend {
                Backend::Postgres(b) => b.stream_at(prefix, offset).await?,
                Backend::Sqlite(b) => b.stream_at(prefix, offset).await?,
            };
            match split {
                Some(split) if splits.last().is_none_or(|last| *last < split) => splits.push(split),
                Some(_) => {}
                None => break,
            }
        }
        Ok(splits)
    }

    /// Reads the stored events with these ids, in position order (unknown ids are skipped).
    pub async fn read_by_ids(&self, ids: &[Uuid]) -> Result<Vec<RecordedEvent>, StoreError> {
        match &self.inner.backend {
            Backend::Postgres(b) => b.read_by_ids(ids).await,
            Backend::Sqlite(b) => b.read_by_ids(ids).await,
        }
    }

    /// The stream's current version: the version of its last event, 0 when it has none.
    pub async fn stream_version(&self, stream: &StreamId) -> Result<u64, StoreError> {
        match &self.inner.backend {
            Backend::Postgres(b) => b.stream_version(stream).await,
            Backend::Sqlite(b) => b.stream_version(stream).await,
        }
    }

    /// The position of the last committed event (0 for an empty store).
    pub async fn head(&self) -> Result<u64, StoreError> {
        match &self.inner.backend {
            Backend::Postgres(b) => b.head().await,
            Backend::Sqlite(b) => b.head().await,
        }
    }

    /// Follows the log: every event after `after`, first the backlog, then live, each once, in order.
    pub fn subscribe(&self, after: u64) -> Subscription {
        Subscription::new(self.clone(), after, self.inner.head.clone())
    }

    /// A consumer's saved position, if it has one.
    pub async fn checkpoint(&self, name: &str) -> Result<Option<u64>, StoreError> {
        match &self.inner.backend {
            Backend::Postgres(b) => b.checkpoint(name).await,
            Backend::Sqlite(b) => b.checkpoint(name).await,
        }
    }

    /// Starts a transaction for a consumer's own writes and its checkpoint.
    pub async fn begin(&self) -> Result<StoreTransaction, StoreError> {
        Ok(match &self.inner.backend {
            Backend::Postgres(b) => StoreTransaction::Postgres(b.pool.begin().await?),
            // The writers' turn first, then the write lock (IMMEDIATE: up front rather than
            // fail to upgrade a read later).
            Backend::Sqlite(b) => {
                let turn = b.writer.clone().lock_owned().await;
                let tx = b.pool.begin_with("BEGIN IMMEDIATE").await?;
                StoreTransaction::Sqlite(SqliteTransaction::new(tx, Some(turn)))
            }
        })
    }

    /// Starts a read-only transaction: one consistent view for reads that span statements.
    pub(crate) async fn begin_read(&self) -> Result<StoreTransaction, StoreError> {
        Ok(match &self.inner.backend {
            Backend::Postgres(b) => StoreTransaction::Postgres(
                b.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
            Backend::Sqlite(b) => {
                StoreTransaction::Sqlite(SqliteTransaction::new(b.pool.begin().await?, None))
            }
        })
    }

    /// Brings the planner's statistics of the event log up to date when bulk writes (a demo
    /// load, an import) left them behind, so reads by key are planned on what the table holds,
    /// not on an empty table's guesses. PostgreSQL: `ANALYZE events` (sampled, about half a
    /// second for a million events) when the log's head position, which counts its rows, is
    /// more than a tenth past the row count its statistics were taken at (autovacuum's own
    /// threshold, which a bulk load outruns); SQLite: `PRAGMA optimize`, which decides alike.
    pub async fn analyze_log(&self) -> Result<(), StoreError> {
        match &self.inner.backend {
            Backend::Postgres(b) => {
                let stale: bool = sqlx::query_scalar(
                    "SELECT coalesce((SELECT max(position) FROM events), 0) \
                     > 50 + 1.1 * greatest(reltuples, 0) FROM pg_class WHERE oid = 'events'::regclass",
                )
                .fetch_one(&b.pool)
                .await?;
                if stale {
                    sqlx::query("ANALYZE events").execute(&b.pool).await?;
                }
            }
            Backend::Sqlite(b) => {
                sqlx::query("PRAGMA optimize").execute(&b.pool).await?;
            }
        }
        Ok(())
    }

    /// Brings the planner's statistics of the read models up to date after they were rewritten
    /// whole (a rebuild). PostgreSQL: `ANALYZE plans, caseload`; SQLite: `PRAGMA optimize`.
    pub async fn analyze_read_models(&self) -> Result<(), StoreError> {
        match &self.inner.backend {
            Backend::Postgres(b) => {
                sqlx::query("ANALYZE plans, caseload")
                    .execute(&b.pool)
                    .await?;
            }
            Backend::Sqlite(b) => {
                sqlx::query("PRAGMA optimize").execute(&b.pool).await?;
            }
        }
        Ok(())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.inner.backend {
            Backend::Postgres(b) => b.ping().await,
            Backend::Sqlite(b) => b.ping().await,
        }
    }

    /// Closes the store's pooled connections, waiting for those in use. On SQLite it first
    /// copies the write-ahead log into the database file and empties it: a rebuild is one
    /// transaction, so it leaves a WAL as large as the read models, which nothing else would
    /// empty before the next write.
    pub async fn close(&self) -> Result<(), StoreError> {
        match &self.inner.backend {
            Backend::Postgres(b) => b.pool.close().await,
            Backend::Sqlite(b) => {
                b.bulk.close();
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&b.pool)
                    .await?;
                b.pool.close().await;
            }
        }
        Ok(())
    }

    /// The PostgreSQL pool, for read models kept in the same database (None on SQLite).
    pub fn postgres_pool(&self) -> Option<&sqlx::PgPool> {
        match &self.inner.backend {
            Backend::Postgres(b) => Some(&b.pool),
            Backend::Sqlite(_) => None,
        }
    }

    /// The SQLite pool, for read models kept in the same file (None on PostgreSQL).
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        match &self.inner.backend {
            Backend::Postgres(_) => None,
            Backend::Sqlite(b) => Some(&b.pool),
        }
    }
}

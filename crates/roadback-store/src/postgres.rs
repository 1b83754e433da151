//! The PostgreSQL backend: the production store, shared by several server instances.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row};
use tokio::sync::watch;
use uuid::Uuid;

use crate::StoreConfig;
use crate::error::StoreError;
use crate::event::{
    AppendResult, EventContext, ExpectedVersion, RecordedEvent, StreamId, stored_payload,
};
use crate::writer::{BatchAppender, Command, Outcome, advance_head};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// The channel [`spawn_notifier`] notifies with the new head position.
const CHANNEL: &str = "roadback_events";

/// The columns every read selects, in the order [`decode`] takes them.
macro_rules! event_columns {
    () => {
        "position, event_id, stream_id, version, event_type, schema_version, occurred_on, \
         recorded_at, actor_id, organisation_id, correlation_id, payload::text"
    };
}
const EVENT_COLUMNS: &str = event_columns!();

/// The whole log after `$1`, for [`PgBackend::read_log`].
const READ_LOG: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE position > $1 ORDER BY position"
);

/// The most often this instance tells the others it appended (see [`spawn_notifier`]).
const NOTIFY_SPACING: std::time::Duration = std::time::Duration::from_millis(5);

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

/// How long a pooled connection may sit idle before it is checked with a ping when taken.
const IDLE_BEFORE_PING: std::time::Duration = std::time::Duration::from_secs(1);

impl PgBackend {
    /// Connects, applies the migrations, and connects the writer.
    ///
    /// The writer gets a connection of its own, which always uses the generic plans of the
    /// append statements ([`APPEND_KNOWN`] and the others): their shapes never change, and
    /// re-planning them on every call costs more than running them.
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
            // sqlx pings a connection each time it is taken from the pool, and again each time
            // it is given back: under load, two round trips of every query's one. The ping on
            // return stays (sqlx always sends it, and it finds a connection the query broke);
            // the one on taking is kept for connections idle long enough that the server may
            // have gone away meanwhile.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_BEFORE_PING {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let options = pool.connect_options().as_ref().clone().options([
            ("plan_cache_mode", "force_generic_plan"),
            // What the append statements are written for, whatever the database's default
            // (the space is escaped: the server splits its startup options at unescaped spaces).
            ("default_transaction_isolation", "read\\ committed"),
        ]);
        let mut writer = HeldConnection::new(options, config.acquire_timeout);
        writer.get().await?;
        let appender = PgAppender {
            conn: writer,
            appended: spawn_notifier(pool.clone()),
        };
        Ok((Self { pool }, appender))
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
        let query = sqlx::query(&sql)
            .bind(stream.as_str())
            .bind(from_version as i64)
            .bind(limit as i64);
        fetch_events(query, &self.pool).await
    }

    pub async fn read_all(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2"
        );
        let query = sqlx::query(&sql).bind(after as i64).bind(limit as i64);
        fetch_events(query, &self.pool).await
    }

    /// Every event after `after` in position order, as one query on one snapshot (a prefix of
    /// the log, without gaps) whose rows are decoded as they arrive: the database produces while
    /// the caller consumes, and no page is planned and fetched on its own. The query runs with
    /// sorts disabled (`SET LOCAL` in its own transaction), so its plan is always the walk of the
    /// primary key, which streams from the first row: on a log without statistics yet (the
    /// minute after a load, before autovacuum analyzes it) the planner would sort the whole table
    /// before answering one row. Dropping the stream ends the query and its transaction.
    pub fn read_log(&self, after: u64) -> BoxStream<'static, Result<RecordedEvent, StoreError>> {
        let pool = self.pool.clone();
        async_stream::try_stream! {
            let mut transaction = pool.begin().await?;
            sqlx::query("SET LOCAL enable_sort = off")
                .execute(&mut *transaction)
                .await?;
            let mut rows = sqlx::query(READ_LOG)
                .bind(after as i64)
                .fetch(&mut *transaction);
            let mut first = true;
            while let Some(row) = rows.try_next().await? {
                yield decode(&row, std::mem::take(&mut first))?;
            }
            drop(rows);
            transaction.commit().await?;
        }
        .boxed()
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
        let query = sqlx::query(&sql)
            .bind(prefix)
            .bind(after.0)
            .bind(after.1 as i64)
            .bind(upto as i64)
            .bind(limit as i64);
        fetch_events(query, &self.pool).await
    }

    /// The stream of the event at this offset in (stream, version) order among the streams
    /// starting with `prefix` (an index-only walk).
    pub async fn stream_at(&self, prefix: &str, offset: u64) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT stream_id FROM events WHERE starts_with(stream_id, $1) \
             ORDER BY stream_id, version OFFSET $2 LIMIT 1",
        )
        .bind(prefix)
        .bind(offset as i64)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn read_by_ids(&self, ids: &[Uuid]) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ANY($1) ORDER BY position"
        );
        fetch_events(sqlx::query(&sql).bind(ids), &self.pool).await
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

/// Tells the other server instances that this one appended, so their subscribers read at once
/// (each instance's listener, [`PgBackend::spawn_listener`], moves its head on `NOTIFY
/// roadback_events`): the writer sends the new head here after each commit, and a task of its
/// own sends the newest as a `NOTIFY`, at once and then at most once per [`NOTIFY_SPACING`].
/// Sent from the append statement, the notification cost every append about a tenth of its
/// time, most of it waking the listening connections, while one every few milliseconds tells
/// them as much (they read everything after their head). Ends when the writer does. A
/// notification that fails is only logged: subscribers poll as well.
fn spawn_notifier(pool: PgPool) -> watch::Sender<u64> {
    let (appended, mut rx) = watch::channel(0);
    tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let position = *rx.borrow_and_update();
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(position.to_string())
                .execute(&pool)
                .await;
            if let Err(error) = sent {
                if pool.is_closed() {
                    return;
                }
                tracing::debug!(%error, "could not tell the other instances of an append; their subscribers poll");
            }
            tokio::time::sleep(NOTIFY_SPACING).await;
        }
    });
    appended
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

/// Appends a batch whose every command names the version it expects (no stream, or exactly v),
/// in one statement run on its own (an implicit transaction at READ COMMITTED): the common case,
/// and the cheapest, because nothing is judged in SQL. The client works out each event's stream
/// version (expected + 1, + 2, ...); the statement moves the `head` row by the batch's length and
/// inserts the events at the positions after it, and answers one row: the head before the batch
/// and the recorded time. It stores nothing and answers no row when a command that expects
/// version v > 0 finds no version v in its stream; the unique key on `(stream_id, version)`
/// refuses a version that is taken, and the one on `event_id` an id that is stored (SQLSTATE
/// 23505, the whole statement rolled back). Either way the batch goes on to [`APPEND_BATCH`],
/// which judges each command on its own. So an append that lands holds its stream's next
/// version, after exactly the version it expected.
///
/// Why it is safe with other instances appending: the `UPDATE` locks the one `head` row until
/// commit, so appends commit one at a time in position order, and a later position is never
/// visible before an earlier one (readers of "after P" cannot skip an event). At READ COMMITTED
/// an `UPDATE` that waited for that lock goes on from the newest head, so its positions follow
/// the batch it waited for; what it read of `events` before the wait may be older, but the
/// guard can only be wrong by missing a version (versions are never removed), which refuses the
/// batch, and the unique keys are checked against every committed row.
///
/// `$1`–`$8` are the events' columns ([`EventColumns`]), `$9` and `$10` each event's stream and
/// version, `$11` and `$12` the stream and version of each command that expects v > 0. The
/// guard probes the `(stream_id, version)` index (a scalar subquery, which the generic plan
/// keeps as an index lookup).
const APPEND_KNOWN: &str = "
WITH h AS (
    UPDATE head
       SET position = head.position + cardinality($1::uuid[]),
           recorded_at = greatest(clock_timestamp(), head.recorded_at)
     WHERE head.id = 1
       AND NOT EXISTS (SELECT 1 FROM unnest($11::text[], $12::int8[]) AS g(stream_id, version)
                        WHERE (SELECT true FROM events e
                                WHERE e.stream_id = g.stream_id AND e.version = g.version) IS NULL)
 RETURNING head.position - cardinality($1::uuid[]) AS before, head.recorded_at AS recorded
), inserted AS (
    INSERT INTO events (position, event_id, stream_id, version, event_type, schema_version, occurred_on,
                        recorded_at, actor_id, organisation_id, correlation_id, payload)
    SELECT h.before + u.k, u.id, u.stream_id, u.version, u.event_type, u.schema_version, u.occurred_on,
           h.recorded, u.actor, u.organisation, u.correlation, u.payload::json
      FROM h, unnest($1::uuid[], $2::text[], $3::int4[], $4::date[], $5::uuid[], $6::uuid[], $7::uuid[],
                     $8::text[], $9::text[], $10::int8[]) WITH ORDINALITY
           AS u(id, event_type, schema_version, occurred_on, actor, organisation, correlation, payload,
                stream_id, version, k)
)
SELECT before, recorded FROM h";

/// [`APPEND_KNOWN`] for a batch of one command of one event (one client's append), with
/// scalar parameters: `$1`–`$8` the event's columns, `$9` its stream, `$10` the version the
/// command expects. Unpacking arrays costs more than the rest of the statement here.
const APPEND_ONE: &str = "
WITH h AS (
    UPDATE head
       SET position = head.position + 1,
           recorded_at = greatest(clock_timestamp(), head.recorded_at)
     WHERE head.id = 1
       AND ($10::int8 = 0 OR EXISTS (SELECT 1 FROM events e WHERE e.stream_id = $9 AND e.version = $10::int8))
 RETURNING head.position, head.recorded_at
)
INSERT INTO events (position, event_id, stream_id, version, event_type, schema_version, occurred_on,
                    recorded_at, actor_id, organisation_id, correlation_id, payload)
SELECT h.position, $1, $9, $10 + 1, $2, $3, $4, h.recorded_at, $5, $6, $7, $8::json
  FROM h
RETURNING position - 1, recorded_at";

/// Appends a batch of commands, judging each on its own (idempotency by event id, then its
/// expected version: -1 any, 0 no stream, n exact), in one statement run after the `head` row's
/// lock ([`append_after_the_head_lock`]): the batches [`APPEND_KNOWN`] refused, and those with a
/// command that appends whatever its stream holds. Each command gets one result row in order:
/// outcome 0 appended, 1 version conflict, 2 an event id already stored. Commands of one batch
/// name distinct streams and distinct event ids (the writer guarantees it). `$1`–`$8` are the
/// events' columns ([`EventColumns`]); event j belongs to command `$9[j]` (1-based, events of a
/// command in order); `$10`–`$12` are the commands' streams, expected versions and counts.
///
/// The statement's snapshot is taken once the lock is held, so it sees every append committed
/// before and none can commit after it until this one does; the lock is released only after the
/// commit is visible. The unique keys on `event_id` and `(stream_id, version)` stay as the last
/// guard: a statement that broke either would fail whole.
///
/// Each step is materialized once, and each event id and stream version is a probe of its
/// unique index (a scalar subquery, which the generic plan keeps as an index lookup even when it
/// was made on an empty table). Arrays are only unnested, never subscripted (subscripting a
/// variable-width array walks it from its start).
const APPEND_BATCH: &str = "
WITH h AS MATERIALIZED (
    SELECT position, greatest(clock_timestamp(), recorded_at) AS recorded
      FROM head WHERE id = 1 FOR UPDATE
), ev AS MATERIALIZED (
    SELECT u.*, row_number() OVER (PARTITION BY u.cmd ORDER BY u.k) AS i,
           (SELECT true FROM events e WHERE e.event_id = u.id) AS stored
      FROM unnest($1::uuid[], $2::text[], $3::int4[], $4::date[], $5::uuid[], $6::uuid[], $7::uuid[],
                  $8::text[], $9::int4[]) WITH ORDINALITY
           AS u(id, event_type, schema_version, occurred_on, actor, organisation, correlation, payload, cmd, k)
), judged AS MATERIALIZED (
    SELECT c.ord, c.stream_id, c.n, c.current,
           (CASE
                WHEN EXISTS (SELECT 1 FROM ev WHERE ev.cmd = c.ord AND ev.stored) THEN 2
                WHEN c.expected >= 0 AND c.expected <> c.current THEN 1
                ELSE 0
            END)::int2 AS outcome
      FROM (SELECT c.*,
                   -- A stream's version is its last event's: one backward step on the (stream_id, version) index.
                   coalesce((SELECT max(e.version) FROM events e WHERE e.stream_id = c.stream_id), 0) AS current
              FROM unnest($10::text[], $11::int8[], $12::int4[]) WITH ORDINALITY AS c(stream_id, expected, n, ord)) c
), placed AS MATERIALIZED (
    SELECT j.*,
           CASE WHEN j.outcome = 0
                THEN h.position + sum(j.n) FILTER (WHERE j.outcome = 0) OVER (ORDER BY j.ord) - j.n
           END AS pos_before
      FROM judged j, h
), inserted AS (
    INSERT INTO events (position, event_id, stream_id, version, event_type, schema_version, occurred_on,
                        recorded_at, actor_id, organisation_id, correlation_id, payload)
    SELECT r.pos_before + ev.i, ev.id, r.stream_id, r.current + ev.i, ev.event_type, ev.schema_version,
           ev.occurred_on, h.recorded, ev.actor, ev.organisation, ev.correlation, ev.payload::json
      FROM placed r JOIN ev ON ev.cmd = r.ord, h
     WHERE r.outcome = 0
), moved AS (
    UPDATE head
       SET position = coalesce((SELECT max(r.pos_before + r.n) FROM placed r WHERE r.outcome = 0), h.position),
           recorded_at = h.recorded
      FROM h
     WHERE head.id = 1
)
SELECT r.outcome,
       CASE WHEN r.outcome = 0 THEN r.current + r.n ELSE r.current END,
       r.pos_before + 1,
       h.recorded
  FROM placed r, h
 ORDER BY r.ord";

/// Sends [`APPEND_BATCH`] after taking the head's lock, in a READ COMMITTED transaction, so the
/// statement's snapshot, taken once the lock is held, sees every append committed before it and
/// none can commit after it until this one does. Three more round trips than a statement on its
/// own; only batches [`APPEND_KNOWN`] refused come here.
async fn append_after_the_head_lock(
    conn: &mut PgConnection,
    batch: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
) -> Result<Vec<PgRow>, sqlx::Error> {
    let mut tx = conn
        .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
        .await?;
    sqlx::query("SELECT 1 FROM head WHERE id = 1 FOR UPDATE")
        .execute(&mut *tx)
        .await?;
    let rows = batch.fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows)
}

/// A connection one task keeps between its statements (the writers'): taking a connection
/// from a pool and giving it back costs sqlx a ping, a round trip before the next statement can
/// use it. Opened again after a failure that may have broken it.
pub(crate) struct HeldConnection {
    options: PgConnectOptions,
    timeout: std::time::Duration,
    conn: Option<PgConnection>,
    /// The connection was opened for the statement in flight (it has not answered one yet).
    fresh: bool,
}

impl HeldConnection {
    /// Connects with `options` when first used, waiting at most `timeout` each time.
    pub fn new(options: PgConnectOptions, timeout: std::time::Duration) -> Self {
        Self {
            options,
            timeout,
            conn: None,
            fresh: false,
        }
    }

    /// The connection, opened if it is not.
    pub async fn get(&mut self) -> Result<&mut PgConnection, StoreError> {
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => {
                self.fresh = true;
                tokio::time::timeout(self.timeout, PgConnection::connect_with(&self.options))
                    .await
                    .map_err(|_| StoreError::from(sqlx::Error::PoolTimedOut))??
            }
        };
        Ok(self.conn.insert(conn))
    }

    /// What a statement gave, or `None` when it is to be sent again: it failed for want of a
    /// connection ([`connection_lost`]) on a connection that had served before, which
    /// a restart of the server or a dropped idle connection leaves behind. The connection is
    /// dropped and the next [`get`](Self::get) opens one; a failure on a new connection is
    /// passed on. The statement may have committed before its answer was lost, so only
    /// statements whose repetition is harmless come here: a batch of appends (a repeated
    /// event id is answered as a retry, storing nothing) and access-log rows.
    pub fn checked<T>(&mut self, result: Result<T, sqlx::Error>) -> Option<Result<T, sqlx::Error>> {
        if let Err(e) = &result
            && connection_lost(e)
        {
            self.conn = None;
            if !self.fresh {
                tracing::info!(error = %e, "a held database connection failed; sending again on a new one");
                return None;
            }
        }
        self.fresh = false;
        Some(result)
    }
}

/// True when `error` says the connection is gone: not an answer from the database, or the
/// server ending the session (SQLSTATE class 08, connection exception; 57P, an administrator's
/// or a shutdown's termination).
fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => true,
    }
}

/// Commits batches: with [`APPEND_ONE`] or [`APPEND_KNOWN`], one statement, one round trip, one
/// commit; with [`APPEND_BATCH`] after the head's lock when those refuse a batch (a command's
/// expected version or event ids do not fit the store) or a command appends whatever its stream
/// holds.
pub(crate) struct PgAppender {
    conn: HeldConnection,
    /// The head after the last commit, for [`spawn_notifier`].
    appended: watch::Sender<u64>,
}

impl BatchAppender for PgAppender {
    async fn append_batch(
        &mut self,
        batch: Vec<Command>,
    ) -> (Vec<Command>, Result<Vec<Outcome>, StoreError>) {
        let result = self.append(&batch).await;
        if let Ok(outcomes) = &result
            && let Some(last) = outcomes.iter().filter_map(Outcome::last_position).max()
        {
            advance_head(&self.appended, last);
        }
        (batch, result)
    }
}

/// The events of a batch, column by column, as the append statements take them (`$1`–`$8`).
struct EventColumns<'a> {
    ids: Vec<Uuid>,
    types: Vec<&'a str>,
    schema_versions: Vec<i32>,
    occurred: Vec<NaiveDate>,
    actors: Vec<Uuid>,
    organisations: Vec<Uuid>,
    correlations: Vec<Uuid>,
    payloads: Vec<&'a str>,
}

impl<'a> EventColumns<'a> {
    fn of(batch: &'a [Command]) -> Self {
        let events = || batch.iter().flat_map(|c| &c.events);
        Self {
            ids: events().map(|e| e.id).collect(),
            types: events().map(|e| e.event_type.as_str()).collect(),
            schema_versions: events().map(|e| e.schema_version as i32).collect(),
            occurred: events().map(|e| e.occurred_on).collect(),
            actors: events().map(|e| e.context.actor).collect(),
            organisations: events().map(|e| e.context.organisation).collect(),
            correlations: events().map(|e| e.context.correlation_id).collect(),
            payloads: events().map(|e| e.payload.get()).collect(),
        }
    }

    fn bind<'q>(&'q self, sql: &'q str) -> PgQuery<'q> {
        sqlx::query(sql)
            .bind(&self.ids)
            .bind(&self.types)
            .bind(&self.schema_versions)
            .bind(&self.occurred)
            .bind(&self.actors)
            .bind(&self.organisations)
            .bind(&self.correlations)
            .bind(&self.payloads)
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

impl PgAppender {
    async fn append(&mut self, batch: &[Command]) -> Result<Vec<Outcome>, StoreError> {
        if batch.iter().all(|c| c.expected != ExpectedVersion::Any) {
            match self.append_known(batch).await {
                Ok(Some(outcomes)) => return Ok(outcomes),
                Ok(None) => {}
                Err(StoreError::Database(e)) if unique_violation(&e) => {}
                Err(e) => return Err(e),
            }
            tracing::debug!(
                commands = batch.len(),
                "a command of the batch does not fit its stream's version or repeats a stored event id; judging each command"
            );
        }
        self.append_judged(batch).await
    }

    /// [`APPEND_ONE`] or [`APPEND_KNOWN`]: every command appended, or `None` when the batch
    /// was refused whole (a command expecting a version its stream does not hold).
    async fn append_known(
        &mut self,
        batch: &[Command],
    ) -> Result<Option<Vec<Outcome>>, StoreError> {
        let rows = if let [command] = batch
            && let [event] = command.events.as_slice()
        {
            let statement = || {
                sqlx::query(APPEND_ONE)
                    .bind(event.id)
                    .bind(event.event_type.as_str())
                    .bind(event.schema_version as i32)
                    .bind(event.occurred_on)
                    .bind(event.context.actor)
                    .bind(event.context.organisation)
                    .bind(event.context.correlation_id)
                    .bind(event.payload.get())
                    .bind(command.stream.as_str())
                    .bind(command.expected.as_db())
            };
            self.fetch(statement, false).await?
        } else {
            let columns = EventColumns::of(batch);
            let mut streams = Vec::with_capacity(columns.ids.len());
            let mut versions = Vec::with_capacity(columns.ids.len());
            let mut guarded_streams = Vec::new();
            let mut guarded_versions = Vec::new();
            for command in batch {
                let expected = command.expected.as_db();
                if expected > 0 {
                    guarded_streams.push(command.stream.as_str());
                    guarded_versions.push(expected);
                }
                for version in (expected + 1..).take(command.events.len()) {
                    streams.push(command.stream.as_str());
                    versions.push(version);
                }
            }
            let statement = || {
                columns
                    .bind(APPEND_KNOWN)
                    .bind(&streams)
                    .bind(&versions)
                    .bind(&guarded_streams)
                    .bind(&guarded_versions)
            };
            self.fetch(statement, false).await?
        };
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let before: i64 = row.try_get(0)?;
        let recorded_at: DateTime<Utc> = row.try_get(1)?;
        let mut last = before as u64;
        let outcomes = batch
            .iter()
            .map(|command| {
                let n = command.events.len() as u64;
                let first_position = last + 1;
                last += n;
                Outcome::Appended(AppendResult {
                    stream_version: command.expected.as_db() as u64 + n,
                    first_position,
                    last_position: last,
                    recorded_at,
                })
            })
            .collect();
        Ok(Some(outcomes))
    }

    /// [`APPEND_BATCH`]: each command judged on its own.
    async fn append_judged(&mut self, batch: &[Command]) -> Result<Vec<Outcome>, StoreError> {
        let columns = EventColumns::of(batch);
        let mut commands = Vec::with_capacity(columns.ids.len());
        let mut streams = Vec::with_capacity(batch.len());
        let mut expected = Vec::with_capacity(batch.len());
        let mut counts = Vec::with_capacity(batch.len());
        for (ord, command) in (1i32..).zip(batch) {
            commands.extend(std::iter::repeat_n(ord, command.events.len()));
            streams.push(command.stream.as_str());
            expected.push(command.expected.as_db());
            counts.push(command.events.len() as i32);
        }
        let statement = || {
            columns
                .bind(APPEND_BATCH)
                .bind(&commands)
                .bind(&streams)
                .bind(&expected)
                .bind(&counts)
        };
        let rows = self.fetch(statement, true).await?;
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

    /// Sends a statement on the held connection (on its own, or after the head's lock), again on
    /// a new connection when the held one had gone ([`HeldConnection::checked`]).
    async fn fetch<'q>(
        &mut self,
        statement: impl Fn() -> PgQuery<'q>,
        after_the_lock: bool,
    ) -> Result<Vec<PgRow>, StoreError> {
        loop {
            let conn = self.conn.get().await?;
            let sent = if after_the_lock {
                append_after_the_head_lock(conn, statement()).await
            } else {
                statement().fetch_all(conn).await
            };
            if let Some(sent) = self.conn.checked(sent) {
                return Ok(sent?);
            }
        }
    }
}

/// A unique key refused a row (SQLSTATE 23505).
fn unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// The events a query of [`EVENT_COLUMNS`] returns, each decoded as its row arrives: the
/// client decodes while the server still sends, where collecting the rows first left one of
/// them idle at a time (the peer harness's reads of one stream and of the whole log ran at
/// 0.55–0.65 of this speed).
async fn fetch_events<'q>(
    query: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    pool: &PgPool,
) -> Result<Vec<RecordedEvent>, StoreError> {
    query
        .fetch(pool)
        .enumerate()
        .map(|(i, row)| decode(&row?, i == 0))
        .try_collect()
        .await
}

/// Decodes a row of [`EVENT_COLUMNS`] without sqlx's check of each value's type against the Rust
/// type it becomes, which costs about as much as decoding the value: the types are checked on the
/// first row of each result instead (`first`), since every row of one result has the same.
fn decode(row: &PgRow, first: bool) -> Result<RecordedEvent, StoreError> {
    if first {
        check_types(row)?;
    }
    Ok(RecordedEvent {
        position: row.try_get_unchecked::<i64, _>(0)? as u64,
        id: row.try_get_unchecked(1)?,
        stream_id: row.try_get_unchecked(2)?,
        version: row.try_get_unchecked::<i64, _>(3)? as u64,
        event_type: row.try_get_unchecked(4)?,
        schema_version: row.try_get_unchecked::<i32, _>(5)? as u32,
        occurred_on: row.try_get_unchecked(6)?,
        recorded_at: row.try_get_unchecked(7)?,
        context: EventContext {
            actor: row.try_get_unchecked(8)?,
            organisation: row.try_get_unchecked(9)?,
            correlation_id: row.try_get_unchecked(10)?,
        },
        payload: stored_payload(row.try_get_unchecked(11)?)?,
    })
}

/// Fails unless the row's columns have the types [`decode`] takes them as.
fn check_types(row: &PgRow) -> Result<(), sqlx::Error> {
    row.try_get::<i64, _>(0)?;
    row.try_get::<Uuid, _>(1)?;
    row.try_get::<&str, _>(2)?;
    row.try_get::<i64, _>(3)?;
    row.try_get::<&str, _>(4)?;
    row.try_get::<i32, _>(5)?;
    row.try_get::<NaiveDate, _>(6)?;
    row.try_get::<DateTime<Utc>, _>(7)?;
    for column in 8..=10 {
        row.try_get::<Uuid, _>(column)?;
    }
    row.try_get::<&str, _>(11)?;
    Ok(())
}

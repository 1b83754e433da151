//! The baseline: the same rows through hand-written SQL, with no store around it.
//!
//! No group commit, no global-order guarantee, no idempotency: what one statement per write costs.

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use roadback_store::StoreLocation;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, QueryBuilder, Row, SqlitePool};
use uuid::Uuid;

use crate::workload::{BATCH, CLIENTS, row, spread};

const PG_TABLE: &str = "CREATE TABLE IF NOT EXISTS raw_events (
    position bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, stream_id text NOT NULL,
    version bigint NOT NULL, event_type text NOT NULL, schema_version integer NOT NULL,
    occurred_on date NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), actor_id uuid NOT NULL,
    organisation_id uuid NOT NULL, correlation_id uuid NOT NULL, payload json NOT NULL,
    UNIQUE (stream_id, version))";

const SQLITE_TABLE: &str = "CREATE TABLE IF NOT EXISTS raw_events (
    position INTEGER PRIMARY KEY, event_id BLOB NOT NULL UNIQUE, stream_id TEXT NOT NULL,
    version INTEGER NOT NULL, event_type TEXT NOT NULL, schema_version INTEGER NOT NULL,
    occurred_on TEXT NOT NULL, recorded_at INTEGER NOT NULL, actor_id BLOB NOT NULL,
    organisation_id BLOB NOT NULL, correlation_id BLOB NOT NULL, payload TEXT NOT NULL,
    UNIQUE (stream_id, version))";

const COLUMNS: &str = "event_id, stream_id, version, event_type, schema_version, occurred_on, \
    recorded_at, actor_id, organisation_id, correlation_id, payload";

/// A raw connection to one backend.
#[derive(Clone)]
pub enum Raw {
    /// PostgreSQL, a pool of [`CLIENTS`] connections.
    Pg(PgPool),
    /// SQLite, one connection (SQLite has one writer).
    Sqlite(SqlitePool),
}

impl Raw {
    /// Connects and creates the raw table.
    pub async fn open(location: &StoreLocation) -> anyhow::Result<Self> {
        Ok(match location {
            StoreLocation::Postgres(url) => {
                let pool = PgPoolOptions::new()
                    .max_connections(CLIENTS as u32)
                    .connect(url)
                    .await?;
                sqlx::query(PG_TABLE).execute(&pool).await?;
                Self::Pg(pool)
            }
            StoreLocation::Sqlite(path) => {
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full);
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options)
                    .await?;
                sqlx::query(SQLITE_TABLE).execute(&pool).await?;
                Self::Sqlite(pool)
            }
        })
    }

    /// Inserts events `first..first + count` of `stream`, versions from `version + 1`, in one statement.
    async fn insert(
        &self,
        stream: &str,
        version: i64,
        first: u64,
        count: usize,
    ) -> anyhow::Result<()> {
        let rows: Vec<_> = (first..first + count as u64).map(row).collect();
        match self {
            Self::Pg(pool) => {
                let mut query = QueryBuilder::new(format!("INSERT INTO raw_events ({COLUMNS}) "));
                query.push_values(rows.iter().enumerate(), |mut b, (i, r)| {
                    b.push_bind(r.id)
                        .push_bind(stream)
                        .push_bind(version + 1 + i as i64)
                        .push_bind(r.event_type)
                        .push_bind(1i32)
                        .push_bind(r.occurred_on)
                        .push("now()")
                        .push_bind(r.context.actor)
                        .push_bind(r.context.organisation)
                        .push_bind(r.context.correlation_id)
                        .push_bind(&r.payload)
                        .push_unseparated("::json");
                });
                if count == 1 {
                    query.build().execute(pool).await?;
                } else {
                    // The UNNEST form peers use for batches: one statement, parameters as arrays.
                    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
                    let versions: Vec<i64> = (0..count as i64).map(|i| version + 1 + i).collect();
                    let types: Vec<&str> = rows.iter().map(|r| r.event_type).collect();
                    let dates: Vec<NaiveDate> = rows.iter().map(|r| r.occurred_on).collect();
                    let actors: Vec<Uuid> = rows.iter().map(|r| r.context.actor).collect();
                    let orgs: Vec<Uuid> = rows.iter().map(|r| r.context.organisation).collect();
                    let corrs: Vec<Uuid> = rows.iter().map(|r| r.context.correlation_id).collect();
                    let payloads: Vec<&str> = rows.iter().map(|r| r.payload.as_str()).collect();
                    sqlx::query(
                        "INSERT INTO raw_events (event_id, stream_id, version, event_type, schema_version, occurred_on,
                            actor_id, organisation_id, correlation_id, payload)
                         SELECT id, $2, v, t, 1, d, a, o, c, p::json
                           FROM UNNEST($1::uuid[], $3::int8[], $4::text[], $5::date[], $6::uuid[], $7::uuid[],
                                       $8::uuid[], $9::text[]) AS u(id, v, t, d, a, o, c, p)",
                    )
                    .bind(&ids)
                    .bind(stream)
                    .bind(&versions)
                    .bind(&types)
                    .bind(&dates)
                    .bind(&actors)
                    .bind(&orgs)
                    .bind(&corrs)
                    .bind(&payloads)
                    .execute(pool)
                    .await?;
                }
            }
            Self::Sqlite(pool) => {
                let now = Utc::now().timestamp_micros();
                let mut query = QueryBuilder::new(format!("INSERT INTO raw_events ({COLUMNS}) "));
                query.push_values(rows.iter().enumerate(), |mut b, (i, r)| {
                    b.push_bind(r.id)
                        .push_bind(stream)
                        .push_bind(version + 1 + i as i64)
                        .push_bind(r.event_type)
                        .push_bind(1i32)
                        .push_bind(r.occurred_on)
                        .push_bind(now)
                        .push_bind(r.context.actor)
                        .push_bind(r.context.organisation)
                        .push_bind(r.context.correlation_id)
                        .push_bind(&r.payload);
                });
                query.build().execute(pool).await?;
            }
        }
        Ok(())
    }

    /// `total` events in inserts of `per_insert` rows to fresh streams, by `clients` concurrent clients.
    pub async fn append(
        &self,
        total: u64,
        per_insert: usize,
        clients: usize,
    ) -> anyhow::Result<()> {
        let raw = self.clone();
        spread(total / per_insert as u64, clients, move |n| {
            let raw = raw.clone();
            async move {
                raw.insert(
                    &format!("beneficiary-{n}"),
                    0,
                    n * per_insert as u64,
                    per_insert,
                )
                .await
            }
        })
        .await
    }

    /// Batches of [`BATCH`] rows by [`CLIENTS`] clients.
    pub async fn batch_append(&self, total: u64) -> anyhow::Result<()> {
        self.append(total, BATCH, CLIENTS).await
    }

    /// `total` single-row inserts on one stream; the unique (stream, version) key is the version check.
    pub async fn one_stream(&self, total: u64) -> anyhow::Result<()> {
        for i in 0..total {
            self.insert("beneficiary-single", i as i64, i, 1).await?;
        }
        Ok(())
    }

    /// Reads every row in position order, decoding the same columns as the store; returns the count.
    pub async fn read_all(&self, table: &str) -> anyhow::Result<u64> {
        let sql_pg = format!(
            "SELECT position, event_id, stream_id, version, event_type, schema_version, occurred_on, \
            recorded_at, actor_id, organisation_id, correlation_id, payload::text FROM {table} ORDER BY position"
        );
        let sql_sqlite = format!(
            "SELECT position, event_id, stream_id, version, event_type, schema_version, occurred_on, \
            recorded_at, actor_id, organisation_id, correlation_id, payload FROM {table} ORDER BY position"
        );
        let mut count = 0u64;
        match self {
            Self::Pg(pool) => {
                let mut rows = sqlx::query(&sql_pg).fetch(pool);
                while let Some(r) = rows.try_next().await? {
                    let _: (
                        i64,
                        Uuid,
                        String,
                        i64,
                        String,
                        i32,
                        NaiveDate,
                        DateTime<Utc>,
                    ) = (
                        r.try_get(0)?,
                        r.try_get(1)?,
                        r.try_get(2)?,
                        r.try_get(3)?,
                        r.try_get(4)?,
                        r.try_get(5)?,
                        r.try_get(6)?,
                        r.try_get(7)?,
                    );
                    let _: (Uuid, Uuid, Uuid, String) =
                        (r.try_get(8)?, r.try_get(9)?, r.try_get(10)?, r.try_get(11)?);
                    count += 1;
                }
            }
            Self::Sqlite(pool) => {
                let mut rows = sqlx::query(&sql_sqlite).fetch(pool);
                while let Some(r) = rows.try_next().await? {
                    let _: (i64, Uuid, String, i64, String, i32, NaiveDate, i64) = (
                        r.try_get(0)?,
                        r.try_get(1)?,
                        r.try_get(2)?,
                        r.try_get(3)?,
                        r.try_get(4)?,
                        r.try_get(5)?,
                        r.try_get(6)?,
                        r.try_get(7)?,
                    );
                    let _: (Uuid, Uuid, Uuid, String) =
                        (r.try_get(8)?, r.try_get(9)?, r.try_get(10)?, r.try_get(11)?);
                    count += 1;
                }
            }
        }
        Ok(count)
    }
}

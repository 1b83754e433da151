//! Roadback measured by the peer harness (../shared/tools/peerbench), in the same run and by the
//! same timing code as the peers: this file includes the harness's `src/harness.rs`. Installed
//! and run by `scripts/bench peers` (see Cargo.toml.in).
//!
//! Usage: peerbench-roadback <postgres-base-url> [target ...]
//!        peerbench-roadback <postgres-base-url> flat [stream length ...]
//!
//! Targets (each measurement on a fresh database: a new PostgreSQL database, or a new SQLite
//! file, for every reset):
//!   roadback                  the bare store: `EventStore::append` with the version the caller
//!                             knows (NoStream on a fresh stream, Exact(i) on the shared one)
//!   roadback-command          a caseworker's command through Roadback's GraphQL API, executed
//!                             in-process: parsing, session and access check, the record's
//!                             history (kept by the server between commands), the domain's
//!                             decision, the idempotency key, the append, the answer. A fresh
//!                             stream is a registration (`registerBeneficiary`); the shared
//!                             stream is registered by its first command, its second records the
//!                             person's consent to assistance, and every later one records a
//!                             service delivered (`recordServiceDelivery`) against the version
//!                             the previous one answered
//!   raw-sqlite, roadback-sqlite, roadback-command-sqlite
//!                             the same on SQLite (WAL, synchronous=FULL), compared only with
//!                             raw-sqlite
//!
//! `flat` times the command path on one record as it grows: for each stream length (default 10,
//! 100, 1,000 and 10,000 events) a record is grown to that length by commands, then 500 more
//! commands are timed one after the other; prints a markdown table with commands/s, p50, p99 and
//! the process's peak RSS.

#[path = "../../src/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use async_graphql::{Request, Variables};
use async_trait::async_trait;
use chrono::NaiveDate;
use roadback_domain::access::{Principal, Role};
use roadback_graphql::auth::Session;
use roadback_graphql::{Api, ApiState};
use roadback_store::records::envelope;
use roadback_store::vault::{Keyring, MasterKey, Vault};
use roadback_store::{
    EventContext, EventStore, ExpectedVersion, NewEvent, RecordedEvent, StoreConfig,
    StoreLocation, StreamId,
};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use uuid::Uuid;

use harness::{POOL, Target};

const REGISTER: &str = "mutation($i: RegisterBeneficiaryInput!) { registerBeneficiary(input: $i) { beneficiaryId version } }";
const CONSENT: &str = "mutation($i: GiveConsentInput!) { giveConsent(input: $i) { version } }";
const DELIVERED: &str =
    "mutation($i: RecordServiceDeliveryInput!) { recordServiceDelivery(input: $i) { version } }";

#[derive(Serialize, Deserialize)]
struct Incremented {
    by: i64,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// The bare store, appending with the version the caller knows.
    Store,
    /// A command through the GraphQL API, in-process.
    Command,
}

/// Where each reset puts a fresh store.
enum Place {
    /// A new database on this server (base URL, without a database name).
    Postgres(String),
    /// A new file in this directory.
    Sqlite(tempfile::TempDir),
}

/// One fresh store, and for commands the API on it with a caseworker signed in.
struct Setup {
    store: EventStore,
    api: Option<(Api, Session)>,
    /// The shared stream's beneficiary, once its first command registered it.
    single: Mutex<Option<Uuid>>,
    /// The database or file it lives in.
    name: String,
}

struct Roadback {
    place: Place,
    mode: Mode,
    resets: AtomicU64,
    setup: RwLock<Option<Arc<Setup>>>,
}

fn config(location: StoreLocation) -> StoreConfig {
    let mut config = StoreConfig::new(location);
    config.max_connections = POOL; // the peers' pool size (the writer has a connection of its own)
    config
}

fn context(id: Uuid) -> EventContext {
    EventContext {
        actor: Uuid::from_u128(1),
        organisation: Uuid::from_u128(2),
        correlation_id: id,
    }
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

async fn admin(base: &str) -> anyhow::Result<sqlx::PgConnection> {
    Ok(sqlx::PgConnection::connect(&format!("{base}/postgres")).await?)
}

/// A caseworker of a new organisation, and the API on `store`.
async fn api(store: &EventStore) -> anyhow::Result<(Api, Session)> {
    let organisation = store.create_organisation("Peer bench", "AL").await?.id;
    let user = store
        .create_user(
            organisation,
            "cw@example.org",
            "Caseworker",
            Role::Caseworker,
            None,
        )
        .await?;
    let session = Session {
        principal: Principal {
            user: user.id,
            organisation,
            role: Role::Caseworker,
            scopes: None,
        },
        user,
        credential: None,
    };
    let vault = Vault::new(store.clone(), Keyring::new(MasterKey::generate()));
    Ok((
        roadback_graphql::schema(ApiState::new(store.clone(), vault)),
        session,
    ))
}

impl Setup {
    /// Runs one GraphQL request as the caseworker; its data, or its errors as an error.
    async fn execute(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let (schema, session) = self.api.as_ref().expect("a command target");
        let request = Request::new(query)
            .variables(Variables::from_json(variables))
            .data(roadback_graphql::loaders::new_user_loader(
                self.store.clone(),
            ))
            .data(session.clone());
        let response = schema.execute(request).await;
        anyhow::ensure!(response.errors.is_empty(), "{:?}", response.errors);
        Ok(response.data.into_json()?)
    }

    async fn register(&self, key: &str) -> anyhow::Result<Uuid> {
        let data = self
            .execute(
                REGISTER,
                json!({ "i": {
                "idempotencyKey": key, "occurredOn": "2025-01-01", "caseCode": key,
                "gender": "FEMALE", "citizenship": "AL", "countryOfAssistance": "AL",
                "identifiedOn": "2025-01-01", "identificationRoute": "OUTREACH" } }),
            )
            .await?;
        Ok(data["registerBeneficiary"]["beneficiaryId"]
            .as_str()
            .unwrap_or_default()
            .parse()?)
    }

    /// Records the beneficiary's consent to assistance (services need it) on a record at
    /// version 1 (just registered).
    async fn consent(&self, beneficiary: Uuid) -> anyhow::Result<u64> {
        let data = self
            .execute(
                CONSENT,
                json!({ "i": {
                "beneficiaryId": beneficiary, "expectedVersion": 1, "idempotencyKey": "consent",
                "occurredOn": "2025-01-01", "kind": "ASSISTANCE", "givenBy": "BENEFICIARY",
                "evidence": "SIGNED_FORM" } }),
            )
            .await?;
        data["giveConsent"]["version"]
            .as_u64()
            .ok_or_else(|| anyhow::anyhow!("no version in {data}"))
    }

    /// Records a service delivered on `beneficiary`, whose record is at `version`.
    async fn deliver(&self, beneficiary: Uuid, version: u64) -> anyhow::Result<u64> {
        let data = self
            .execute(
                DELIVERED,
                json!({ "i": {
                "beneficiaryId": beneficiary, "expectedVersion": version,
                "idempotencyKey": format!("d-{version}"), "occurredOn": "2025-01-02",
                "service": "MEDICAL" } }),
            )
            .await?;
        data["recordServiceDelivery"]["version"]
            .as_u64()
            .ok_or_else(|| anyhow::anyhow!("no version in {data}"))
    }
}

impl Roadback {
    fn new(place: Place, mode: Mode) -> Self {
        Self {
            place,
            mode,
            resets: AtomicU64::new(0),
            setup: RwLock::new(None),
        }
    }

    fn setup(&self) -> Arc<Setup> {
        self.setup.read().unwrap().clone().expect("reset first")
    }

    fn event() -> anyhow::Result<NewEvent> {
        let id = Uuid::new_v4();
        let day = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        Ok(NewEvent::new(
            id,
            "Incremented",
            1,
            day,
            context(id),
            &Incremented { by: 1 },
        )?)
    }

    async fn read_stream_of(
        store: &EventStore,
        stream: &StreamId,
    ) -> anyhow::Result<Vec<RecordedEvent>> {
        let mut events = Vec::new();
        loop {
            let page = store
                .read_stream(stream, events.len() as u64 + 1, 10_000)
                .await?;
            let done = page.len() < 10_000;
            events.extend(page);
            if done {
                return Ok(events);
            }
        }
    }

    /// Decodes every payload into its event type: the counter's, or the domain's.
    fn decode(&self, events: &[RecordedEvent]) -> anyhow::Result<()> {
        for e in events {
            match self.mode {
                Mode::Store => {
                    e.payload_as::<Incremented>()?;
                }
                Mode::Command => {
                    envelope(e)?;
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Target for Roadback {
    async fn reset(&self) -> anyhow::Result<()> {
        let n = self.resets.fetch_add(1, Ordering::Relaxed);
        let (location, name) = match &self.place {
            Place::Postgres(base) => {
                let name = format!("pb_roadback_{n}");
                let mut admin = admin(base).await?;
                // One left by an interrupted run goes first.
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await?;
                (StoreLocation::Postgres(format!("{base}/{name}")), name)
            }
            Place::Sqlite(dir) => {
                let path = dir.path().join(format!("roadback-{n}.db"));
                (
                    StoreLocation::Sqlite(path.clone()),
                    path.display().to_string(),
                )
            }
        };
        let store = EventStore::open(&config(location)).await?;
        let api = match self.mode {
            Mode::Store => None,
            Mode::Command => Some(api(&store).await?),
        };
        let fresh = Arc::new(Setup {
            store,
            api,
            single: Mutex::new(None),
            name,
        });
        let old = self.setup.write().unwrap().replace(fresh);
        if let Some(old) = old {
            old.store.close().await?;
            match &self.place {
                Place::Postgres(base) => {
                    sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", old.name))
                        .execute(&mut admin(base).await?)
                        .await?;
                }
                Place::Sqlite(_) => remove_sqlite(Path::new(&old.name)),
            }
        }
        Ok(())
    }

    async fn fresh(&self, n: u64) -> anyhow::Result<()> {
        let setup = self.setup();
        match self.mode {
            Mode::Store => {
                let stream = StreamId::new(format!("s-{n}"))?;
                setup
                    .store
                    .append(&stream, ExpectedVersion::NoStream, vec![Self::event()?])
                    .await?;
            }
            Mode::Command => {
                setup.register(&format!("fresh-{n}")).await?;
            }
        }
        Ok(())
    }

    async fn single(&self, i: u64) -> anyhow::Result<()> {
        let setup = self.setup();
        match self.mode {
            Mode::Store => {
                let expected = if i == 0 {
                    ExpectedVersion::NoStream
                } else {
                    ExpectedVersion::Exact(i)
                };
                setup
                    .store
                    .append(&StreamId::new("single")?, expected, vec![Self::event()?])
                    .await?;
            }
            Mode::Command => {
                let registered = *setup.single.lock().unwrap();
                match registered {
                    None => {
                        let id = setup.register("single").await?;
                        *setup.single.lock().unwrap() = Some(id);
                    }
                    Some(id) => {
                        let version = match i {
                            1 => setup.consent(id).await?,
                            _ => setup.deliver(id, i).await?,
                        };
                        anyhow::ensure!(
                            version == i + 1,
                            "recorded at version {version}, not {}",
                            i + 1
                        );
                    }
                }
            }
        }
        Ok(())
    }

    async fn read_stream(&self) -> anyhow::Result<usize> {
        let setup = self.setup();
        let stream = match self.mode {
            Mode::Store => StreamId::new("single")?,
            Mode::Command => {
                let id = setup.single.lock().unwrap().expect("registered");
                roadback_store::records::beneficiary_stream(id)?
            }
        };
        let events = Self::read_stream_of(&setup.store, &stream).await?;
        self.decode(&events)?;
        Ok(events.len())
    }

    /// The gap-free global order (position): the whole log as one stream (`read_log`), each
    /// payload decoded.
    async fn read_all(&self) -> anyhow::Result<Option<usize>> {
        let store = self.setup().store.clone();
        let mut log = store.read_log(0);
        let mut n = 0;
        while let Some(event) = log.try_next().await? {
            self.decode(std::slice::from_ref(&event))?;
            n += 1;
        }
        Ok(Some(n))
    }
}

/// Baseline for the SQLite rows: hand-written SQL through sqlx-sqlite with the durability
/// roadback-store uses (WAL, synchronous=FULL). One event per autocommit INSERT on one writer
/// connection, reads on a pool of POOL connections. A new file at each reset.
struct RawSqlite {
    dir: tempfile::TempDir,
    files: AtomicU64,
    pools: RwLock<(SqlitePool, SqlitePool)>, // (writer, readers)
}

const RAW_SQLITE_DDL: &str = "CREATE TABLE IF NOT EXISTS events (
    position  INTEGER PRIMARY KEY,
    stream_id TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    type      TEXT    NOT NULL,
    payload   TEXT    NOT NULL,
    UNIQUE (stream_id, version))";

type RawRow = (i64, String, i64, String, String);

impl RawSqlite {
    async fn pools(path: &Path) -> anyhow::Result<(SqlitePool, SqlitePool)> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::query(RAW_SQLITE_DDL).execute(&writer).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(POOL)
            .connect_with(options)
            .await?;
        Ok((writer, readers))
    }

    fn file(&self, n: u64) -> PathBuf {
        self.dir.path().join(format!("raw-{n}.db"))
    }

    async fn new(parent: &Path) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir_in(parent)?;
        let pools = Self::pools(&dir.path().join("raw-0.db")).await?;
        Ok(Self {
            dir,
            files: AtomicU64::new(0),
            pools: RwLock::new(pools),
        })
    }

    async fn append(&self, stream: &str, expected: i64) -> anyhow::Result<()> {
        let payload = serde_json::to_string(&Incremented { by: 1 })?;
        let writer = self.pools.read().unwrap().0.clone();
        sqlx::query("INSERT INTO events (stream_id, version, type, payload) VALUES (?1, ?2, 'Incremented', ?3)")
            .bind(stream)
            .bind(expected + 1)
            .bind(payload)
            .execute(&writer)
            .await?;
        Ok(())
    }

    async fn read(&self, sql: &str) -> anyhow::Result<usize> {
        let readers = self.pools.read().unwrap().1.clone();
        let rows: Vec<RawRow> = sqlx::query_as(sql).fetch_all(&readers).await?;
        for row in &rows {
            serde_json::from_str::<Incremented>(&row.4)?;
        }
        Ok(rows.len())
    }
}

#[async_trait]
impl Target for RawSqlite {
    async fn reset(&self) -> anyhow::Result<()> {
        let n = self.files.fetch_add(1, Ordering::Relaxed) + 1;
        let fresh = Self::pools(&self.file(n)).await?;
        let (w, r) = std::mem::replace(&mut *self.pools.write().unwrap(), fresh);
        w.close().await;
        r.close().await;
        remove_sqlite(&self.file(n - 1));
        Ok(())
    }
    async fn fresh(&self, n: u64) -> anyhow::Result<()> {
        self.append(&format!("s-{n}"), 0).await
    }
    async fn single(&self, i: u64) -> anyhow::Result<()> {
        self.append("single", i as i64).await
    }
    async fn read_stream(&self) -> anyhow::Result<usize> {
        self.read("SELECT position, stream_id, version, type, payload FROM events WHERE stream_id = 'single' ORDER BY version")
            .await
    }
    async fn read_all(&self) -> anyhow::Result<Option<usize>> {
        Ok(Some(
            self.read(
                "SELECT position, stream_id, version, type, payload FROM events ORDER BY position",
            )
            .await?,
        ))
    }
}

/// The process's peak resident memory, in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The command path on one record as it grows (see the file's header).
async fn flat(base: &str, lengths: &[u64]) -> anyhow::Result<()> {
    const TIMED: u64 = 500;
    println!("| events in the record | commands/s | p50 | p99 | peak RSS |");
    println!("|---:|---:|---:|---:|---:|");
    let target = Roadback::new(Place::Postgres(base.to_string()), Mode::Command);
    for &length in lengths {
        target.reset().await?;
        let setup = target.setup();
        let id = setup.register(&format!("grow-{length}")).await?;
        let mut version = setup.consent(id).await?;
        while version < length {
            version = setup.deliver(id, version).await?;
        }
        let mut times = Vec::with_capacity(TIMED as usize);
        let start = Instant::now();
        for _ in 0..TIMED {
            let one = Instant::now();
            version = setup.deliver(id, version).await?;
            times.push(one.elapsed().as_secs_f64() * 1000.0);
        }
        let rate = TIMED as f64 / start.elapsed().as_secs_f64();
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        eprintln!("flat: {length} events, {rate:.0} commands/s");
        println!(
            "| {length} | {rate:.0} | {:.2} ms | {:.2} ms | {:.0} MiB |",
            at(0.5),
            at(0.99),
            peak_rss_mib()
        );
    }
    target.reset().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .expect("usage: peerbench-roadback <postgres-base-url> [target ...]")
        .clone();
    if args.get(2).map(String::as_str) == Some("flat") {
        let lengths: Vec<u64> = if args.len() > 3 {
            args[3..]
                .iter()
                .map(|a| a.parse())
                .collect::<Result<_, _>>()?
        } else {
            vec![10, 100, 1_000, 10_000]
        };
        return flat(&base, &lengths).await;
    }
    let all = [
        "roadback",
        "roadback-command",
        "raw-sqlite",
        "roadback-sqlite",
        "roadback-command-sqlite",
    ];
    let wanted: Vec<String> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        all.iter().map(|s| s.to_string()).collect()
    };
    // SQLite files live in a temporary directory (under TMPDIR), removed at exit.
    let tmp = tempfile::Builder::new()
        .prefix("peerbench-roadback-")
        .tempdir()?;
    let sqlite = || tempfile::tempdir_in(tmp.path());
    for name in wanted {
        let (label, t): (&str, Arc<dyn Target>) = match name.as_str() {
            "roadback" => (
                "roadback-store, append with the known version",
                Arc::new(Roadback::new(Place::Postgres(base.clone()), Mode::Store)),
            ),
            "roadback-command" => (
                "Roadback command path: GraphQL mutation in-process (history kept, decide, append)",
                Arc::new(Roadback::new(Place::Postgres(base.clone()), Mode::Command)),
            ),
            "raw-sqlite" => (
                "SQLite: raw sqlx (1 event/tx, 1 writer connection, WAL, synchronous=FULL)",
                Arc::new(RawSqlite::new(tmp.path()).await?),
            ),
            "roadback-sqlite" => (
                "SQLite: roadback-store, append with the known version",
                Arc::new(Roadback::new(Place::Sqlite(sqlite()?), Mode::Store)),
            ),
            "roadback-command-sqlite" => (
                "SQLite: Roadback command path (GraphQL mutation in-process)",
                Arc::new(Roadback::new(Place::Sqlite(sqlite()?), Mode::Command)),
            ),
            other => anyhow::bail!("unknown target {other}; known: {all:?}"),
        };
        eprintln!("== {label}");
        println!("{}", harness::bench(label, t).await?);
        eprintln!("peak RSS of {name}: {:.0} MiB", peak_rss_mib());
    }
    Ok(())
}

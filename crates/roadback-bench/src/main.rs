//! `roadback-bench`: the event store against raw SQL on the same rows, side by side in one run.
//!
//! `run` drives every measurement; each one runs in a child process of its own (`case`) so that
//! its peak memory is its own. `scripts/bench` starts a throwaway PostgreSQL and writes the
//! report into BENCHMARKS.md.

mod api;
mod load;
mod raw;
mod replay;
mod store_cases;
mod survival;
mod workload;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use roadback_store::{EventStore, StoreConfig, StoreLocation};
use serde::{Deserialize, Serialize};
use sqlx::Connection;

use raw::Raw;

#[derive(Parser)]
#[command(about = "Benchmarks the Roadback event store against raw SQL")]
enum Cli {
    /// Runs every measurement on both backends and prints a markdown report.
    Run {
        /// A PostgreSQL server URL where benchmark databases may be created.
        #[arg(long, env = "ROADBACK_BENCH_PG")]
        pg: String,
        /// Events in the bulk append and read measurements.
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        /// Commands in the one-event-per-command measurements.
        #[arg(long, default_value_t = 10_000)]
        commands: u64,
        /// Events in the log the replay measurement rebuilds (issue 20's goal: 5 million in
        /// under 20 s).
        #[arg(long, default_value_t = 5_000_000)]
        replay_events: u64,
        /// Directory for the SQLite files.
        #[arg(long, default_value = "target/bench")]
        dir: PathBuf,
    },
    /// Times the evaluation engine's estimators on `people` synthetic follow-ups by country,
    /// writes them as CSV for the same computation in lifelines, and prints the times as JSON.
    Survival {
        /// How many follow-ups.
        #[arg(long, default_value_t = 1_000_000)]
        people: usize,
        /// Where to write the follow-ups (CSV).
        #[arg(long)]
        csv: PathBuf,
    },
    /// The HTTP load generator: many clients against a running server (its own process), with
    /// an API token of the read and write scopes; prints the latencies as JSON.
    Load {
        /// The server, e.g. `http://127.0.0.1:8080`.
        #[arg(long)]
        url: String,
        /// The API token (`roadback token issue ... --scopes read,write`).
        #[arg(long, env = "ROADBACK_BENCH_TOKEN")]
        token: String,
        /// Concurrent clients.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Seconds to run.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// The share of views followed by a write.
        #[arg(long, default_value_t = 0.2)]
        write_share: f64,
        /// Records with a live subscription.
        #[arg(long, default_value_t = 8)]
        watched: usize,
        /// Most beneficiaries to spread the load over.
        #[arg(long, default_value_t = 5_000)]
        beneficiaries: usize,
    },
    /// Runs one measurement in this process and prints its result as JSON.
    Case {
        /// The measurement.
        name: String,
        /// `postgres://...` or a SQLite file path.
        location: String,
        /// How many events.
        count: u64,
    },
}

#[derive(Serialize, Deserialize)]
struct Measured {
    events: u64,
    seconds: f64,
    peak_kib: u64,
    /// Median time of one operation, for latency measurements.
    #[serde(default)]
    p50_ms: Option<f64>,
    /// 99th percentile time of one operation.
    #[serde(default)]
    p99_ms: Option<f64>,
    /// Beneficiaries loaded, for the API measurement.
    #[serde(default)]
    beneficiaries: Option<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse() {
        Cli::Case {
            name,
            location,
            count,
        } => {
            let location = parse_location(&location);
            let measured = run_case(&name, &location, count).await?;
            println!("{}", serde_json::to_string(&measured)?);
            Ok(())
        }
        Cli::Run {
            pg,
            events,
            commands,
            replay_events,
            dir,
        } => run_all(&pg, events, commands, replay_events, &dir).await,
        Cli::Load {
            url,
            token,
            clients,
            seconds,
            write_share,
            watched,
            beneficiaries,
        } => {
            let report = load::run(load::Load {
                url,
                token,
                clients,
                duration: std::time::Duration::from_secs(seconds),
                write_share,
                watched,
                beneficiaries,
            })
            .await?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Cli::Survival { people, csv } => {
            let rows = survival::generate(people, 2015);
            survival::write_csv(&csv, &rows)?;
            println!("{}", serde_json::to_string(&survival::measure(&rows))?);
            Ok(())
        }
    }
}

fn parse_location(s: &str) -> StoreLocation {
    if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        StoreLocation::Postgres(s.to_string())
    } else {
        StoreLocation::Sqlite(PathBuf::from(s))
    }
}

async fn run_case(name: &str, location: &StoreLocation, count: u64) -> anyhow::Result<Measured> {
    let (side, what) = name
        .split_once('-')
        .context("case names are <store|raw>-<measurement>")?;
    let start;
    let events = match side {
        "store" => {
            let store = EventStore::open(&StoreConfig::new(location.clone())).await?;
            start = Instant::now();
            match what {
                "batch" => store_cases::batch_append(&store, count)
                    .await
                    .map(|_| count)?,
                "single1" => store_cases::append(&store, count, 1, 1)
                    .await
                    .map(|_| count)?,
                "single8" => store_cases::append(&store, count, 1, workload::CLIENTS)
                    .await
                    .map(|_| count)?,
                "onestream" => store_cases::one_stream(&store, count)
                    .await
                    .map(|_| count)?,
                "read" => store_cases::read_all(&store).await?,
                "load" => replay::load(&store, count).await?,
                "rebuild" => replay::rebuild(&store).await?,
                "api" => {
                    let duration = std::time::Duration::from_secs(10);
                    let (times, beneficiaries) =
                        api::beneficiary_view(&store, count, api::CLIENTS, duration).await?;
                    let mut measured =
                        latencies(&times, times.len() as u64, duration.as_secs_f64());
                    measured.beneficiaries = Some(beneficiaries);
                    return Ok(measured);
                }
                "asof" => {
                    let times = replay::as_of(&store, count as usize, 300).await?;
                    let seconds = times.iter().sum::<f64>() / 1000.0;
                    return Ok(latencies(&times, count * times.len() as u64, seconds));
                }
                other => bail!("unknown measurement {other}"),
            }
        }
        "raw" => {
            let raw = Raw::open(location).await?;
            start = Instant::now();
            match what {
                "batch" => raw.batch_append(count).await.map(|_| count)?,
                "single1" => raw.append(count, 1, 1).await.map(|_| count)?,
                "single8" => raw
                    .append(count, 1, workload::CLIENTS)
                    .await
                    .map(|_| count)?,
                "onestream" => raw.one_stream(count).await.map(|_| count)?,
                "read" => raw.read_all("raw_events").await?,
                // The store's own events table: the same rows a replay reads.
                "readevents" => raw.read_all("events").await?,
                other => bail!("unknown measurement {other}"),
            }
        }
        other => bail!("unknown side {other}"),
    };
    let seconds = start.elapsed().as_secs_f64();
    Ok(Measured {
        events,
        seconds,
        peak_kib: peak_rss_kib(),
        p50_ms: None,
        p99_ms: None,
        beneficiaries: None,
    })
}

/// A latency measurement from sorted milliseconds.
fn latencies(times: &[f64], events: u64, seconds: f64) -> Measured {
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Measured {
        events,
        seconds,
        peak_kib: peak_rss_kib(),
        p50_ms: Some(at(0.5)),
        p99_ms: Some(at(0.99)),
        beneficiaries: None,
    }
}

/// The process's peak resident memory (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs one case in a child process.
fn child(name: &str, location: &str, count: u64) -> anyhow::Result<Measured> {
    eprintln!("  {name} ({count}) ...");
    let out = Command::new(std::env::current_exe()?)
        .args(["case", name, location, &count.to_string()])
        .output()?;
    if !out.status.success() {
        bail!(
            "case {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let measured: Measured = serde_json::from_slice(&out.stdout)?;
    eprintln!(
        "    {:.0} events/s, peak {} MiB",
        measured.events as f64 / measured.seconds,
        measured.peak_kib / 1024
    );
    Ok(measured)
}

/// Fresh databases for one backend: a new PostgreSQL database or SQLite file per call.
struct Places {
    pg_admin: String,
    dir: PathBuf,
    created: Vec<String>,
    n: usize,
}

impl Places {
    async fn fresh(&mut self, backend: &str) -> anyhow::Result<String> {
        self.n += 1;
        if backend == "sqlite" {
            let path = self
                .dir
                .join(format!("bench-{}-{}.db", std::process::id(), self.n));
            Ok(path.display().to_string())
        } else {
            let name = format!("roadback_bench_{}_{}", std::process::id(), self.n);
            let mut admin = sqlx::PgConnection::connect(&self.pg_admin).await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await?;
            self.created.push(name.clone());
            Ok(roadback_store::testing::with_database(
                &self.pg_admin,
                &name,
            ))
        }
    }

    async fn clean_up(&self) -> anyhow::Result<()> {
        let mut admin = sqlx::PgConnection::connect(&self.pg_admin).await?;
        for name in &self.created {
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok(())
    }
}

struct Line {
    what: String,
    backend: &'static str,
    store: Measured,
    raw: Measured,
}

async fn run_all(
    pg: &str,
    events: u64,
    commands: u64,
    replay_events: u64,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut places = Places {
        pg_admin: pg.to_string(),
        dir: dir.to_path_buf(),
        created: Vec::new(),
        n: 0,
    };
    let mut lines = Vec::new();
    let mut replays = Vec::new();
    // Events behind the API measurement: about 5,000 beneficiaries until the demo loads 100,000.
    let api_events = (events / 3).max(10_000);
    for backend in ["sqlite", "postgres"] {
        eprintln!("{backend} replay:");
        let at = places.fresh(backend).await?;
        let loaded = child("store-load", &at, replay_events)?;
        let rebuilt = child("store-rebuild", &at, 0)?;
        let raw = child("raw-readevents", &at, 0)?;
        let as_of = child("store-asof", &places.fresh(backend).await?, 1000)?;
        let api = child("store-api", &places.fresh(backend).await?, api_events)?;
        replays.push((static_name(backend), loaded, rebuilt, raw, as_of, api));
    }
    for backend in ["sqlite", "postgres"] {
        eprintln!("{backend}:");
        let store_at = places.fresh(backend).await?;
        let raw_at = places.fresh(backend).await?;
        let label = |s: &str| format!("{s} ({})", group(events));
        lines.push(Line {
            what: label("append, 100 events per append, 8 clients"),
            backend: static_name(backend),
            store: child("store-batch", &store_at, events)?,
            raw: child("raw-batch", &raw_at, events)?,
        });
        lines.push(Line {
            what: label("read all, in position order"),
            backend: static_name(backend),
            store: child("store-read", &store_at, events)?,
            raw: child("raw-read", &raw_at, events)?,
        });
        for (what, case, count) in [
            (
                "append, 1 event per command, 1 client, new streams",
                "single1",
                commands,
            ),
            (
                "append, 1 event per command, 8 clients, new streams",
                "single8",
                commands,
            ),
            (
                "1 event per command on one stream, version checked",
                "onestream",
                commands / 10,
            ),
        ] {
            let store_at = places.fresh(backend).await?;
            let raw_at = places.fresh(backend).await?;
            lines.push(Line {
                what: format!("{what} ({})", group(count)),
                backend: static_name(backend),
                store: child(&format!("store-{case}"), &store_at, count)?,
                raw: child(&format!("raw-{case}"), &raw_at, count)?,
            });
        }
    }
    places.clean_up().await?;

    let mut sqlite = sqlx::SqliteConnection::connect("sqlite::memory:").await?;
    let sqlite_version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&mut sqlite)
        .await?;
    let mut postgres = sqlx::PgConnection::connect(pg).await?;
    let pg_version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut postgres)
        .await?;
    println!("Servers: PostgreSQL {pg_version}, SQLite {sqlite_version} (bundled by sqlx).");
    println!();
    println!(
        "| measurement | backend | roadback-store events/s | raw SQL events/s | store / raw | store peak RSS | raw peak RSS |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for l in &lines {
        let rate = |m: &Measured| m.events as f64 / m.seconds;
        println!(
            "| {} | {} | {} | {} | {:.2} | {} MiB | {} MiB |",
            l.what,
            l.backend,
            group(rate(&l.store) as u64),
            group(rate(&l.raw) as u64),
            rate(&l.store) / rate(&l.raw),
            l.store.peak_kib / 1024,
            l.raw.peak_kib / 1024,
        );
    }
    println!();
    println!(
        "Replay: the read models (plans and caseload) rebuilt by `roadback rebuild` from a log of \
         realistic beneficiary histories (random valid histories, about 60 events each), beside a \
         raw ordered read of the same rows (rebuild time from start to commit, statistics \
         included); and the as-of views (plan in valid time, timeline in \
         recorded time, outcome) of one 1,000-event stream, read from the store each time."
    );
    println!();
    println!(
        "| backend | events | load, whole histories per append, 8 clients | rebuild time | rebuild events/s | raw ordered read events/s | rebuild / raw | rebuild peak RSS | as-of 1,000-event stream p50 / p99 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (backend, loaded, rebuilt, raw, as_of, _) in &replays {
        let rate = |m: &Measured| m.events as f64 / m.seconds;
        // Issue 20's goals: 250,000 events/s, and 5 million events in under 20 s.
        let goal = |met: bool, goal: &str| {
            if met {
                " ✓".to_string()
            } else {
                format!(" ✗ (goal {goal})")
            }
        };
        let time_goal = if rebuilt.events >= 5_000_000 {
            goal(
                rebuilt.seconds * 5_000_000.0 / (rebuilt.events as f64) < 20.0,
                "5 M in 20 s",
            )
        } else {
            String::new()
        };
        println!(
            "| {backend} | {} | {} ev/s | {:.1} s{time_goal} | {}{} | {} | {:.2} | {} MiB | {:.2} / {:.2} ms |",
            group(rebuilt.events),
            group(rate(loaded) as u64),
            rebuilt.seconds,
            group(rate(rebuilt) as u64),
            goal(rate(rebuilt) >= 250_000.0, "250,000"),
            group(rate(raw) as u64),
            rate(rebuilt) / rate(raw),
            rebuilt.peak_kib / 1024,
            as_of.p50_ms.unwrap_or_default(),
            as_of.p99_ms.unwrap_or_default(),
        );
    }
    println!();
    println!(
        "Beneficiary view over GraphQL (plan and the latest 50 timeline entries, with the \
         access-log write every read makes), through the HTTP application on a local port, {} \
         clients with an integrator token, each asking for a random beneficiary of one of 15 \
         organisations, for 10 s.",
        api::CLIENTS
    );
    println!();
    println!("| backend | beneficiaries | requests/s | p50 | p99 | server + clients peak RSS |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (backend, _, _, _, _, api) in &replays {
        println!(
            "| {backend} | {} | {} | {:.1} ms | {:.1} ms | {} MiB |",
            group(api.beneficiaries.unwrap_or_default()),
            group((api.events as f64 / api.seconds) as u64),
            api.p50_ms.unwrap_or_default(),
            api.p99_ms.unwrap_or_default(),
            api.peak_kib / 1024,
        );
    }
    Ok(())
}

fn static_name(backend: &str) -> &'static str {
    if backend == "sqlite" {
        "SQLite"
    } else {
        "PostgreSQL"
    }
}

/// 1234567 → "1,234,567".
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

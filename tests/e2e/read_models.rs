//! The read models through the binary: `roadback rebuild` on both backends, and the projector
//! that `roadback serve` runs.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use roadback_domain::projection::{Envelope, Projections};
use roadback_domain::testing::{play, seeded_steps};
use roadback_e2e::{Server, roadback};
use roadback_store::testing::{TestDatabase, append_history};
use roadback_store::{EventStore, StoreConfig, StoreLocation};
use uuid::Uuid;

fn history() -> Vec<Envelope> {
    play(&seeded_steps(3, 400, 5, 20), 5)
}

async fn append(store: &EventStore, entries: &[Envelope]) {
    append_history(store, entries, Uuid::from_u128(0x0A))
        .await
        .unwrap();
}

async fn assert_plans(store: &EventStore, entries: &[Envelope]) {
    let mut expected = Projections::default();
    for e in entries {
        expected.apply(e);
    }
    let plans: HashMap<_, _> = store
        .all_plans()
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.beneficiary_id, p))
        .collect();
    assert_eq!(plans, expected.plans());
    assert_eq!(store.caseload().await.unwrap(), expected.caseload);
}

fn sqlite_store(dir: &Path) -> StoreConfig {
    StoreConfig::new(StoreLocation::Sqlite(dir.join("data/roadback.db")))
}

/// Runs `roadback rebuild`; its output and its log.
fn rebuild(dir: &Path, env: &[(&str, &str)]) -> (String, String) {
    let output = roadback(dir)
        .arg("rebuild")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stdout}{stderr}");
    (stdout, stderr)
}

#[tokio::test]
async fn rebuild_recomputes_the_read_models_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let entries = history();
    let store = EventStore::open(&sqlite_store(dir.path())).await.unwrap();
    append(&store, &entries).await;
    let (stdout, _) = rebuild(dir.path(), &[]);
    assert!(
        stdout.contains(&format!("from {} events", entries.len())),
        "{stdout}"
    );
    assert_plans(&store, &entries).await;
}

#[tokio::test]
async fn rebuild_recomputes_the_read_models_on_postgresql() {
    let db = TestDatabase::postgres().await;
    let url = db.postgres_url().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let entries = history();
    let store = db.open().await;
    append(&store, &entries).await;
    let (stdout, log) = rebuild(dir.path(), &[("DATABASE_URL", &url)]);
    assert!(
        stdout.contains(&format!("from {} events", entries.len())),
        "{stdout}"
    );
    assert_plans(&store, &entries).await;
    // A clean end: closing the store is not a listener failure.
    assert!(!log.contains("WARN"), "{log}");
    // The planner knows how large the log is (never analyzed, PostgreSQL says -1).
    let pool = store.postgres_pool().unwrap();
    let rows: f32 = sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = 'events'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(rows as usize, entries.len());
}

#[tokio::test]
async fn serve_keeps_the_read_models_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]).await;
    let store = EventStore::open(&sqlite_store(dir.path())).await.unwrap();
    let entries = history();
    append(&store, &entries).await;
    let head = store.head().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while store
        .checkpoint(roadback_store::projector::CHECKPOINT)
        .await
        .unwrap()
        != Some(head)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server's projector did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_plans(&store, &entries).await;
    assert!(server.terminate().success());
}

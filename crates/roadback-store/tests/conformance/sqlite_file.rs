//! What only the SQLite backend has: its file and write-ahead log.

use std::time::{Duration, Instant};

use roadback_store::testing::TestDatabase;
use roadback_store::{ExpectedVersion, StoreLocation, StreamId};
use sqlx::Row;

use crate::noted_many;

/// What is committed reaches the database file itself a moment later, copied from the
/// write-ahead log in the background: here a few pages, far below the 16,384 at which a commit
/// would copy the log itself. (A copy of the file without its log, as a backup that missed the
/// `-wal` file would be, holds what was checkpointed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_reach_the_database_file_in_the_background() {
    let db = TestDatabase::sqlite();
    let StoreLocation::Sqlite(path) = &db.location else {
        unreachable!("a SQLite test database")
    };
    let store = db.open().await;
    for i in 0..10 {
        let stream = StreamId::new(format!("case-{i}")).unwrap();
        store
            .append(&stream, ExpectedVersion::NoStream, noted_many(3))
            .await
            .unwrap();
    }
    let copies = tempfile::tempdir().unwrap();
    let copy = copies.path().join("copy.db");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut in_file = 0;
    while in_file < 30 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        std::fs::copy(path, &copy).unwrap();
        // A copy taken while a checkpoint writes may be torn: it counts as not there yet.
        in_file = rusqlite::Connection::open(&copy)
            .and_then(|c| c.query_row("SELECT count(*) FROM events", [], |row| row.get(0)))
            .unwrap_or(0);
    }
    assert_eq!(in_file, 30, "the database file holds every committed event");
}

/// The pool's connections are as durable as the writers' (`synchronous = FULL`) and keep the
/// same settings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pools_connections_have_the_stores_settings() {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let pool = store.sqlite_pool().unwrap();
    for (name, expected) in [
        ("journal_mode", "wal"),
        ("synchronous", "2"),
        ("secure_delete", "1"),
        ("journal_size_limit", "67108864"),
        ("wal_autocheckpoint", "16384"),
        ("foreign_keys", "1"),
    ] {
        let row = sqlx::query(&format!("PRAGMA {name}"))
            .fetch_one(pool)
            .await
            .unwrap();
        let value = row
            .try_get::<String, _>(0)
            .or_else(|_| row.try_get::<i64, _>(0).map(|n| n.to_string()))
            .unwrap();
        assert_eq!(value, expected, "{name}");
    }
}

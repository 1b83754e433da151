//! What only the PostgreSQL backend has: instances that learn of each other's appends.

use std::time::Duration;

use roadback_store::testing::TestDatabase;
use roadback_store::{ExpectedVersion, StoreLocation, StreamId};
use sqlx::postgres::PgListener;

use crate::noted_many;

/// Each instance tells the others when it appended (`NOTIFY roadback_events` with its new
/// head), so their subscribers read at once rather than at their next poll: after a burst of
/// appends, the notifications a listener gets rise to the head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_instances_are_told_of_appends() {
    let db = TestDatabase::postgres().await;
    let StoreLocation::Postgres(url) = &db.location else {
        unreachable!("a PostgreSQL test database")
    };
    let store = db.open().await;
    let mut listener = PgListener::connect(url).await.unwrap();
    listener.listen("roadback_events").await.unwrap();
    for i in 0..20 {
        let stream = StreamId::new(format!("case-{}", i % 4)).unwrap();
        store
            .append(&stream, ExpectedVersion::Any, noted_many(1 + i % 2))
            .await
            .unwrap();
    }
    let head = store.head().await.unwrap();
    let mut told = 0;
    while told < head {
        let note = tokio::time::timeout(Duration::from_secs(10), listener.recv())
            .await
            .expect("no notification of the appends within 10 s")
            .unwrap();
        let position: u64 = note.payload().parse().unwrap();
        assert!(
            position > told && position <= head,
            "{position} after {told}"
        );
        told = position;
    }
}

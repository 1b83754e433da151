//! Subscriptions and concurrent writers: every event seen once, in order, none skipped.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt;
use roadback_store::testing::TestDatabase;
use roadback_store::{ExpectedVersion, StoreError, StreamId};

use crate::{noted, noted_many};

const PATIENCE: Duration = Duration::from_secs(60);

pub async fn subscription_catches_up_then_follows_live(db: &TestDatabase) {
    let store = db.open().await;
    let s = StreamId::new("case-1").unwrap();
    store
        .append(&s, ExpectedVersion::NoStream, noted_many(5))
        .await
        .unwrap();

    let mut from_start = store.subscribe(0);
    let mut from_three = store.subscribe(3);
    for expected in 1..=5 {
        let e = tokio::time::timeout(PATIENCE, from_start.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(e.position, expected);
    }
    for expected in 4..=5 {
        let e = tokio::time::timeout(PATIENCE, from_three.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(e.position, expected);
    }

    // Caught up: the next event arrives live, well within the poll interval.
    let writer = {
        let (store, s) = (store.clone(), s.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            store
                .append(&s, ExpectedVersion::Exact(5), vec![noted(6)])
                .await
                .unwrap()
        })
    };
    let e = tokio::time::timeout(Duration::from_secs(5), from_start.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((e.position, e.version), (6, 6));
    writer.await.unwrap();
}

pub async fn racing_appends_to_one_stream_admit_one(db: &TestDatabase) {
    let store = db.open().await;
    let s = StreamId::new("case-1").unwrap();
    store
        .append(&s, ExpectedVersion::NoStream, vec![noted(0)])
        .await
        .unwrap();
    let racers = (0..10).map(|i| {
        let (store, s) = (store.clone(), s.clone());
        tokio::spawn(async move {
            store
                .append(&s, ExpectedVersion::Exact(1), vec![noted(i)])
                .await
        })
    });
    let results: Vec<_> = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for r in results.iter().filter(|r| r.is_err()) {
        assert!(
            matches!(r, Err(StoreError::Conflict { actual: 2, .. })),
            "{r:?}"
        );
    }
    assert_eq!(store.stream_version(&s).await.unwrap(), 2);
}

/// 8 writers append 2,000 events each while a subscriber follows live: it gets all 16,000,
/// each once, in strictly increasing position.
pub async fn concurrent_writers_and_a_live_subscriber(db: &TestDatabase) {
    const WRITERS: u64 = 8;
    const PER_WRITER: u64 = 2_000;
    let store = db.open().await;
    let mut subscription = store.subscribe(0);

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut written = 0;
                let mut versions = [0u64; 5];
                let mut i = 0;
                while written < PER_WRITER {
                    // Single events and small batches, spread over a few streams per writer.
                    let n = (1 + i % 3).min(PER_WRITER - written);
                    let slot = (i % 5) as usize;
                    let s = StreamId::new(format!("writer{w}-{slot}")).unwrap();
                    let expected = match versions[slot] {
                        0 => ExpectedVersion::NoStream,
                        v => ExpectedVersion::Exact(v),
                    };
                    let result = store.append(&s, expected, noted_many(n)).await.unwrap();
                    versions[slot] = result.stream_version;
                    written += n;
                    i += 1;
                }
            })
        })
        .collect();

    let total = WRITERS * PER_WRITER;
    let mut seen = HashSet::new();
    let mut last = 0;
    while (seen.len() as u64) < total {
        let event = tokio::time::timeout(PATIENCE, subscription.next())
            .await
            .expect("the subscriber stalled")
            .expect("the subscription ended")
            .expect("the subscription failed");
        assert!(
            event.position > last,
            "position {} after {last}",
            event.position
        );
        last = event.position;
        assert!(seen.insert(event.id), "event {} delivered twice", event.id);
    }
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(store.head().await.unwrap(), total);
    assert_eq!(last, total);
    // Nothing more arrives: every event was delivered exactly once.
    let extra = tokio::time::timeout(Duration::from_millis(700), subscription.next()).await;
    assert!(extra.is_err(), "an extra event arrived: {extra:?}");
}

/// Two store instances on one database (two server instances, or a CLI load beside a server):
/// a subscriber on one sees what the other appends, and the global order stays gap-free.
pub async fn two_instances_share_one_order(db: &TestDatabase) {
    let a = db.open().await;
    let b = db.open().await;
    let mut follower = b.subscribe(0);

    let writers: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .enumerate()
        .map(|(n, store)| {
            tokio::spawn(async move {
                for i in 0..50 {
                    let s = StreamId::new(format!("instance{n}-{}", i % 3)).unwrap();
                    store
                        .append(&s, ExpectedVersion::Any, noted_many(1 + i % 2))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let head = a.head().await.unwrap();
    assert_eq!(head, b.head().await.unwrap());
    assert_eq!(head, 2 * (25 + 25 * 2));

    let mut positions = Vec::new();
    while (positions.len() as u64) < head {
        let event = tokio::time::timeout(PATIENCE, follower.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        positions.push(event.position);
    }
    assert_eq!(positions, (1..=head).collect::<Vec<_>>());
    for n in 0..2 {
        for slot in 0..3 {
            assert_versions_gap_free(&a, &format!("instance{n}-{slot}")).await;
        }
    }
}

/// Two store instances racing on the same streams, each append with the version it last read:
/// every version of every stream is taken exactly once (the losers get a conflict naming the
/// version that won and try again on it), and the global order stays gap-free. On PostgreSQL
/// this is the path where one instance's append waits for the other's lock on the head and goes
/// on from the head the other left, having read the streams before the other's commit (the
/// unique key refuses a version the other took, and the batch is judged after the lock).
pub async fn two_instances_racing_on_the_same_streams_take_each_version_once(db: &TestDatabase) {
    const STREAMS: usize = 3;
    const APPENDS: usize = 40;
    let a = db.open().await;
    let b = db.open().await;
    let writers: Vec<_> = [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .map(|store| {
            tokio::spawn(async move {
                let mut conflicts = 0;
                for i in 0..APPENDS {
                    let s = StreamId::new(format!("shared-{}", i % STREAMS)).unwrap();
                    let mut version = store.stream_version(&s).await.unwrap();
                    loop {
                        let expected = match version {
                            0 => ExpectedVersion::NoStream,
                            v => ExpectedVersion::Exact(v),
                        };
                        match store.append(&s, expected, vec![noted(i as u64)]).await {
                            Ok(appended) => {
                                assert_eq!(appended.stream_version, version + 1);
                                break;
                            }
                            Err(StoreError::Conflict { actual, .. }) => {
                                assert!(actual > version, "{actual} after {version}");
                                conflicts += 1;
                                version = actual;
                            }
                            Err(other) => panic!("{other:?}"),
                        }
                    }
                }
                conflicts
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let all = a.read_all(0, 10_000).await.unwrap();
    assert_eq!(all.len(), 4 * APPENDS);
    let positions: Vec<u64> = all.iter().map(|e| e.position).collect();
    assert_eq!(positions, (1..=all.len() as u64).collect::<Vec<_>>());
    assert_eq!(b.head().await.unwrap(), all.len() as u64);
    for slot in 0..STREAMS {
        assert_versions_gap_free(&b, &format!("shared-{slot}")).await;
    }
}

/// The stream's versions run 1, 2, 3, … with none missing or repeated.
async fn assert_versions_gap_free(store: &roadback_store::EventStore, stream: &str) {
    let s = StreamId::new(stream).unwrap();
    let versions: Vec<u64> = store
        .read_stream(&s, 1, 1000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.version)
        .collect();
    assert_eq!(
        versions,
        (1..=versions.len() as u64).collect::<Vec<_>>(),
        "{s}"
    );
}

/// The writers keep their connections between statements (no pool ping): when the server drops
/// them (a restart, an idle timeout), the next append and access-log row are sent again on a
/// new connection and succeed, each stored once. (SQLite has no server: the same steps pass.)
pub async fn the_writers_reconnect_when_the_server_drops_their_connections(db: &TestDatabase) {
    let store = db.open().await;
    let s = StreamId::new("case-1").unwrap();
    let (user, org) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
    store
        .append(&s, ExpectedVersion::NoStream, noted_many(2))
        .await
        .unwrap();
    store
        .log_access(user, org, None, "READ_RECORD", "before")
        .await
        .unwrap();
    if let Some(url) = db.postgres_url() {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
        let dropped: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert!(dropped.len() >= 2, "the writers' connections: {dropped:?}");
    }
    let appended = store
        .append(&s, ExpectedVersion::Exact(2), noted_many(1))
        .await
        .unwrap();
    assert_eq!(appended.stream_version, 3);
    store
        .log_access(user, org, None, "READ_RECORD", "after")
        .await
        .unwrap();
    // Pooled connections idle for a second are checked before use, so reads find new ones.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(store.read_all(0, 100).await.unwrap().len(), 3);
    let log = store.access_log(org, None, None, 10).await.unwrap();
    let purposes: Vec<_> = log.iter().map(|e| e.purpose.as_str()).collect();
    assert_eq!(purposes, ["after", "before"]);
}

/// A consumer's transaction (a projector's batch, a vault write) and the store's own writers in
/// one process: an append and an access-log row asked for while it is open wait for it and then
/// commit, whether it commits or is dropped unfinished (on SQLite they take turns on the
/// writers' connection; on PostgreSQL they do not touch its rows).
pub async fn writes_wait_for_a_consumers_open_transaction_then_commit(db: &TestDatabase) {
    let store = db.open().await;
    let s = StreamId::new("case-1").unwrap();
    let (user, org) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
    for commit in [true, false] {
        let mut tx = store.begin().await.unwrap();
        tx.save_checkpoint("consumer", 1).await.unwrap();
        let append = tokio::spawn({
            let (store, s) = (store.clone(), s.clone());
            async move { store.append(&s, ExpectedVersion::Any, vec![noted(1)]).await }
        });
        let access = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .log_access(user, org, None, "READ_RECORD", "case work")
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        if commit {
            tx.commit().await.unwrap();
        } else {
            drop(tx);
        }
        tokio::time::timeout(PATIENCE, append)
            .await
            .expect("the append went on")
            .unwrap()
            .unwrap();
        tokio::time::timeout(PATIENCE, access)
            .await
            .expect("the access row went on")
            .unwrap()
            .unwrap();
    }
    assert_eq!(store.read_stream(&s, 1, 10).await.unwrap().len(), 2);
    assert_eq!(
        store.access_log(org, None, None, 10).await.unwrap().len(),
        2
    );
    assert_eq!(store.checkpoint("consumer").await.unwrap(), Some(1));
}

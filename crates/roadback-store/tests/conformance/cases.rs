//! Appending, reading, idempotency, limits and checkpoints.

use chrono::NaiveDate;
use roadback_store::testing::TestDatabase;
use roadback_store::{ExpectedVersion, NewEvent, StoreError, StoreTransaction, StreamId};
use uuid::Uuid;

use crate::{context, noted, noted_many};

fn stream(name: &str) -> StreamId {
    StreamId::new(name).unwrap()
}

pub async fn appended_events_read_back_with_every_field(db: &TestDatabase) {
    let store = db.open().await;
    let s = stream("beneficiary-1");
    let first = NewEvent::new(
        Uuid::now_v7(),
        "BeneficiaryRegistered",
        2,
        NaiveDate::from_ymd_opt(2009, 11, 30).unwrap(),
        context(),
        &serde_json::json!({ "case_code": "AL-0001", "nested": { "list": [1, 2.5, "x"], "none": null } }),
    )
    .unwrap();
    let result = store
        .append(&s, ExpectedVersion::NoStream, vec![first.clone(), noted(2)])
        .await
        .unwrap();
    assert_eq!(result.stream_version, 2);
    assert_eq!((result.first_position, result.last_position), (1, 2));

    let events = store.read_stream(&s, 1, 100).await.unwrap();
    assert_eq!(events.len(), 2);
    let e = &events[0];
    assert_eq!(e.id, first.id);
    assert_eq!(e.stream_id, "beneficiary-1");
    assert_eq!((e.version, e.position), (1, 1));
    assert_eq!(e.event_type, "BeneficiaryRegistered");
    assert_eq!(e.schema_version, 2);
    assert_eq!(e.occurred_on, first.occurred_on);
    assert_eq!(e.recorded_at, result.recorded_at);
    assert_eq!(e.context, context());
    let payload: serde_json::Value = e.payload_as().unwrap();
    assert_eq!(payload["nested"]["list"][1], 2.5);
    assert_eq!(payload["case_code"], "AL-0001");
    // As appended, byte for byte (not re-rendered with the database's own spacing or key order).
    assert_eq!(e.payload.get(), first.payload.get());
    assert_eq!((events[1].version, events[1].position), (2, 2));
    assert_eq!(store.stream_version(&s).await.unwrap(), 2);
    assert_eq!(
        store
            .stream_version(&stream("beneficiary-none"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.head().await.unwrap(), 2);

    // recorded_at never decreases along the global order
    let later = store
        .append(
            &stream("beneficiary-2"),
            ExpectedVersion::Any,
            vec![noted(3)],
        )
        .await
        .unwrap();
    assert!(later.recorded_at >= result.recorded_at);
    assert_eq!(later.first_position, 3);
}

/// Each expectation that does not fit is a conflict naming the stream's version, for appends
/// of one event and of several (a backend may commit them differently): no stream where there
/// is one, a version the stream has passed, one it has not reached, any version of a missing
/// stream.
pub async fn expected_version_is_checked(db: &TestDatabase) {
    let store = db.open().await;
    let s = stream("case-7");
    store
        .append(&s, ExpectedVersion::NoStream, noted_many(3))
        .await
        .unwrap();

    for events in [1, 2] {
        let err = store
            .append(&s, ExpectedVersion::NoStream, noted_many(events))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Conflict {
                    actual: 3,
                    expected: ExpectedVersion::NoStream,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.code(), "CONFLICT");

        for expected in [2, 4, 7] {
            let err = store
                .append(&s, ExpectedVersion::Exact(expected), noted_many(events))
                .await
                .unwrap_err();
            assert!(
                matches!(err, StoreError::Conflict { actual: 3, .. }),
                "{expected}: {err:?}"
            );
            assert!(err.to_string().contains("version 3"), "{err}");
        }

        let err = store
            .append(
                &stream("case-missing"),
                ExpectedVersion::Exact(1),
                noted_many(events),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { actual: 0, .. }),
            "{err:?}"
        );
    }
    assert_eq!(store.head().await.unwrap(), 3);

    let ok = store
        .append(&s, ExpectedVersion::Exact(3), vec![noted(4)])
        .await
        .unwrap();
    assert_eq!(ok.stream_version, 4);
    let ok = store
        .append(&s, ExpectedVersion::Exact(4), noted_many(2))
        .await
        .unwrap();
    assert_eq!(ok.stream_version, 6);
    let ok = store
        .append(&s, ExpectedVersion::Any, vec![noted(5)])
        .await
        .unwrap();
    assert_eq!(ok.stream_version, 7);
}

pub async fn a_conflict_stores_nothing(db: &TestDatabase) {
    let store = db.open().await;
    let s = stream("case-1");
    store
        .append(&s, ExpectedVersion::NoStream, noted_many(2))
        .await
        .unwrap();
    let rejected = noted_many(3);
    let ids: Vec<Uuid> = rejected.iter().map(|e| e.id).collect();
    store
        .append(&s, ExpectedVersion::Exact(1), rejected)
        .await
        .unwrap_err();
    assert_eq!(store.head().await.unwrap(), 2);
    assert_eq!(store.stream_version(&s).await.unwrap(), 2);
    assert!(store.read_by_ids(&ids).await.unwrap().is_empty());
}

pub async fn a_retried_append_returns_the_first_result(db: &TestDatabase) {
    let store = db.open().await;
    let s = stream("case-1");
    let events = noted_many(3);
    let first = store
        .append(&s, ExpectedVersion::NoStream, events.clone())
        .await
        .unwrap();
    store
        .append(&s, ExpectedVersion::Exact(3), vec![noted(7)])
        .await
        .unwrap();

    // The same command again, with its (now stale) expected version: the first result, nothing stored.
    let again = store
        .append(&s, ExpectedVersion::NoStream, events.clone())
        .await
        .unwrap();
    assert_eq!(again, first);
    let again = store
        .append(&s, ExpectedVersion::Any, events)
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(store.head().await.unwrap(), 4);
    assert_eq!(store.read_stream(&s, 1, 100).await.unwrap().len(), 4);

    // Many retries at once are each answered with the first result.
    let batch = noted_many(2);
    let s2 = stream("case-2");
    let tries = (0..8).map(|_| {
        let (store, s2, batch) = (store.clone(), s2.clone(), batch.clone());
        tokio::spawn(async move { store.append(&s2, ExpectedVersion::NoStream, batch).await })
    });
    let results: Vec<_> = futures_util::future::join_all(tries)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert!(results.windows(2).all(|w| w[0] == w[1]), "{results:?}");
    assert_eq!(store.head().await.unwrap(), 6);
}

pub async fn a_reused_event_id_is_rejected(db: &TestDatabase) {
    let store = db.open().await;
    let s = stream("case-1");
    let original = noted(1);
    store
        .append(&s, ExpectedVersion::NoStream, vec![original.clone()])
        .await
        .unwrap();

    let mut other_payload = noted(2);
    other_payload.id = original.id;
    let err = store
        .append(&s, ExpectedVersion::Any, vec![other_payload])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::IdempotencyMismatch { event_id } if event_id == original.id),
        "{err:?}"
    );
    assert_eq!(err.code(), "VALIDATION");

    // Same content on another stream is a reuse too.
    let err = store
        .append(
            &stream("case-2"),
            ExpectedVersion::Any,
            vec![original.clone()],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::IdempotencyMismatch { .. }),
        "{err:?}"
    );

    // A command that repeats one stored event and adds a new one is not a retry.
    let err = store
        .append(&s, ExpectedVersion::Any, vec![original, noted(3)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::IdempotencyMismatch { .. }),
        "{err:?}"
    );
    assert_eq!(store.head().await.unwrap(), 1);
}

pub async fn limits_reject_bad_appends_and_store_nothing(db: &TestDatabase) {
    let store = db.open().await;
    let s = stream("case-1");
    let limits = store.limits();

    let err = store
        .append(&s, ExpectedVersion::Any, vec![])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::EmptyAppend), "{err:?}");

    let big = "x".repeat(limits.max_payload_bytes);
    let oversized =
        NewEvent::new(Uuid::now_v7(), "Noted", 1, NaiveDate::MIN, context(), &big).unwrap();
    let err = store
        .append(&s, ExpectedVersion::Any, vec![noted(1), oversized])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::PayloadTooLarge { size, .. } if size == limits.max_payload_bytes + 2),
        "{err:?}"
    );

    let err = store
        .append(
            &s,
            ExpectedVersion::Any,
            noted_many(limits.max_events_per_append as u64 + 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TooManyEvents { .. }), "{err:?}");

    let twice = noted(1);
    let err = store
        .append(&s, ExpectedVersion::Any, vec![twice.clone(), twice])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::DuplicateEventId { .. }),
        "{err:?}"
    );

    let mut badly_named = noted(1);
    badly_named.event_type = "no spaces please".into();
    let err = store
        .append(&s, ExpectedVersion::Any, vec![badly_named])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidEventType { .. }),
        "{err:?}"
    );

    for err in [
        StoreError::EmptyAppend,
        StreamId::new("bad stream").unwrap_err(),
    ] {
        assert_eq!(err.code(), "VALIDATION");
        assert!(!err.to_string().is_empty());
    }
    assert_eq!(store.head().await.unwrap(), 0);
    assert_eq!(store.stream_version(&s).await.unwrap(), 0);
}

pub async fn read_all_pages_in_position_order(db: &TestDatabase) {
    let store = db.open().await;
    for i in 0..25 {
        let s = stream(&format!("case-{}", i % 4));
        store
            .append(&s, ExpectedVersion::Any, noted_many(1 + i % 3))
            .await
            .unwrap();
    }
    let head = store.head().await.unwrap();
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_all(after, 7).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 7);
        after = page.last().unwrap().position;
        seen.extend(page.into_iter().map(|e| e.position));
    }
    assert_eq!(seen, (1..=head).collect::<Vec<_>>());
    assert!(store.read_all(head, 10).await.unwrap().is_empty());
}

/// Every field of a stored event, the payload as its text: a payload reads back byte for byte
/// as it was appended, on both backends.
fn fields(
    e: &roadback_store::RecordedEvent,
) -> (
    u64,
    Uuid,
    String,
    u64,
    String,
    u32,
    NaiveDate,
    chrono::DateTime<chrono::Utc>,
    roadback_store::EventContext,
    String,
) {
    (
        e.position,
        e.id,
        e.stream_id.clone(),
        e.version,
        e.event_type.clone(),
        e.schema_version,
        e.occurred_on,
        e.recorded_at,
        e.context,
        e.payload.get().to_string(),
    )
}

pub async fn read_log_streams_the_log_in_position_order(db: &TestDatabase) {
    use futures_util::TryStreamExt;
    let store = db.open().await;
    assert!(
        store
            .read_log(0)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );
    // More than one page of the SQLite reader's, over several streams.
    let mut appended = Vec::new();
    for (i, count) in [700u64, 1, 650, 3].into_iter().enumerate() {
        let events = noted_many(count);
        appended.extend(events.iter().map(|e| e.payload.get().to_string()));
        let s = stream(&format!("case-{}", i % 2));
        store
            .append(&s, ExpectedVersion::Any, events)
            .await
            .unwrap();
    }
    let head = store.head().await.unwrap();
    assert_eq!(head, 1354);
    let mut paged = Vec::new();
    loop {
        let page = store.read_all(paged.len() as u64, 500).await.unwrap();
        if page.is_empty() {
            break;
        }
        paged.extend(page.iter().map(fields));
    }
    let logged: Vec<_> = store
        .read_log(0)
        .map_ok(|e| fields(&e))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(logged, paged);
    assert_eq!(
        logged.iter().map(|f| f.0).collect::<Vec<_>>(),
        (1..=head).collect::<Vec<_>>()
    );
    assert_eq!(
        logged.iter().map(|f| f.9.clone()).collect::<Vec<_>>(),
        appended
    );
    let after: Vec<u64> = store
        .read_log(1000)
        .map_ok(|e| e.position)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(after, (1001..=head).collect::<Vec<_>>());
    assert!(
        store
            .read_log(head)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );
    // A read dropped part way gives its connection back: more of them than any pool holds.
    for _ in 0..40 {
        let mut log = store.read_log(0);
        assert_eq!(log.try_next().await.unwrap().unwrap().position, 1);
    }
    let s = stream("case-2");
    store
        .append(&s, ExpectedVersion::NoStream, noted_many(1))
        .await
        .unwrap();
    let tail: Vec<_> = store.read_log(head).try_collect().await.unwrap();
    assert_eq!(tail.len(), 1);
}

pub async fn read_stream_from_a_version(db: &TestDatabase) {
    let store = db.open().await;
    let s = stream("case-1");
    store
        .append(&s, ExpectedVersion::NoStream, noted_many(10))
        .await
        .unwrap();
    store
        .append(&stream("case-2"), ExpectedVersion::NoStream, noted_many(3))
        .await
        .unwrap();
    let tail = store.read_stream(&s, 6, 100).await.unwrap();
    assert_eq!(
        tail.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![6, 7, 8, 9, 10]
    );
    let page = store.read_stream(&s, 2, 3).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    assert!(store.read_stream(&s, 11, 100).await.unwrap().is_empty());
    assert!(
        store
            .read_stream(&stream("case-9"), 1, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn consumer_rows(tx: &mut StoreTransaction) -> i64 {
    let sql = "SELECT count(*) FROM consumer_rows";
    match tx {
        StoreTransaction::Postgres(tx) => {
            sqlx::query_scalar(sql).fetch_one(&mut **tx).await.unwrap()
        }
        StoreTransaction::Sqlite(tx) => sqlx::query_scalar(sql).fetch_one(&mut **tx).await.unwrap(),
    }
}

async fn execute(tx: &mut StoreTransaction, sql: &str) {
    match tx {
        StoreTransaction::Postgres(tx) => sqlx::query(sql)
            .execute(&mut **tx)
            .await
            .map(|_| ())
            .unwrap(),
        StoreTransaction::Sqlite(tx) => sqlx::query(sql)
            .execute(&mut **tx)
            .await
            .map(|_| ())
            .unwrap(),
    }
}

pub async fn checkpoints_commit_with_the_consumers_writes(db: &TestDatabase) {
    let store = db.open().await;
    assert_eq!(store.checkpoint("plan").await.unwrap(), None);
    let mut tx = store.begin().await.unwrap();
    execute(
        &mut tx,
        "CREATE TABLE consumer_rows (id INTEGER PRIMARY KEY, note TEXT NOT NULL)",
    )
    .await;
    tx.commit().await.unwrap();

    // Rolled back: neither the consumer's row nor its checkpoint.
    let mut tx = store.begin().await.unwrap();
    execute(
        &mut tx,
        "INSERT INTO consumer_rows (id, note) VALUES (1, 'seen')",
    )
    .await;
    tx.save_checkpoint("plan", 41).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(store.checkpoint("plan").await.unwrap(), None);

    // Dropped without commit: the same.
    {
        let mut tx = store.begin().await.unwrap();
        execute(
            &mut tx,
            "INSERT INTO consumer_rows (id, note) VALUES (1, 'seen')",
        )
        .await;
        tx.save_checkpoint("plan", 41).await.unwrap();
    }
    assert_eq!(store.checkpoint("plan").await.unwrap(), None);

    // Committed: both.
    let mut tx = store.begin().await.unwrap();
    execute(
        &mut tx,
        "INSERT INTO consumer_rows (id, note) VALUES (1, 'seen')",
    )
    .await;
    tx.save_checkpoint("plan", 42).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.checkpoint("plan").await.unwrap(), Some(42));
    let mut tx = store.begin().await.unwrap();
    assert_eq!(consumer_rows(&mut tx).await, 1);
    tx.save_checkpoint("plan", 50).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.checkpoint("plan").await.unwrap(), Some(50));
    assert_eq!(store.checkpoint("caseload").await.unwrap(), None);
}

pub async fn events_cannot_be_updated_or_deleted(db: &TestDatabase) {
    let store = db.open().await;
    store
        .append(&stream("case-1"), ExpectedVersion::NoStream, noted_many(2))
        .await
        .unwrap();
    for sql in [
        "UPDATE events SET event_type = 'Tampered'",
        "DELETE FROM events",
    ] {
        let mut tx = store.begin().await.unwrap();
        let result = match &mut tx {
            StoreTransaction::Postgres(tx) => sqlx::query(sql).execute(&mut **tx).await.map(|_| ()),
            StoreTransaction::Sqlite(tx) => sqlx::query(sql).execute(&mut **tx).await.map(|_| ()),
        };
        let err = result.unwrap_err().to_string();
        assert!(err.contains("immutable"), "{sql}: {err}");
    }
    let events = store.read_all(0, 10).await.unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.event_type == "Noted"));
}

pub async fn the_log_survives_reopening(db: &TestDatabase) {
    let s = stream("case-1");
    {
        let store = db.open().await;
        store
            .append(&s, ExpectedVersion::NoStream, noted_many(3))
            .await
            .unwrap();
    }
    let store = db.open().await;
    assert_eq!(store.head().await.unwrap(), 3);
    let next = store
        .append(&s, ExpectedVersion::Exact(3), vec![noted(4)])
        .await
        .unwrap();
    assert_eq!((next.stream_version, next.first_position), (4, 4));
}

/// Text PostgreSQL cannot store (a NUL character) in one of many concurrent appends: that
/// append is refused, and the others, committed together in the same group commits, are not.
pub async fn a_nul_character_in_one_of_concurrent_appends_fails_only_that_append(
    db: &TestDatabase,
) {
    let store = db.open().await;
    let mut appends = tokio::task::JoinSet::new();
    for i in 0..64u64 {
        let store = store.clone();
        appends.spawn(async move {
            let text = if i == 17 {
                "a\u{0}b".to_string()
            } else {
                format!("ok {i}")
            };
            let event = NewEvent::new(
                Uuid::now_v7(),
                "Noted",
                1,
                NaiveDate::from_ymd_opt(2012, 3, 4).unwrap(),
                context(),
                &serde_json::json!({ "text": text }),
            )
            .unwrap();
            let result = store
                .append(
                    &stream(&format!("nul-{i}")),
                    ExpectedVersion::NoStream,
                    vec![event],
                )
                .await;
            (i, result)
        });
    }
    let mut failed = Vec::new();
    while let Some(joined) = appends.join_next().await {
        let (i, result) = joined.unwrap();
        if let Err(error) = result {
            assert!(
                matches!(error, StoreError::InvalidPayload { .. }),
                "{i}: {error:?}"
            );
            failed.push(i);
        }
    }
    assert_eq!(failed, [17]);
    assert_eq!(store.read_all(0, 1_000).await.unwrap().len(), 63);
}

/// Concurrent appends, committed together where they meet in a batch, are each answered on
/// their own: the ones whose expected version fits are stored, beside a conflict on a taken
/// version, a conflict on a version the stream has not reached, and retries of stored appends.
/// Positions stay gap-free whatever the mix.
pub async fn appends_that_fit_land_beside_conflicts_and_retries(db: &TestDatabase) {
    const APPENDS: u64 = 64;
    let store = db.open().await;
    // Single events and pairs of each kind (a backend may commit them differently).
    let size = |i: u64| 1 + (i / 4) % 2;
    let mut earlier = std::collections::HashMap::new();
    for i in (0..APPENDS).filter(|i| i % 4 != 2) {
        let events = noted_many(size(i));
        let result = store
            .append(
                &stream(&format!("mix-{i}")),
                ExpectedVersion::NoStream,
                events.clone(),
            )
            .await
            .unwrap();
        earlier.insert(i, (events, result));
    }
    let stored = store.head().await.unwrap();
    let mut appends = tokio::task::JoinSet::new();
    for i in 0..APPENDS {
        let store = store.clone();
        let s = stream(&format!("mix-{i}"));
        let earlier = earlier.remove(&i);
        appends.spawn(async move {
            match (i % 4, earlier) {
                // Fits: the stream is at the version expected.
                (0, Some((_, first))) => {
                    let at = first.stream_version;
                    let result = store
                        .append(&s, ExpectedVersion::Exact(at), noted_many(size(i)))
                        .await;
                    assert_eq!(result.unwrap().stream_version, at + size(i), "{i}");
                }
                // Expects no stream where there is one.
                (1, Some((_, first))) => {
                    let result = store
                        .append(&s, ExpectedVersion::NoStream, noted_many(size(i)))
                        .await;
                    assert!(
                        matches!(result, Err(StoreError::Conflict { actual, .. }) if actual == first.stream_version),
                        "{i}: {result:?}"
                    );
                }
                // Expects a version the stream (there is none) has not reached.
                (2, None) => {
                    let result = store
                        .append(&s, ExpectedVersion::Exact(3), noted_many(size(i)))
                        .await;
                    assert!(
                        matches!(result, Err(StoreError::Conflict { actual: 0, .. })),
                        "{i}: {result:?}"
                    );
                }
                // A retry of the stored append, with its expected version.
                (_, Some((events, first))) => {
                    let result = store.append(&s, ExpectedVersion::NoStream, events).await;
                    assert_eq!(result.unwrap(), first, "{i}");
                }
                (_, None) => unreachable!(),
            }
        });
    }
    while let Some(joined) = appends.join_next().await {
        joined.unwrap();
    }
    let added: u64 = (0..APPENDS).filter(|i| i % 4 == 0).map(size).sum();
    assert_eq!(store.head().await.unwrap(), stored + added);
    let positions: Vec<u64> = store
        .read_all(0, 1_000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(positions, (1..=stored + added).collect::<Vec<_>>());
}

/// What `append_recorded` answers is what reading the events back gives, field for field (the
/// payload as the same JSON), for a first append and for its retry.
pub async fn an_append_answers_its_events_as_stored(db: &TestDatabase) {
    let store = db.open().await;
    let s = stream("case-1");
    store
        .append(&s, ExpectedVersion::NoStream, noted_many(2))
        .await
        .unwrap();
    let events = noted_many(3);
    let answered = store
        .append_recorded(&s, ExpectedVersion::Exact(2), events.clone())
        .await
        .unwrap();
    let retried = store
        .append_recorded(&s, ExpectedVersion::Exact(2), events)
        .await
        .unwrap();
    let stored = store.read_stream(&s, 3, 100).await.unwrap();
    assert_eq!(stored.len(), 3);
    let stored: Vec<_> = stored.iter().map(fields).collect();
    assert_eq!(answered.iter().map(fields).collect::<Vec<_>>(), stored);
    assert_eq!(retried.iter().map(fields).collect::<Vec<_>>(), stored);
    assert_eq!(store.head().await.unwrap(), 5);
}

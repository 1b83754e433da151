//! The projector and rebuild: read models equal to the pure folds, crash safety, live following,
//! and upcasting on read.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use roadback_domain::Event;
use roadback_domain::events::BeneficiaryRole;
use roadback_domain::projection::{Envelope, Projections, stream_of};
use roadback_domain::testing::{play, seeded_steps};
use roadback_store::projector::{self, BatchOutcome, CHECKPOINT, Projector};
use roadback_store::testing::{TestDatabase, append_history};
use roadback_store::{EventContext, EventStore, ExpectedVersion, NewEvent, StreamId};
use uuid::Uuid;

/// A deterministic random history of `len` steps over `streams` beneficiaries.
fn history(seed: u64, len: usize, streams: u8) -> Vec<Envelope> {
    play(&seeded_steps(seed, len, streams, 20), streams)
}

/// Appends each event as its own command, checking the stream version like the API does.
async fn append_all(store: &EventStore, entries: &[Envelope]) {
    append_history(store, entries, Uuid::from_u128(0x0A))
        .await
        .unwrap();
}

/// The read models a pure fold of `entries` gives.
fn folded(entries: &[Envelope]) -> Projections {
    let mut projections = Projections::default();
    for e in entries {
        projections.apply(e);
    }
    projections
}

async fn assert_read_models_equal(store: &EventStore, expected: &Projections, context: &str) {
    let plans: HashMap<Uuid, _> = store
        .all_plans()
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.beneficiary_id, p))
        .collect();
    assert_eq!(plans, expected.plans(), "plans {context}");
    assert_eq!(
        store.caseload().await.unwrap(),
        expected.caseload,
        "caseload {context}"
    );
}

pub async fn the_projector_and_a_rebuild_give_the_pure_read_models(db: &TestDatabase) {
    let store = db.open().await;
    let entries = history(7, 600, 6);
    assert!(entries.len() > 200, "{} events", entries.len());
    let (first, rest) = entries.split_at(entries.len() * 2 / 3);
    append_all(&store, first).await;
    let expected = folded(first);

    let mut projector = Projector::new(store.clone(), 7);
    assert_eq!(projector.catch_up().await.unwrap(), first.len() as u64);
    assert_read_models_equal(&store, &expected, "kept incrementally").await;

    let mut reported = Vec::new();
    let report = projector::rebuild(&store, |done, total| reported.push((done, total)))
        .await
        .unwrap();
    assert_eq!(report.events, first.len() as u64);
    assert_eq!(report.position, first.len() as u64);
    assert_eq!(report.beneficiaries as usize, expected.plans().len());
    assert_eq!(
        reported.last(),
        Some(&(first.len() as u64, first.len() as u64))
    );
    assert_read_models_equal(&store, &expected, "rebuilt").await;
    assert_eq!(
        store.checkpoint(CHECKPOINT).await.unwrap(),
        Some(first.len() as u64)
    );

    // The projector goes on from the rebuilt read models (its cache may be stale: a rebuild
    // moved the checkpoint under it).
    append_all(&store, rest).await;
    projector.catch_up().await.unwrap();
    assert_read_models_equal(&store, &folded(&entries), "after more events").await;
}

pub async fn a_rebuild_in_parts_reads_every_stream_once(db: &TestDatabase) {
    let store = db.open().await;
    let entries = history(23, 900, 9);
    append_all(&store, &entries).await;
    let expected = folded(&entries);
    for parts in [1, 2, 3, 5, 9, 40] {
        let splits = store
            .stream_splits(roadback_domain::projection::STREAM_PREFIX, parts)
            .await
            .unwrap();
        assert!(splits.len() < parts, "{parts} parts: {splits:?}");
        assert!(splits.windows(2).all(|w| w[0] < w[1]), "{splits:?}");
        let report = projector::rebuild_in_parts(&store, parts, |_, _| {})
            .await
            .unwrap();
        assert_eq!(report.events, entries.len() as u64, "{parts} parts");
        assert_eq!(report.beneficiaries as usize, expected.plans().len());
        assert_read_models_equal(&store, &expected, &format!("rebuilt in {parts} parts")).await;
    }
    // Many parts cut between streams, never inside one.
    let splits = store
        .stream_splits(roadback_domain::projection::STREAM_PREFIX, 40)
        .await
        .unwrap();
    assert!(splits.len() > 2, "{splits:?}");
}

pub async fn a_crash_before_commit_neither_loses_nor_repeats_an_update(db: &TestDatabase) {
    let store = db.open().await;
    let entries = history(11, 300, 4);
    append_all(&store, &entries).await;

    // Crash once at every 9th position, after the read models and the checkpoint are written
    // and before the commit; restart a fresh projector (no cache) each time.
    let crashed: Arc<Mutex<HashSet<u64>>> = Arc::default();
    let mut crashes = 0;
    loop {
        let seen = crashed.clone();
        let mut projector = Projector::new(store.clone(), 1).fail_before_commit(move |position| {
            position % 9 == 0 && seen.lock().unwrap().insert(position)
        });
        match projector.catch_up().await {
            Ok(position) => {
                assert_eq!(position, entries.len() as u64);
                break;
            }
            Err(error) => {
                crashes += 1;
                assert!(error.to_string().contains("injected failure"), "{error}");
                // What is committed is exactly the fold of the events up to the checkpoint.
                let at = store.checkpoint(CHECKPOINT).await.unwrap().unwrap_or(0);
                assert_eq!(at % 9, 8, "the crashed event is not committed");
                let done: Vec<Envelope> = entries
                    .iter()
                    .filter(|e| e.position <= at)
                    .cloned()
                    .collect();
                assert_read_models_equal(&store, &folded(&done), "after a crash").await;
            }
        }
    }
    assert_eq!(crashes, entries.len() / 9);
    assert_read_models_equal(&store, &folded(&entries), "after restarts").await;
}

pub async fn two_projectors_never_apply_a_batch_twice(db: &TestDatabase) {
    let store = db.open().await;
    let entries = history(5, 200, 3);
    append_all(&store, &entries).await;
    let mut first = Projector::new(store.clone(), 10);
    // Both start from checkpoint 0.
    let mut late = Projector::new(store.clone(), 10);
    assert_eq!(late.position().await.unwrap(), 0);
    let page = store.read_all(0, 10).await.unwrap();
    assert_eq!(
        first.apply(&page).await.unwrap(),
        BatchOutcome::Committed(10)
    );
    // The late one would apply the same events again: refused, and it moves on from 10.
    assert_eq!(late.apply(&page).await.unwrap(), BatchOutcome::Moved(10));
    late.catch_up().await.unwrap();
    first.catch_up().await.unwrap();
    assert_read_models_equal(&store, &folded(&entries), "two projectors").await;
}

pub async fn the_projector_follows_the_log_live(db: &TestDatabase) {
    let store = db.open().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(Projector::new(store.clone(), 100).run(async {
        let _ = stopped.await;
    }));
    let entries = history(3, 80, 2);
    append_all(&store, &entries).await;
    let expected = folded(&entries);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while store.checkpoint(CHECKPOINT).await.unwrap() != Some(entries.len() as u64) {
        assert!(tokio::time::Instant::now() < deadline, "projector too slow");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_read_models_equal(&store, &expected, "live").await;
    stop.send(()).unwrap();
    running.await.unwrap();
}

pub async fn an_old_event_shape_is_read_in_the_current_shape(db: &TestDatabase) {
    let store = db.open().await;
    let beneficiary = Uuid::from_u128(0xB1);
    let stream = StreamId::new(stream_of(beneficiary)).unwrap();
    // A registration as version 1 stored it: a birth year and one form of exploitation.
    let v1 = serde_json::json!({
        "beneficiary_id": beneficiary,
        "organisation": Uuid::from_u128(0x0A),
        "caseworker": Uuid::from_u128(0xC1),
        "case_code": "AL-2009-014",
        "gender": "Female",
        "birth_year": 1991,
        "citizenship": "AL",
        "country_of_assistance": "AL",
        "identified_on": "2009-03-02",
        "identification_route": "law_enforcement",
        "form_of_exploitation": "SexualExploitation",
        "role": { "kind": "primary" }
    });
    let event = NewEvent::new(
        Uuid::from_u128(1),
        "BeneficiaryRegistered",
        1,
        chrono::NaiveDate::from_ymd_opt(2009, 3, 2).unwrap(),
        EventContext {
            actor: Uuid::from_u128(0xC1),
            organisation: Uuid::from_u128(0x0A),
            correlation_id: Uuid::from_u128(9),
        },
        &v1,
    )
    .unwrap();
    store
        .append(&stream, ExpectedVersion::NoStream, vec![event])
        .await
        .unwrap();

    let stored = store.read_stream(&stream, 1, 10).await.unwrap();
    assert_eq!(
        stored[0].schema_version, 1,
        "the stored event is never rewritten"
    );
    let read = roadback_store::records::envelope(&stored[0])
        .unwrap()
        .unwrap();
    let Event::BeneficiaryRegistered(r) = &read.event else {
        panic!("{:?}", read.event)
    };
    assert_eq!(r.birth.map(|b| (b.year, b.month)), Some((1991, None)));
    assert_eq!(
        r.forms_of_exploitation,
        [roadback_domain::vocabulary::FormOfExploitation::SexualExploitation]
    );
    assert_eq!(r.role, BeneficiaryRole::Primary);
    Projector::new(store.clone(), 10).catch_up().await.unwrap();
    assert_eq!(
        store.plan(beneficiary).await.unwrap().unwrap().case_code,
        "AL-2009-014"
    );
}

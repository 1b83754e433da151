//! Replay: the read models rebuilt from a log of realistic beneficiary histories, and the as-of
//! views of one long stream.
//!
//! Histories come from the domain's random valid histories (every event passed the decisions),
//! 64 templates copied onto as many beneficiaries as the event count needs, with fresh ids.

use std::sync::Arc;
use std::time::Instant;

use chrono::Duration;
use roadback_domain::Event;
use roadback_domain::projection::{AsOf, Envelope, History, stream_of};
use roadback_domain::testing::{play, seeded_steps};
use roadback_store::projector;
use roadback_store::records::{envelope, new_event};
use roadback_store::{EventContext, EventStore, ExpectedVersion, NewEvent, StreamId};
use uuid::Uuid;

use crate::workload::{CLIENTS, spread};

/// The id of the `n`-th loaded beneficiary.
pub fn beneficiary(n: u64) -> Uuid {
    Uuid::from_u128(0xBE00_0000_0000_0000_0000_0000_0000_0000 | u128::from(n))
}

/// The organisations beneficiaries are spread over when none are given.
const DEFAULT_ORGANISATIONS: [Uuid; 15] = {
    let mut ids = [Uuid::nil(); 15];
    let mut i = 0;
    while i < 15 {
        ids[i] = Uuid::from_u128(0x0A + i as u128);
        i += 1;
    }
    ids
};

/// One beneficiary's history as events to append, re-identified as beneficiary `n` of
/// organisation `organisations[n % len]`.
fn events_of(
    template: &[Envelope],
    n: u64,
    organisations: &[Uuid],
) -> anyhow::Result<(StreamId, Vec<NewEvent>)> {
    let beneficiary = beneficiary(n);
    let organisation = organisations[n as usize % organisations.len()];
    let events = template
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let mut event = e.event.clone();
            let mut id = Uuid::from_u128((u128::from(n) << 32) | k as u128).into_bytes();
            id[6] = (id[6] & 0x0F) | 0x40; // a valid version-4 layout
            let id = Uuid::from_bytes(id);
            if let Event::BeneficiaryRegistered(r) = &mut event {
                r.beneficiary_id = beneficiary;
                r.organisation = organisation;
            }
            let context = EventContext {
                actor: e.actor,
                organisation,
                correlation_id: id,
            };
            new_event(id, &event, e.occurred_on, context).map_err(anyhow::Error::from)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((StreamId::new(stream_of(beneficiary))?, events))
}

/// Loads at least `target` events: whole histories, one append each, by [`CLIENTS`] clients.
pub async fn load(store: &EventStore, target: u64) -> anyhow::Result<u64> {
    load_into(store, target, &DEFAULT_ORGANISATIONS)
        .await
        .map(|(events, _)| events)
}

/// Like [`load`], spreading beneficiaries over these organisations; returns the events and the
/// number of beneficiaries.
pub async fn load_into(
    store: &EventStore,
    target: u64,
    organisations: &[Uuid],
) -> anyhow::Result<(u64, u64)> {
    let organisations: Arc<Vec<Uuid>> = Arc::new(organisations.to_vec());
    let templates: Arc<Vec<Vec<Envelope>>> = Arc::new(
        (0..64)
            .map(|seed| play(&seeded_steps(seed, 150, 1, 20), 1))
            .filter(|h| !h.is_empty())
            .collect(),
    );
    let average = templates.iter().map(Vec::len).sum::<usize>() / templates.len();
    let beneficiaries = target.div_ceil(average as u64);
    let store = store.clone();
    let t = templates.clone();
    spread(beneficiaries, CLIENTS, move |n| {
        let store = store.clone();
        let templates = t.clone();
        let organisations = organisations.clone();
        async move {
            let (stream, events) =
                events_of(&templates[n as usize % templates.len()], n, &organisations)?;
            store
                .append(&stream, ExpectedVersion::NoStream, events)
                .await?;
            Ok(())
        }
    })
    .await?;
    let events = (0..beneficiaries)
        .map(|n| templates[n as usize % templates.len()].len() as u64)
        .sum();
    Ok((events, beneficiaries))
}

/// Rebuilds the read models; returns the events folded.
pub async fn rebuild(store: &EventStore) -> anyhow::Result<u64> {
    Ok(projector::rebuild(store, |_, _| {}).await?.events)
}

/// Appends one stream of `len` events, then computes its plan, timeline and outcome as of
/// moments in valid and recorded time `iterations` times, each from the store (read, decode,
/// fold). Returns the milliseconds of each iteration, sorted.
pub async fn as_of(store: &EventStore, len: usize, iterations: usize) -> anyhow::Result<Vec<f64>> {
    let mut history = play(&seeded_steps(1, len * 4, 1, 3), 1);
    anyhow::ensure!(history.len() >= len, "the template history is too short");
    history.truncate(len);
    let (stream, events) = events_of(&history, 1, &DEFAULT_ORGANISATIONS)?;
    let mut version = 0;
    for chunk in events.chunks(100) {
        let expected = if version == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(version)
        };
        version = store
            .append(&stream, expected, chunk.to_vec())
            .await?
            .stream_version;
    }
    let middle = history[len / 2].occurred_on;
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        let stored = store.read_stream(&stream, 1, len + 1).await?;
        let entries = stored
            .iter()
            .filter_map(|e| envelope(e).transpose())
            .collect::<Result<Vec<_>, _>>()?;
        anyhow::ensure!(entries.len() == len, "read {} events", entries.len());
        let recorded_middle = entries[len / 2].recorded_at;
        let history = History::new(entries);
        let plan = history.plan(AsOf::ValidTime(middle));
        let timeline = history.timeline(AsOf::RecordedTime(recorded_middle));
        let outcome = history.outcome(AsOf::ValidTime(middle + Duration::days(30)), middle);
        std::hint::black_box((plan, timeline, outcome));
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

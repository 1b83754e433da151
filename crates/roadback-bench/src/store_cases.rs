//! The cases run through `roadback-store`.

use futures_util::TryStreamExt;
use roadback_store::{EventStore, ExpectedVersion, StreamId};

use crate::workload::{BATCH, CLIENTS, new_event, spread};

/// `total` events in appends of `per_append` events to fresh streams, by `clients` concurrent clients.
pub async fn append(
    store: &EventStore,
    total: u64,
    per_append: usize,
    clients: usize,
) -> anyhow::Result<()> {
    let store = store.clone();
    spread(total / per_append as u64, clients, move |n| {
        let store = store.clone();
        async move {
            let stream = StreamId::new(format!("beneficiary-{n}"))?;
            let first = n * per_append as u64;
            let events = (first..first + per_append as u64).map(new_event).collect();
            store
                .append(&stream, ExpectedVersion::NoStream, events)
                .await?;
            Ok(())
        }
    })
    .await
}

/// Batches of [`BATCH`] events by [`CLIENTS`] clients.
pub async fn batch_append(store: &EventStore, total: u64) -> anyhow::Result<()> {
    append(store, total, BATCH, CLIENTS).await
}

/// `total` single-event commands on one stream, each with its exact expected version.
pub async fn one_stream(store: &EventStore, total: u64) -> anyhow::Result<()> {
    let stream = StreamId::new("beneficiary-single")?;
    for i in 0..total {
        let expected = if i == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(i)
        };
        store.append(&stream, expected, vec![new_event(i)]).await?;
    }
    Ok(())
}

/// Reads the whole log as one stream (`read_log`), in position order; returns the number of events.
pub async fn read_all(store: &EventStore) -> anyhow::Result<u64> {
    Ok(store
        .read_log(0)
        .try_fold(0, |n, _| async move { Ok(n + 1) })
        .await?)
}

//! Domain events in and out of the store: a decided [`Event`] becomes a [`NewEvent`] to append;
//! a [`RecordedEvent`] of a beneficiary's stream becomes the domain's [`Envelope`], older shapes
//! upcast on the way.

use chrono::NaiveDate;
use roadback_domain::projection::{Envelope, beneficiary_of, stream_of};
use roadback_domain::{Case, Event};
use uuid::Uuid;

use crate::EventStore;
use crate::error::StoreError;
use crate::event::{EventContext, NewEvent, RecordedEvent, StreamId};

/// The stream of a beneficiary.
pub fn beneficiary_stream(beneficiary: Uuid) -> Result<StreamId, StoreError> {
    StreamId::new(stream_of(beneficiary))
}

/// A decided event, ready to append with its id, day and context.
pub fn new_event(
    id: Uuid,
    event: &Event,
    occurred_on: NaiveDate,
    context: EventContext,
) -> Result<NewEvent, StoreError> {
    NewEvent::new(
        id,
        event.type_name(),
        event.schema_version(),
        occurred_on,
        context,
        &event.payload(),
    )
}

/// Turns a stored event of a beneficiary's stream into the domain's envelope (upcasting older
/// shapes); `None` for events of other streams.
pub fn envelope(event: &RecordedEvent) -> Result<Option<Envelope>, StoreError> {
    let Some(beneficiary) = beneficiary_of(&event.stream_id) else {
        return Ok(None);
    };
    let decoded = Event::decode(&event.event_type, event.schema_version, event.payload.get())
        .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", event.id)))?;
    Ok(Some(Envelope {
        id: event.id,
        beneficiary,
        version: event.version,
        position: event.position,
        occurred_on: event.occurred_on,
        recorded_at: event.recorded_at,
        actor: event.context.actor,
        event: decoded,
    }))
}

/// Reads one beneficiary's stream up to `version` and folds it.
pub async fn load_case(
    store: &EventStore,
    beneficiary: Uuid,
    version: u64,
) -> Result<Case, StoreError> {
    let stream = beneficiary_stream(beneficiary)?;
    let mut case = Case::default();
    let mut next = 1;
    while next <= version {
        let page = store
            .read_stream(&stream, next, (version + 1 - next).min(10_000) as usize)
            .await?;
        let Some(last) = page.last() else { break };
        next = last.version + 1;
        for event in &page {
            if let Some(e) = envelope(event)? {
                case.apply(e.id, e.occurred_on, &e.event);
            }
        }
    }
    Ok(case)
}

/// Every beneficiary's history, read stream by stream up to the log's head (a page of
/// `page` events at a time); `progress` hears the events read so far and the head.
pub async fn histories(
    store: &EventStore,
    page: usize,
    mut progress: impl FnMut(u64, u64),
) -> Result<Vec<roadback_domain::History>, StoreError> {
    let head = store.head().await?;
    let mut read = 0u64;
    let mut out = Vec::new();
    let mut stream: Vec<Envelope> = Vec::new();
    let mut after = (String::new(), 0u64);
    loop {
        let events = store
            .read_streams(
                roadback_domain::projection::STREAM_PREFIX,
                (&after.0, after.1),
                head,
                page,
            )
            .await?;
        let Some(last) = events.last() else { break };
        after = (last.stream_id.as_str().to_string(), last.version);
        read += events.len() as u64;
        progress(read, head);
        by_stream(&events, &mut stream, |whole| {
            out.push(roadback_domain::History::new(std::mem::take(whole)));
        })?;
    }
    if !stream.is_empty() {
        out.push(roadback_domain::History::new(stream));
    }
    Ok(out)
}

/// Adds the envelopes of `page` (events in stream and version order) to `stream`, the events
/// of one beneficiary so far, and hands it to `whole` each time the page moves on to the next
/// beneficiary (`whole` leaves it empty). Returns how many envelopes it added.
pub(crate) fn by_stream(
    page: &[RecordedEvent],
    stream: &mut Vec<Envelope>,
    mut whole: impl FnMut(&mut Vec<Envelope>),
) -> Result<u64, StoreError> {
    let mut added = 0;
    for event in page {
        let Some(e) = envelope(event)? else { continue };
        if stream
            .first()
            .is_some_and(|s| s.beneficiary != e.beneficiary)
        {
            whole(stream);
        }
        stream.push(e);
        added += 1;
    }
    Ok(added)
}

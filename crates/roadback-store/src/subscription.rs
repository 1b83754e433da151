//! Subscriptions: catch up from a position, then follow the log live, each event once, in order.
//!
//! Because positions become visible in commit order, "everything after the last position seen"
//! is always the right next read: no event can appear later behind it. Readers wake on the
//! store's head watch (the in-process writer and, on PostgreSQL, LISTEN/NOTIFY feed it) and also
//! poll, so a lost notification delays an event by at most the poll interval.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{BoxStream, Stream, StreamExt, unfold};
use tokio::sync::watch;

use crate::error::StoreError;
use crate::event::RecordedEvent;
use crate::{DEFAULT_PAGE, EventStore};

/// How often a caught-up subscriber looks for events it was not told about.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Pause after a failed read before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A live, ordered stream of every event after a starting position.
///
/// A read failure is yielded as an error item; the subscription then keeps going from where it was.
pub struct Subscription {
    events: BoxStream<'static, Result<RecordedEvent, StoreError>>,
}

struct State {
    store: EventStore,
    after: u64,
    buffer: VecDeque<RecordedEvent>,
    head: watch::Receiver<u64>,
    failed: bool,
    /// The last read came back short of a page: it reached the head as it then stood, so the
    /// next read waits until the head moves (or the poll interval passes) instead of asking at
    /// once for what was not there a moment ago.
    caught_up: bool,
}

impl Subscription {
    pub(crate) fn new(store: EventStore, after: u64, head: watch::Receiver<u64>) -> Self {
        let state = State {
            store,
            after,
            buffer: VecDeque::new(),
            head,
            failed: false,
            caught_up: false,
        };
        Self {
            events: unfold(state, next).boxed(),
        }
    }
}

async fn next(mut state: State) -> Option<(Result<RecordedEvent, StoreError>, State)> {
    loop {
        if let Some(event) = state.buffer.pop_front() {
            state.after = event.position;
            return Some((Ok(event), state));
        }
        if state.failed {
            tokio::time::sleep(RETRY_AFTER).await;
            state.failed = false;
        }
        if state.caught_up {
            state.caught_up = false;
            let after = state.after;
            tokio::select! {
                woken = async { state.head.wait_for(|head| *head > after).await.map(|_| ()) } => {
                    if woken.is_err() {
                        tokio::time::sleep(POLL_INTERVAL).await;
                    }
                }
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
        match state.store.read_all(state.after, DEFAULT_PAGE).await {
            Ok(events) => {
                state.caught_up = events.len() < DEFAULT_PAGE;
                state.buffer = events.into();
            }
            Err(error) => {
                state.failed = true;
                return Some((Err(error), state));
            }
        }
    }
}

impl Stream for Subscription {
    type Item = Result<RecordedEvent, StoreError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.events.poll_next_unpin(cx)
    }
}

//! The store's one error type; each variant has a stable code and a sentence a person can read.

use std::sync::Arc;

use uuid::Uuid;

use crate::event::ExpectedVersion;

/// Everything that can go wrong in the event store.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    /// The stream moved on since the caller read it.
    #[error(
        "the record {stream} was changed by someone else: it is at version {actual}, but this change expected {expected}; reload and try again"
    )]
    Conflict {
        /// The stream that was appended to.
        stream: String,
        /// What the caller expected.
        expected: ExpectedVersion,
        /// The stream's actual version (0 when it does not exist).
        actual: u64,
    },
    /// An append without events.
    #[error("nothing to save: a change must contain at least one event")]
    EmptyAppend,
    /// More events in one append than the configured limit.
    #[error("a change may contain at most {limit} events; this one has {count}")]
    TooManyEvents {
        /// Events sent.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A stream id that does not follow the format.
    #[error(
        "{stream:?} is not a valid record id: use 1 to 128 letters, digits, '-', '_', '.' or ':', starting with a letter"
    )]
    InvalidStreamId {
        /// The rejected id.
        stream: String,
    },
    /// An event type name that does not follow the format.
    #[error(
        "{event_type:?} is not a valid event type: use 1 to 100 letters, digits, '_' or '.', starting with a letter"
    )]
    InvalidEventType {
        /// The rejected name.
        event_type: String,
    },
    /// A payload that could not be serialised.
    #[error("event {event_id} could not be saved: its content is not valid JSON ({reason})")]
    InvalidPayload {
        /// The event.
        event_id: Uuid,
        /// What the serialiser said.
        reason: String,
    },
    /// A payload over the size limit.
    #[error("event {event_id} is too large: {size} bytes, the limit is {limit} bytes")]
    PayloadTooLarge {
        /// The event.
        event_id: Uuid,
        /// Its payload size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The same event id twice in one append.
    #[error("event id {event_id} appears twice in the same change")]
    DuplicateEventId {
        /// The repeated id.
        event_id: Uuid,
    },
    /// An event id that is already stored with different content (a reused id, not a retry).
    #[error(
        "event id {event_id} was already used for a different change; a retry must send exactly the same change"
    )]
    IdempotencyMismatch {
        /// The reused id.
        event_id: Uuid,
    },
    /// A name or address that must be unique is taken.
    #[error("{what} already exists")]
    AlreadyExists {
        /// What, in words ("a user with the e-mail address ...").
        what: String,
    },
    /// The person's personal data was erased; nothing personal is stored for them again.
    #[error("this person's personal data was erased; nothing personal can be recorded again")]
    Erased {
        /// The beneficiary.
        beneficiary: Uuid,
    },
    /// The database could not be reached or failed.
    #[error("the event store is not available right now; please try again")]
    Unavailable(#[source] Arc<sqlx::Error>),
    /// Applying the schema migrations failed.
    #[error("the database schema could not be brought up to date: {0}")]
    Migration(#[source] Arc<sqlx::migrate::MigrateError>),
    /// A stored row could not be read back (the database holds something this version cannot read).
    #[error("a stored event could not be read: {0}")]
    Corrupt(String),
    /// The store was shut down.
    #[error("the event store is shutting down")]
    Closed,
}

impl StoreError {
    /// A stable, machine-readable code for this kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Conflict { .. } => "CONFLICT",
            Self::EmptyAppend
            | Self::TooManyEvents { .. }
            | Self::InvalidStreamId { .. }
            | Self::InvalidEventType { .. }
            | Self::InvalidPayload { .. }
            | Self::PayloadTooLarge { .. }
            | Self::DuplicateEventId { .. }
            | Self::IdempotencyMismatch { .. }
            | Self::AlreadyExists { .. }
            | Self::Erased { .. } => "VALIDATION",
            Self::Unavailable(_) | Self::Closed => "UNAVAILABLE",
            Self::Migration(_) | Self::Corrupt(_) => "INTERNAL",
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Unavailable(Arc::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Migration(Arc::new(e))
    }
}

//! The event envelope: what a caller appends and what a reader gets back.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::error::StoreError;

/// A stream's identity: `<category>-<id>`, e.g. `beneficiary-0193a7c2-...`.
///
/// 1 to 128 ASCII characters; letters, digits, `-`, `_`, `.` and `:`; it starts with a letter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(String);

/// Longest accepted stream id, in bytes.
pub const MAX_STREAM_ID_LEN: usize = 128;

impl StreamId {
    /// Checks the format and wraps the id.
    pub fn new(id: impl Into<String>) -> Result<Self, StoreError> {
        let id = id.into();
        let valid = !id.is_empty()
            && id.len() <= MAX_STREAM_ID_LEN
            && id.starts_with(|c: char| c.is_ascii_alphabetic())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
        if valid {
            Ok(Self(id))
        } else {
            Err(StoreError::InvalidStreamId { stream: id })
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the first `-`: the kind of thing the stream is about.
    pub fn category(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for StreamId {
    type Error = StoreError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

/// What the caller believes the stream's version to be; checked atomically with the append.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the stream holds.
    Any,
    /// The stream must not exist yet (it holds no events).
    NoStream,
    /// The stream's last event must have exactly this version (versions start at 1).
    Exact(u64),
}

impl ExpectedVersion {
    /// True when a stream at `actual` (0 = no stream) satisfies the expectation.
    pub fn admits(self, actual: u64) -> bool {
        match self {
            Self::Any => true,
            Self::NoStream => actual == 0,
            Self::Exact(v) => actual == v,
        }
    }

    /// The wire form used by the backends: -1 for any, otherwise the exact version (0 = no stream).
    pub(crate) fn as_db(self) -> i64 {
        match self {
            Self::Any => -1,
            Self::NoStream => 0,
            Self::Exact(v) => v as i64,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any version"),
            Self::NoStream => f.write_str("no stream"),
            Self::Exact(v) => write!(f, "version {v}"),
        }
    }
}

/// The metadata every event of one command shares: who acted, for which organisation, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventContext {
    /// The user (or system account) that issued the command.
    pub actor: Uuid,
    /// The organisation on whose behalf the actor works.
    pub organisation: Uuid,
    /// Ties together the events caused by one request or workflow.
    pub correlation_id: Uuid,
}

/// An event to append. Its id is chosen by the caller so that a retried command is recognised.
#[derive(Clone, Debug)]
pub struct NewEvent {
    /// Unique id, chosen by the caller (a retry sends the same id).
    pub id: Uuid,
    /// The event's type name, e.g. `ConsentGiven`.
    pub event_type: String,
    /// The version of the payload's shape for this type.
    pub schema_version: u32,
    /// Valid time: the day the fact happened (may be long before it was recorded).
    pub occurred_on: NaiveDate,
    /// Who, for whom, and why.
    pub context: EventContext,
    /// The payload, already serialised as JSON.
    pub payload: Box<RawValue>,
}

impl NewEvent {
    /// Builds an event, serialising `payload` to JSON once.
    pub fn new<T: Serialize + ?Sized>(
        id: Uuid,
        event_type: impl Into<String>,
        schema_version: u32,
        occurred_on: NaiveDate,
        context: EventContext,
        payload: &T,
    ) -> Result<Self, StoreError> {
        let payload =
            serde_json::value::to_raw_value(payload).map_err(|e| StoreError::InvalidPayload {
                event_id: id,
                reason: e.to_string(),
            })?;
        Ok(Self {
            id,
            event_type: event_type.into(),
            schema_version,
            occurred_on,
            context,
            payload,
        })
    }
}

/// An event as stored: the caller's event plus where and when the store put it.
#[derive(Clone, Debug)]
pub struct RecordedEvent {
    /// The caller-chosen unique id.
    pub id: Uuid,
    /// The stream it belongs to.
    pub stream_id: String,
    /// Its version in the stream, from 1 without holes.
    pub version: u64,
    /// Its place in the global order, strictly increasing in commit order.
    pub position: u64,
    /// The event's type name.
    pub event_type: String,
    /// The version of the payload's shape.
    pub schema_version: u32,
    /// Valid time: the day the fact happened.
    pub occurred_on: NaiveDate,
    /// Recorded time: the server clock when it was stored; never decreases along the position.
    pub recorded_at: DateTime<Utc>,
    /// Who, for whom, and why.
    pub context: EventContext,
    /// The payload as stored.
    pub payload: Box<RawValue>,
}

/// A payload as a backend stores it (JSON text), checked on the way out.
pub(crate) fn stored_payload(text: String) -> Result<Box<RawValue>, StoreError> {
    RawValue::from_string(text)
        .map_err(|e| StoreError::Corrupt(format!("payload is not JSON: {e}")))
}

impl RecordedEvent {
    /// Deserialises the payload into a typed value.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.payload.get())
    }

    /// True when `new` carries the same content as this stored event (a retry, not a reuse of the id).
    pub fn same_content_as(&self, stream: &StreamId, new: &NewEvent) -> bool {
        let payload_equal = match (
            serde_json::from_str::<serde_json::Value>(self.payload.get()),
            serde_json::from_str::<serde_json::Value>(new.payload.get()),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        self.id == new.id
            && self.stream_id == stream.as_str()
            && self.event_type == new.event_type
            && self.schema_version == new.schema_version
            && self.occurred_on == new.occurred_on
            && self.context == new.context
            && payload_equal
    }
}

/// What a successful append did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendResult {
    /// The stream's version after the append (the version of its last event).
    pub stream_version: u64,
    /// Global position of the first appended event.
    pub first_position: u64,
    /// Global position of the last appended event.
    pub last_position: u64,
    /// When the store recorded the events.
    pub recorded_at: DateTime<Utc>,
}

impl AppendResult {
    /// The appended `events` of `stream` as reading them back would give them: versions and
    /// positions in order up to the result's last, its recorded time.
    pub(crate) fn recorded(&self, stream: &StreamId, events: Vec<NewEvent>) -> Vec<RecordedEvent> {
        let first_version = self.stream_version + 1 - events.len() as u64;
        (0..)
            .zip(events)
            .map(|(i, e)| RecordedEvent {
                position: self.first_position + i,
                id: e.id,
                stream_id: stream.as_str().to_string(),
                version: first_version + i,
                event_type: e.event_type,
                schema_version: e.schema_version,
                occurred_on: e.occurred_on,
                recorded_at: self.recorded_at,
                context: e.context,
                payload: e.payload,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_are_checked() {
        assert!(StreamId::new("beneficiary-0193a7c2-aaaa").is_ok());
        assert_eq!(
            StreamId::new("beneficiary-1").unwrap().category(),
            "beneficiary"
        );
        for bad in ["", "1abc", "-x", "has space", "ümlaut", &"a".repeat(129)] {
            assert!(
                matches!(StreamId::new(bad), Err(StoreError::InvalidStreamId { .. })),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn expected_version_admits() {
        assert!(ExpectedVersion::Any.admits(0));
        assert!(ExpectedVersion::Any.admits(7));
        assert!(ExpectedVersion::NoStream.admits(0));
        assert!(!ExpectedVersion::NoStream.admits(1));
        assert!(ExpectedVersion::Exact(3).admits(3));
        assert!(!ExpectedVersion::Exact(3).admits(2));
    }
}

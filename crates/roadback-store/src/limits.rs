//! Limits on what one append may carry, checked before anything reaches the database.

use std::collections::HashSet;

use crate::error::StoreError;
use crate::event::NewEvent;

/// Longest accepted event type name.
pub const MAX_EVENT_TYPE_LEN: usize = 100;

/// Configurable limits of the store.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest payload of one event, in bytes of JSON.
    pub max_payload_bytes: usize,
    /// Most events in one append.
    pub max_events_per_append: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_payload_bytes: 64 * 1024,
            max_events_per_append: 10_000,
        }
    }
}

impl Limits {
    /// Checks an append's events against the limits and the formats.
    pub fn check(&self, events: &[NewEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Err(StoreError::EmptyAppend);
        }
        if events.len() > self.max_events_per_append {
            return Err(StoreError::TooManyEvents {
                count: events.len(),
                limit: self.max_events_per_append,
            });
        }
        let mut ids = HashSet::with_capacity(events.len());
        for event in events {
            if !valid_event_type(&event.event_type) {
                return Err(StoreError::InvalidEventType {
                    event_type: event.event_type.clone(),
                });
            }
            let size = event.payload.get().len();
            if size > self.max_payload_bytes {
                return Err(StoreError::PayloadTooLarge {
                    event_id: event.id,
                    size,
                    limit: self.max_payload_bytes,
                });
            }
            if holds_nul(event.payload.get()) {
                // PostgreSQL's jsonb refuses it, and a refusal inside a group commit would fail
                // the other commands of the batch: refused here, for both backends alike.
                return Err(StoreError::InvalidPayload {
                    event_id: event.id,
                    reason: "text may not contain the NUL character".into(),
                });
            }
            if !ids.insert(event.id) {
                return Err(StoreError::DuplicateEventId { event_id: event.id });
            }
        }
        Ok(())
    }
}

/// True when JSON text holds an escaped NUL (`\u0000` not itself escaped).
fn holds_nul(json: &str) -> bool {
    json.match_indices("u0000").any(|(at, _)| {
        let slashes = json[..at].bytes().rev().take_while(|b| *b == b'\\').count();
        slashes % 2 == 1
    })
}

fn valid_event_type(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_EVENT_TYPE_LEN
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_found_escaped_or_not() {
        let json = |text: &str| serde_json::json!({ "text": text }).to_string();
        assert!(holds_nul(&json("a\u{0}b")));
        assert!(!holds_nul(&json("a\\u0000b")), "a backslash, then u0000");
        assert!(!holds_nul(&json("u0000")));
    }

    #[test]
    fn event_type_names() {
        assert!(valid_event_type("ConsentGiven"));
        assert!(valid_event_type("test.Noted_2"));
        for bad in ["", "2Fast", "with space", "a-b", &"A".repeat(101)] {
            assert!(!valid_event_type(bad), "{bad:?}");
        }
    }
}

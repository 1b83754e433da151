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
    /// The database could not be reached, or is busy: trying again shortly may work.
    #[error("the event store is not available right now; please try again")]
    Unavailable(#[source] Arc<sqlx::Error>),
    /// The database refused an operation for a reason trying again will not mend (a damaged
    /// file, a missing table, a malformed address): the cause and its code are in the log.
    #[error("the database failed: {0}")]
    Database(#[source] Arc<sqlx::Error>),
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
            Self::Migration(_) | Self::Corrupt(_) | Self::Database(_) => "INTERNAL",
        }
    }

    /// The database's own account of a failure, for the log: its message and, when it gave
    /// one, its error code (SQLSTATE on PostgreSQL, the result code on SQLite).
    pub fn cause(&self) -> Option<String> {
        let error = match self {
            Self::Unavailable(e) | Self::Database(e) => e,
            _ => return None,
        };
        Some(match error.as_database_error() {
            Some(db) => match db.code() {
                Some(code) => format!("{} (code {code})", db.message()),
                None => db.message().to_string(),
            },
            None => error.to_string(),
        })
    }
}

/// True for a database error that may pass: the server is starting, stopping or out of
/// connections, a transaction lost a race, the file is busy.
fn transient(db: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = db.code() else {
        return false;
    };
    if code.len() == 5 {
        // PostgreSQL's SQLSTATE: connection exceptions (08), a connection refused for its
        // credentials (28) or its database (3D, dropped or not yet made), insufficient
        // resources (53), operator intervention (57: shutting down, cannot connect now),
        // serialization failure and deadlock (40001, 40P01). Each means the store cannot be
        // reached now; the cause is logged.
        ["08", "28", "3D", "53", "57"]
            .iter()
            .any(|class| code.starts_with(class))
            || code == "40001"
            || code == "40P01"
    } else {
        // SQLite's result code, the primary code in its low byte: BUSY, LOCKED, IOERR, FULL,
        // CANTOPEN.
        code.parse::<u32>()
            .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 10 | 13 | 14))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let passes = match &e {
            sqlx::Error::Database(db) => transient(db.as_ref()),
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            _ => false,
        };
        if passes {
            Self::Unavailable(Arc::new(e))
        } else {
            Self::Database(Arc::new(e))
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    /// The bulk reader's failures, told apart as sqlx's are: a busy, locked or unreadable file
    /// may pass; anything else is the database's failure.
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::*;
        let passes = matches!(
            e.sqlite_error_code(),
            Some(DatabaseBusy | DatabaseLocked | SystemIoFailure | DiskFull | CannotOpen)
        );
        if passes {
            Self::Unavailable(Arc::new(sqlx::Error::Io(std::io::Error::other(e))))
        } else {
            Self::Database(Arc::new(sqlx::Error::AnyDriverError(Box::new(e))))
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Migration(Arc::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database's error with a code, as sqlx gives it.
    #[derive(Debug)]
    struct Refused(&'static str);

    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "refused with {}", self.0)
        }
    }

    impl std::error::Error for Refused {}

    impl sqlx::error::DatabaseError for Refused {
        fn message(&self) -> &str {
            "refused"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn code_of(code: &'static str) -> &'static str {
        StoreError::from(sqlx::Error::Database(Box::new(Refused(code)))).code()
    }

    #[test]
    fn outages_are_unavailable_and_failures_that_stay_are_internal_with_their_cause() {
        // PostgreSQL: gone, shutting down, out of connections, a lost race: try again.
        for code in [
            "08006", "57P01", "57P03", "53300", "40001", "40P01", "3D000", "28P01",
        ] {
            assert_eq!(code_of(code), "UNAVAILABLE", "{code}");
        }
        // SQLite: busy, locked (extended codes too), disk full, cannot open.
        for code in ["5", "517", "6", "13", "14", "10", "266"] {
            assert_eq!(code_of(code), "UNAVAILABLE", "{code}");
        }
        // A missing table, a syntax error, a damaged SQLite page or a file that is not a
        // database: trying again will not mend them.
        for code in ["42P01", "42601", "11", "26", "1"] {
            assert_eq!(code_of(code), "INTERNAL", "{code}");
        }
        assert_eq!(
            StoreError::from(sqlx::Error::Configuration("bad".into())).code(),
            "INTERNAL"
        );
        assert_eq!(
            StoreError::from(sqlx::Error::PoolTimedOut).code(),
            "UNAVAILABLE"
        );
        let damaged = StoreError::from(sqlx::Error::Database(Box::new(Refused("11"))));
        assert_eq!(damaged.cause().as_deref(), Some("refused (code 11)"));
    }
}

//! The reintegration domain: the event catalogue, the rules that decide what may be recorded,
//! and the projections read from the events. Pure Rust: no I/O, no async, no clock (the caller
//! passes "today").

pub mod access;
pub mod case;
pub mod command;
pub mod decide;
pub mod evaluation;
pub mod events;
pub mod indicators;
pub mod personal;
pub mod projection;
pub mod rules;
pub mod status;
pub mod survival;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod upcast;
pub mod vocabulary;

pub use case::Case;
pub use command::{Command, Request};
pub use decide::{Contradiction, Directory, Rejection, RejectionCode, decide};
pub use events::{DecodeError, Event};
pub use projection::{AsOf, CutOff, Envelope, History, Plan, Projections, Timeline};
pub use status::Status;

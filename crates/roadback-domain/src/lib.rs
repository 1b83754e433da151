//! The reintegration domain: the event catalogue, the rules that decide what may be recorded,
//! and the projections read from the events. Pure Rust: no I/O, no async, no clock (the caller
//! passes "today").

pub mod case;
pub mod decide;
pub mod events;
pub mod indicators;
pub mod status;
pub mod upcast;
pub mod vocabulary;

pub use case::Case;
pub use decide::{Directory, Rejection, RejectionCode, Request, decide};
pub use events::{DecodeError, Event};
pub use status::Status;

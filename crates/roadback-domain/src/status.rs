//! The reintegration status of a beneficiary and the transitions between statuses.
//!
//! | from \ to        | crisis care | transition | reintegrating | reintegrated | dropped out | lost contact | re-trafficked | moved abroad | deceased |
//! |------------------|:-----------:|:----------:|:-------------:|:------------:|:-----------:|:------------:|:-------------:|:------------:|:--------:|
//! | identified       | ✓ | ✓ | ✓ |   | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | in crisis care   |   | ✓ | ✓ |   | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | in transition    | ✓ |   | ✓ |   | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | reintegrating    | ✓ | ✓ |   | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | reintegrated     |   |   | ✓ |   |   | ✓ | ✓ | ✓ | ✓ |
//! | dropped out      | ✓ | ✓ | ✓ |   |   | ✓ |   |   | ✓ |
//! | lost contact     | ✓ | ✓ | ✓ | ✓ |   |   | ✓ | ✓ | ✓ |
//! | re-trafficked    | ✓ | ✓ |   |   |   | ✓ |   |   | ✓ |
//! | moved abroad     |   | ✓ | ✓ |   |   | ✓ | ✓ |   | ✓ |
//! | deceased         |   |   |   |   |   |   |   |   |   |
//!
//! Nobody moves back to "identified"; "reintegrated" is reached only from "reintegrating" (or found
//! so after lost contact); a setback after reintegration goes back to "reintegrating"; "deceased"
//! is final. A change to the same status is not a change.

use serde::{Deserialize, Serialize};

/// Where a beneficiary stands in their reintegration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Identified as a trafficked person; assistance not yet started.
    Identified,
    /// Receiving immediate protection and care (shelter, medical, crisis counselling).
    InCrisisCare,
    /// Leaving crisis care: stabilising, preparing to live independently or with family.
    InTransition,
    /// Living in the community with services towards the plan's goals.
    Reintegrating,
    /// Reintegration achieved: safe, stable, with a reasonable standard of living and support.
    Reintegrated,
    /// Left the program by their own decision.
    DroppedOut,
    /// No contact for the program's defined period; not a failure, a censoring event.
    LostContact,
    /// Trafficked again.
    ReTrafficked,
    /// Moved to another country, outside the program's reach.
    MovedAbroad,
    /// Died.
    Deceased,
}

impl Status {
    /// Every status, in the order of the table above.
    pub const ALL: [Status; 10] = [
        Status::Identified,
        Status::InCrisisCare,
        Status::InTransition,
        Status::Reintegrating,
        Status::Reintegrated,
        Status::DroppedOut,
        Status::LostContact,
        Status::ReTrafficked,
        Status::MovedAbroad,
        Status::Deceased,
    ];

    /// The status in words, for messages ("in crisis care").
    pub fn label(self) -> &'static str {
        match self {
            Status::Identified => "identified",
            Status::InCrisisCare => "in crisis care",
            Status::InTransition => "in transition",
            Status::Reintegrating => "reintegrating",
            Status::Reintegrated => "reintegrated",
            Status::DroppedOut => "dropped out",
            Status::LostContact => "lost contact",
            Status::ReTrafficked => "re-trafficked",
            Status::MovedAbroad => "moved abroad",
            Status::Deceased => "deceased",
        }
    }

    /// True when the state machine allows moving from `self` to `to`.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        if self == to || to == Identified {
            return false;
        }
        match self {
            Identified | InCrisisCare | InTransition => to != Reintegrated,
            Reintegrating => true,
            Reintegrated => matches!(
                to,
                Reintegrating | LostContact | ReTrafficked | MovedAbroad | Deceased
            ),
            DroppedOut => matches!(
                to,
                InCrisisCare | InTransition | Reintegrating | LostContact | Deceased
            ),
            LostContact => to != DroppedOut,
            ReTrafficked => matches!(to, InCrisisCare | InTransition | LostContact | Deceased),
            MovedAbroad => matches!(
                to,
                InTransition | Reintegrating | LostContact | ReTrafficked | Deceased
            ),
            Deceased => false,
        }
    }

    /// True for the statuses that end an episode of assistance (the case may still be open).
    pub fn is_exit(self) -> bool {
        matches!(
            self,
            Status::Reintegrated
                | Status::DroppedOut
                | Status::LostContact
                | Status::ReTrafficked
                | Status::MovedAbroad
                | Status::Deceased
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Status::{self, *};

    /// The table in the module documentation, row by row (✓ = allowed).
    const TABLE: [(Status, &str); 10] = [
        (Identified, "✓✓✓ ✓✓✓✓✓"),
        (InCrisisCare, " ✓✓ ✓✓✓✓✓"),
        (InTransition, "✓ ✓ ✓✓✓✓✓"),
        (Reintegrating, "✓✓ ✓✓✓✓✓✓"),
        (Reintegrated, "  ✓  ✓✓✓✓"),
        (DroppedOut, "✓✓✓  ✓  ✓"),
        (LostContact, "✓✓✓✓  ✓✓✓"),
        (ReTrafficked, "✓✓   ✓  ✓"),
        (MovedAbroad, " ✓✓  ✓✓ ✓"),
        (Deceased, "         "),
    ];

    #[test]
    fn transitions_follow_the_documented_table() {
        for (from, row) in TABLE {
            let allowed: Vec<bool> = row.chars().map(|c| c == '✓').collect();
            for (to, expected) in Status::ALL[1..].iter().zip(allowed) {
                assert_eq!(from.can_become(*to), expected, "{from:?} → {to:?}");
            }
            assert!(!from.can_become(Identified), "nobody returns to identified");
        }
    }
}

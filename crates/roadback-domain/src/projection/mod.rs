//! Projections: the views read from the events, as pure folds.
//!
//! - [`Plan`]: the current individual reintegration plan of one beneficiary.
//! - [`Timeline`]: every event of one beneficiary as a person reads it, corrections beside what
//!   they correct.
//! - [`CaseloadEntry`] and [`Caseload`]: each case's line in its caseworker's list, and the counts
//!   per organisation and caseworker.
//! - [`Outcome`]: the longitudinal outcome view evaluators work from.
//!
//! Each is computed from a [`History`] (one beneficiary's events in stream order), now or
//! [`AsOf`] a past moment in valid time or recorded time. [`Projections`] keeps the persisted
//! ones (plans and caseload) for many beneficiaries, event by event, the way the projector does.

mod caseload;
mod outcome;
mod plan;
mod timeline;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::case::Case;
use crate::events::Event;

pub use caseload::{Caseload, CaseloadCounts, CaseloadEntry};
pub use outcome::{Assessment, Exit, Outcome, ServicesReceived, StageTime, Transition};
pub use plan::{Plan, PlanGoal, PlanReferral, PlanService};
pub use timeline::{Timeline, TimelineEntry, TimelineNote, describe};

/// The prefix of every beneficiary's stream id: `beneficiary-<uuid>`.
pub const STREAM_PREFIX: &str = "beneficiary-";

/// The stream id of a beneficiary.
pub fn stream_of(beneficiary: Uuid) -> String {
    format!("{STREAM_PREFIX}{beneficiary}")
}

/// The beneficiary a stream id belongs to, if it is a beneficiary stream.
pub fn beneficiary_of(stream: &str) -> Option<Uuid> {
    stream
        .strip_prefix(STREAM_PREFIX)
        .and_then(|id| Uuid::parse_str(id).ok())
}

/// A recorded event with what the projections need to know about its recording.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    /// The event's id.
    pub id: Uuid,
    /// The beneficiary whose stream it is in.
    pub beneficiary: Uuid,
    /// Its version in the stream, from 1.
    pub version: u64,
    /// Its place in the global order.
    pub position: u64,
    /// Valid time: the day it happened.
    pub occurred_on: NaiveDate,
    /// Recorded time: when it was stored.
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub actor: Uuid,
    /// What happened, in the current shape.
    pub event: Event,
}

/// The moment a view is computed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AsOf {
    /// Everything recorded so far.
    Now,
    /// What was true at the end of this day, as known now (corrections included).
    ValidTime(NaiveDate),
    /// What the records said at this moment (later entries ignored, even backdated ones).
    RecordedTime(DateTime<Utc>),
}

impl AsOf {
    /// True when an entry of the record belongs to the view.
    fn admits(self, entry: &Envelope) -> bool {
        match self {
            AsOf::Now => true,
            AsOf::ValidTime(day) => entry.occurred_on <= day,
            AsOf::RecordedTime(at) => entry.recorded_at <= at,
        }
    }

    /// The day durations run to: the cut-off, or `today` for now.
    pub fn until(self, today: NaiveDate) -> NaiveDate {
        match self {
            AsOf::Now => today,
            AsOf::ValidTime(day) => day,
            AsOf::RecordedTime(at) => at.date_naive(),
        }
    }
}

/// Evaluation's cut-offs, alone or together: what had been recorded by `recorded` (later
/// entries ignored, backdated ones too), about what had happened by the end of `valid`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CutOff {
    /// Valid time: facts that happened on or before this day.
    pub valid: Option<NaiveDate>,
    /// Recorded time: entries stored at or before this moment.
    pub recorded: Option<DateTime<Utc>>,
}

impl CutOff {
    /// The day durations run to: the valid cut-off, else the recorded one's day, else `today`.
    pub fn until(self, today: NaiveDate) -> NaiveDate {
        self.valid
            .or(self.recorded.map(|at| at.date_naive()))
            .unwrap_or(today)
    }
}

/// One beneficiary's events in stream order: everything their views are computed from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    entries: Vec<Envelope>,
    /// The case as of now, folded once and kept up to date by [`History::extend`].
    now: Case,
}

impl History {
    /// A history from events in stream order.
    pub fn new(entries: Vec<Envelope>) -> Self {
        let now = Case::from_events(entries.iter().map(|e| (e.id, e.occurred_on, &e.event)));
        Self { entries, now }
    }

    /// Adds the stream's next events (in stream order), folding each into the case as of now:
    /// the cost of what is added, not of the whole history.
    pub fn extend(&mut self, tail: impl IntoIterator<Item = Envelope>) {
        for entry in tail {
            self.now.apply(entry.id, entry.occurred_on, &entry.event);
            self.entries.push(entry);
        }
    }

    /// The case as of now (everything recorded so far), without folding it again.
    pub fn now(&self) -> &Case {
        &self.now
    }

    /// The events, in stream order.
    pub fn entries(&self) -> &[Envelope] {
        &self.entries
    }

    /// The case as of a moment.
    ///
    /// In valid time, corrections and voids recorded since count (the record as known now), and
    /// only facts that had happened by the end of that day are kept. In recorded time, only what
    /// had been recorded by then counts, corrections included.
    pub fn case(&self, as_of: AsOf) -> Case {
        match as_of {
            AsOf::ValidTime(day) => {
                let now = self.case(AsOf::Now);
                let mut case = Case::fold(
                    now.facts
                        .into_iter()
                        .filter(|f| f.occurred_on <= day)
                        .collect(),
                );
                case.recorded = now.recorded;
                case
            }
            AsOf::Now => self.now.clone(),
            _ => Case::from_events(
                self.entries
                    .iter()
                    .filter(|e| as_of.admits(e))
                    .map(|e| (e.id, e.occurred_on, &e.event)),
            ),
        }
    }

    /// The stream version the view as of this moment reflects (the last admitted entry).
    pub fn version(&self, as_of: AsOf) -> u64 {
        match as_of {
            AsOf::RecordedTime(_) => self
                .entries
                .iter()
                .filter(|e| as_of.admits(e))
                .map(|e| e.version)
                .max()
                .unwrap_or(0),
            _ => self.entries.last().map_or(0, |e| e.version),
        }
    }

    /// The plan as of a moment, once the person is registered.
    pub fn plan(&self, as_of: AsOf) -> Option<Plan> {
        let version = self.version(as_of);
        match as_of {
            AsOf::Now => Plan::of(&self.now, version),
            _ => Plan::of(&self.case(as_of), version),
        }
    }

    /// The timeline as of a moment.
    pub fn timeline(&self, as_of: AsOf) -> Timeline {
        Timeline::of(&self.entries, as_of)
    }

    /// The case as the records stood at the recorded cut-off, keeping the facts that had
    /// happened by the valid one.
    pub fn case_at(&self, cut: CutOff) -> Case {
        let known = match cut.recorded {
            Some(at) => self.case(AsOf::RecordedTime(at)),
            None => self.case(AsOf::Now),
        };
        match cut.valid {
            Some(day) => {
                let mut case = Case::fold(
                    known
                        .facts
                        .into_iter()
                        .filter(|f| f.occurred_on <= day)
                        .collect(),
                );
                case.recorded = known.recorded;
                case
            }
            None => known,
        }
    }

    /// The longitudinal outcome view at evaluation's cut-offs; durations run to
    /// [`CutOff::until`].
    pub fn outcome_at(&self, cut: CutOff, today: NaiveDate) -> Option<Outcome> {
        Outcome::of(&self.case_at(cut), cut.until(today))
    }

    /// The longitudinal outcome view as of a moment; `today` ends the durations for [`AsOf::Now`].
    pub fn outcome(&self, as_of: AsOf, today: NaiveDate) -> Option<Outcome> {
        match as_of {
            AsOf::Now => Outcome::of(&self.now, as_of.until(today)),
            _ => Outcome::of(&self.case(as_of), as_of.until(today)),
        }
    }
}

/// The persisted projections (plans and caseload) of many beneficiaries, kept event by event.
///
/// This is what the projector does against the database; kept here as a pure fold so that
/// "rebuilt from the log equals maintained incrementally" can be tested directly.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Projections {
    /// Each beneficiary's case and stream version.
    pub cases: HashMap<Uuid, (Case, u64)>,
    /// The caseload counts.
    pub caseload: Caseload,
}

impl Projections {
    /// Applies one event (events of one stream arrive in stream order).
    pub fn apply(&mut self, entry: &Envelope) {
        let (case, version) = self.cases.entry(entry.beneficiary).or_default();
        let before = CaseloadEntry::of(case);
        case.apply(entry.id, entry.occurred_on, &entry.event);
        *version = entry.version;
        let after = CaseloadEntry::of(case);
        self.caseload.replace(before.as_ref(), after.as_ref());
    }

    /// The plan of every registered beneficiary.
    pub fn plans(&self) -> HashMap<Uuid, Plan> {
        self.cases
            .iter()
            .filter_map(|(id, (case, version))| Plan::of(case, *version).map(|p| (*id, p)))
            .collect()
    }
}

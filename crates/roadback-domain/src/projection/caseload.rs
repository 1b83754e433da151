//! The caseload: each case's line in its caseworker's list, and the counts per organisation and
//! caseworker, kept up to date as cases change.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::case::Case;
use crate::status::Status;

/// One case as its caseworker's list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseloadEntry {
    /// The beneficiary.
    pub beneficiary_id: Uuid,
    /// The assisting organisation.
    pub organisation: Uuid,
    /// The caseworker responsible.
    pub caseworker: Uuid,
    /// The organisation's case code.
    pub case_code: String,
    /// The reintegration status.
    pub status: Status,
    /// True while the case is closed.
    pub closed: bool,
    /// The next plan review, if scheduled.
    pub next_review_on: Option<NaiveDate>,
    /// The latest day anything happened.
    pub last_activity_on: NaiveDate,
}

impl CaseloadEntry {
    /// The entry of a case, once the person is registered.
    pub fn of(case: &Case) -> Option<Self> {
        let registration = case.registration.as_ref()?;
        Some(Self {
            beneficiary_id: registration.beneficiary_id,
            organisation: registration.organisation,
            caseworker: case.caseworker.unwrap_or(registration.caseworker),
            case_code: registration.case_code.clone(),
            status: case.status.unwrap_or(Status::Identified),
            closed: case.closed,
            next_review_on: case.next_review_on,
            last_activity_on: case.last_activity_on.unwrap_or(registration.identified_on),
        })
    }

    /// True when a review was due before `today` and the case is open.
    pub fn review_overdue(&self, today: NaiveDate) -> bool {
        !self.closed && self.next_review_on.is_some_and(|due| due < today)
    }
}

/// The counts of one caseworker's cases.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseloadCounts {
    /// Open cases.
    pub open: u32,
    /// Closed cases.
    pub closed: u32,
    /// Open cases by status.
    pub by_status: BTreeMap<Status, u32>,
}

impl CaseloadCounts {
    /// True when no case is counted.
    pub fn is_empty(&self) -> bool {
        self.open == 0 && self.closed == 0
    }

    /// Counts a case in (`sign` = 1) or out (`sign` = -1).
    pub fn count(&mut self, entry: &CaseloadEntry, sign: i64) {
        let add = |n: &mut u32| *n = (i64::from(*n) + sign).max(0) as u32;
        if entry.closed {
            add(&mut self.closed);
        } else {
            add(&mut self.open);
            let n = self.by_status.entry(entry.status).or_default();
            add(n);
            if *n == 0 {
                self.by_status.remove(&entry.status);
            }
        }
    }
}

/// The caseload counts per organisation and caseworker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caseload {
    /// Counts by (organisation, caseworker); caseworkers without cases are absent.
    pub counts: BTreeMap<(Uuid, Uuid), CaseloadCounts>,
}

impl Caseload {
    /// Counts every entry from scratch.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a CaseloadEntry>) -> Self {
        let mut caseload = Self::default();
        for entry in entries {
            caseload.replace(None, Some(entry));
        }
        caseload
    }

    /// Replaces a case's old entry by its new one (either may be absent).
    pub fn replace(&mut self, before: Option<&CaseloadEntry>, after: Option<&CaseloadEntry>) {
        if before == after {
            return;
        }
        for (entry, sign) in [(before, -1), (after, 1)] {
            let Some(entry) = entry else { continue };
            let key = (entry.organisation, entry.caseworker);
            let counts = self.counts.entry(key).or_default();
            counts.count(entry, sign);
            if counts.is_empty() {
                self.counts.remove(&key);
            }
        }
    }
}

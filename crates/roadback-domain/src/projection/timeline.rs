//! The timeline: one beneficiary's record as a person reads it, in the order things happened,
//! with each correction or void shown beside the entry it concerns.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{AsOf, Envelope};
use crate::events::{BeneficiaryRole, Event};
use crate::vocabulary::{ConsentGiver, ConsentScope};

/// A later correction or void of a timeline entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelineNote {
    /// The correcting or voiding event.
    pub id: Uuid,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub actor: Uuid,
    /// The replacement, for a correction; None for a void.
    pub replacement: Option<Event>,
    /// What it says, in a sentence.
    pub summary: String,
}

/// One entry of the timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelineEntry {
    /// The event's id.
    pub id: Uuid,
    /// Its version in the stream.
    pub version: u64,
    /// The day it happened.
    pub occurred_on: NaiveDate,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub actor: Uuid,
    /// What was recorded at first.
    pub event: Event,
    /// What was recorded, in a sentence.
    pub summary: String,
    /// What counts now: the latest correction's replacement, or None once voided.
    pub current: Option<Event>,
    /// Corrections and voids of this entry, in the order they were recorded.
    pub notes: Vec<TimelineNote>,
}

impl TimelineEntry {
    /// True when the entry was corrected or voided.
    pub fn amended(&self) -> bool {
        !self.notes.is_empty()
    }

    /// Days between the day it happened and the day it was recorded (late entries).
    pub fn recorded_days_later(&self) -> i64 {
        (self.recorded_at.date_naive() - self.occurred_on).num_days()
    }
}

/// One beneficiary's timeline, in the order things happened (then in the order recorded).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Timeline {
    /// The entries.
    pub entries: Vec<TimelineEntry>,
}

impl Timeline {
    /// The timeline of a stream's events as of a moment.
    pub fn of(stream: &[Envelope], as_of: AsOf) -> Self {
        let recorded_by = |e: &Envelope| match as_of {
            AsOf::RecordedTime(at) => e.recorded_at <= at,
            _ => true,
        };
        let mut entries: Vec<TimelineEntry> = Vec::new();
        for e in stream.iter().filter(|e| recorded_by(e)) {
            let (target, replacement, moved_to) = match &e.event {
                Event::EventCorrected(c) => {
                    (c.corrects, Some((*c.replacement).clone()), c.occurred_on)
                }
                Event::EventVoided(v) => (v.voids, None, None),
                event => {
                    if let AsOf::ValidTime(day) = as_of
                        && e.occurred_on > day
                    {
                        continue;
                    }
                    entries.push(TimelineEntry {
                        id: e.id,
                        version: e.version,
                        occurred_on: e.occurred_on,
                        recorded_at: e.recorded_at,
                        actor: e.actor,
                        event: event.clone(),
                        summary: describe(event),
                        current: Some(event.clone()),
                        notes: Vec::new(),
                    });
                    continue;
                }
            };
            if let Some(entry) = entries.iter_mut().find(|entry| entry.id == target) {
                entry.current = replacement.clone();
                let mut summary = match &replacement {
                    Some(r) => format!("Corrected: {}", describe(r)),
                    None => "Voided: recorded in error".to_string(),
                };
                if let Some(day) = moved_to.filter(|day| *day != entry.occurred_on) {
                    summary.push_str(&format!(" (dated {day}, not {})", entry.occurred_on));
                    entry.occurred_on = day;
                }
                entry.notes.push(TimelineNote {
                    id: e.id,
                    recorded_at: e.recorded_at,
                    actor: e.actor,
                    summary,
                    replacement,
                });
            }
        }
        // The registration opens the record; then the order things happened.
        entries.sort_by_key(|e| {
            (
                !matches!(e.event, Event::BeneficiaryRegistered(_)),
                e.occurred_on,
                e.version,
            )
        });
        // A status change reads from the status before it, which the order of the history says.
        let mut status = crate::Status::Identified;
        for entry in &mut entries {
            if let Event::StatusChanged(s) = &entry.event {
                entry.summary =
                    format!("Status changed from {} to {}", status.label(), s.to.label());
            }
            if let Some(Event::StatusChanged(s)) = &entry.current {
                status = s.to;
            }
        }
        Self { entries }
    }
}

fn giver(giver: ConsentGiver) -> &'static str {
    match giver {
        ConsentGiver::Beneficiary => "the person",
        ConsentGiver::Guardian => "a guardian",
    }
}

fn scope(scope: &ConsentScope) -> String {
    match scope {
        ConsentScope::Assistance => "assistance".into(),
        ConsentScope::DataSharing { organisation } => {
            format!("sharing the case with organisation {organisation}")
        }
        ConsentScope::EvaluationUse => "de-identified use in evaluation".into(),
        ConsentScope::FollowUpContact => "follow-up contact".into(),
    }
}

/// An event in one plain English sentence (clients translate from the structured event).
pub fn describe(event: &Event) -> String {
    match event {
        Event::BeneficiaryRegistered(r) => match r.role {
            BeneficiaryRole::Primary => format!(
                "Registered as case {}, identified on {}",
                r.case_code, r.identified_on
            ),
            BeneficiaryRole::Secondary { relationship, .. } => format!(
                "Registered as case {}, a family member ({}) of a primary beneficiary",
                r.case_code,
                relationship.label()
            ),
        },
        Event::ConsentGiven(c) => format!(
            "Consent given by {} for {}",
            giver(c.given_by),
            scope(&c.scope)
        ),
        Event::ConsentWithdrawn(c) => format!("Consent withdrawn for {}", scope(&c.scope)),
        Event::PlanGoalSet(g) => match g.target_on {
            Some(target) => format!("Plan goal set for {}, target {target}", g.domain.label()),
            None => format!("Plan goal set for {}", g.domain.label()),
        },
        Event::PlanGoalRevised(g) => format!("Plan goal revised ({})", g.domain.label()),
        Event::PlanGoalAchieved(_) => "Plan goal achieved".into(),
        Event::PlanGoalAbandoned(_) => "Plan goal abandoned".into(),
        Event::ReviewScheduled(r) => format!("Plan review scheduled for {}", r.due_on),
        Event::PlanReviewed(r) => match r.next_review_on {
            Some(next) => format!("Plan reviewed; next review {next}"),
            None => "Plan reviewed".into(),
        },
        Event::ServicePlanned(s) => format!("Service planned: {}", s.service.label()),
        Event::ServiceDelivered(s) => {
            let before = if s.pre_program {
                " (before the program)"
            } else {
                ""
            };
            match s.to {
                Some(to) if to != s.from => format!(
                    "Service delivered: {}, {} to {to}{before}",
                    s.service.label(),
                    s.from
                ),
                _ => format!(
                    "Service delivered: {} on {}{before}",
                    s.service.label(),
                    s.from
                ),
            }
        }
        Event::ServiceDiscontinued(_) => "Service discontinued".into(),
        Event::AssessmentRecorded(a) => format!(
            "Assessment recorded: {} domains scored (framework v{})",
            a.scores.len(),
            a.framework_version
        ),
        Event::StatusChanged(s) => format!("Status changed to {}", s.to.label()),
        Event::ReferredToOrganisation(r) => {
            format!("Referred to organisation {}", r.to_organisation)
        }
        Event::ReferralAccepted(_) => "Referral accepted".into(),
        Event::CaseTransferred(t) => format!("Case transferred to caseworker {}", t.to_caseworker),
        Event::CaseClosed(c) => format!("Case closed with status {}", c.outcome.label()),
        Event::CaseReopened(_) => "Case reopened".into(),
        Event::FollowUpContactMade(f) => match f.observed_status {
            Some(status) => format!("Follow-up contact; status observed: {}", status.label()),
            None => "Follow-up contact".into(),
        },
        Event::PersonalDataRecorded(p) => {
            let fields: Vec<&str> = p.fields.iter().map(|f| f.label()).collect();
            format!("Personal data recorded ({})", fields.join(", "))
        }
        Event::PersonalDataErased(e) => format!("Personal data erased ({})", e.reason.label()),
        Event::EventCorrected(c) => format!("Correction: {}", describe(&c.replacement)),
        Event::EventVoided(_) => "An entry was voided".into(),
    }
}

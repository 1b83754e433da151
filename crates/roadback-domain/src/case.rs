//! The state a decision is taken against: one beneficiary's case, folded from its events with
//! corrections and voids applied.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use uuid::Uuid;

use crate::events::{BeneficiaryRegistered, Event};
use crate::status::Status;
use crate::vocabulary::ConsentScope;

/// Where a plan goal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoalState {
    /// Agreed and being worked on.
    Open,
    /// Reached.
    Achieved,
    /// Given up.
    Abandoned,
}

/// One recorded fact as it counts now (after corrections; voided facts are dropped).
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    /// The id of the event that recorded it (the original, for a corrected fact).
    pub id: Uuid,
    /// When it happened.
    pub occurred_on: NaiveDate,
    /// What happened.
    pub event: Event,
}

/// A beneficiary's case as the rules see it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Case {
    /// The registration, once registered.
    pub registration: Option<BeneficiaryRegistered>,
    /// The current reintegration status.
    pub status: Option<Status>,
    /// True while the case is closed.
    pub closed: bool,
    /// Consents in force.
    pub consents: BTreeSet<ConsentScope>,
    /// Plan goals by id.
    pub goals: BTreeMap<Uuid, GoalState>,
    /// Services by id: true while planned or running, false once discontinued.
    pub services: BTreeMap<Uuid, bool>,
    /// Referrals by id: the receiving organisation and whether it accepted.
    pub referrals: BTreeMap<Uuid, (Uuid, bool)>,
    /// The caseworker responsible.
    pub caseworker: Option<Uuid>,
    /// Every event id of the stream and its type name (corrections and voids included).
    pub recorded: BTreeMap<Uuid, &'static str>,
    /// The facts that count, in stream order.
    pub facts: Vec<Fact>,
}

impl Case {
    /// Folds a stream's events (id, valid date, event) in stream order.
    pub fn from_events<'a>(events: impl IntoIterator<Item = (Uuid, NaiveDate, &'a Event)>) -> Self {
        let mut case = Self::default();
        for (id, occurred_on, event) in events {
            case.apply(id, occurred_on, event);
        }
        case
    }

    /// Adds one event to the case.
    pub fn apply(&mut self, id: Uuid, occurred_on: NaiveDate, event: &Event) {
        self.recorded.insert(id, event.type_name());
        match event {
            Event::EventCorrected(c) => {
                if let Some(fact) = self.facts.iter_mut().find(|f| f.id == c.corrects) {
                    fact.event = (*c.replacement).clone();
                }
                self.refold();
            }
            Event::EventVoided(v) => {
                self.facts.retain(|f| f.id != v.voids);
                self.refold();
            }
            other => {
                self.facts.push(Fact {
                    id,
                    occurred_on,
                    event: other.clone(),
                });
                self.evolve(other);
            }
        }
    }

    /// Recomputes the derived state from the facts, after a correction or a void changed one.
    fn refold(&mut self) {
        let facts = std::mem::take(&mut self.facts);
        let recorded = std::mem::take(&mut self.recorded);
        *self = Self::default();
        for fact in &facts {
            self.evolve(&fact.event);
        }
        self.facts = facts;
        self.recorded = recorded;
    }

    fn evolve(&mut self, event: &Event) {
        match event {
            Event::BeneficiaryRegistered(r) => {
                self.registration = Some(r.clone());
                self.status = Some(Status::Identified);
                self.caseworker = Some(r.caseworker);
            }
            Event::ConsentGiven(c) => {
                self.consents.insert(c.scope);
            }
            Event::ConsentWithdrawn(c) => {
                self.consents.remove(&c.scope);
            }
            Event::PlanGoalSet(g) => {
                self.goals.insert(g.goal_id, GoalState::Open);
            }
            Event::PlanGoalRevised(_) | Event::ReviewScheduled(_) | Event::PlanReviewed(_) => {}
            Event::PlanGoalAchieved(g) => {
                self.goals.insert(g.goal_id, GoalState::Achieved);
            }
            Event::PlanGoalAbandoned(g) => {
                self.goals.insert(g.goal_id, GoalState::Abandoned);
            }
            Event::ServicePlanned(s) => {
                self.services.insert(s.service_id, true);
            }
            Event::ServiceDelivered(s) => {
                self.services.entry(s.service_id).or_insert(true);
            }
            Event::ServiceDiscontinued(s) => {
                self.services.insert(s.service_id, false);
            }
            Event::AssessmentRecorded(_) => {}
            Event::StatusChanged(s) => self.status = Some(s.to),
            Event::ReferredToOrganisation(r) => {
                self.referrals
                    .insert(r.referral_id, (r.to_organisation, false));
            }
            Event::ReferralAccepted(r) => {
                if let Some(referral) = self.referrals.get_mut(&r.referral_id) {
                    referral.1 = true;
                }
            }
            Event::CaseTransferred(t) => self.caseworker = Some(t.to_caseworker),
            Event::CaseClosed(_) => self.closed = true,
            Event::CaseReopened(_) => self.closed = false,
            Event::FollowUpContactMade(_) => {}
            // Corrections and voids never reach here: `apply` turns them into changed facts.
            Event::EventCorrected(_) | Event::EventVoided(_) => {}
        }
    }
}

//! One beneficiary's case, folded from its events with corrections and voids applied: the state
//! decisions are taken against, and the source of the current plan and the caseload entry.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events::{BeneficiaryRegistered, Event, ServiceType};
use crate::status::Status;
use crate::vocabulary::{ConsentGiver, ConsentScope, ReintegrationDomain};

/// Where a plan goal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalState {
    /// Agreed and being worked on.
    Open,
    /// Reached.
    Achieved,
    /// Given up.
    Abandoned,
}

/// A goal of the individual reintegration plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    /// The reintegration domain it serves.
    pub domain: ReintegrationDomain,
    /// When it should be reached, if agreed.
    pub target_on: Option<NaiveDate>,
    /// Where it stands.
    pub state: GoalState,
    /// The day it was agreed.
    pub set_on: NaiveDate,
    /// The day it was achieved or abandoned.
    pub closed_on: Option<NaiveDate>,
}

/// Where a service stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    /// Planned, nothing delivered yet.
    Planned,
    /// Delivered at least once and not stopped.
    Delivered,
    /// Stopped.
    Discontinued,
}

/// A service of the case, planned or delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// What kind of service.
    pub service: ServiceType,
    /// The providing organisation (None: an external provider).
    pub provider: Option<Uuid>,
    /// The goal it serves, if any.
    pub goal_id: Option<Uuid>,
    /// Where it stands.
    pub state: ServiceState,
    /// The day it was planned, if it was.
    pub planned_on: Option<NaiveDate>,
    /// First day delivered.
    pub first_delivered_on: Option<NaiveDate>,
    /// Last day delivered.
    pub last_delivered_on: Option<NaiveDate>,
    /// How many deliveries were recorded.
    pub deliveries: u32,
}

impl Service {
    /// True while planned or running.
    pub fn is_active(&self) -> bool {
        self.state != ServiceState::Discontinued
    }
}

/// A consent in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentInForce {
    /// What it covers.
    pub scope: ConsentScope,
    /// The day it was given.
    pub since: NaiveDate,
    /// Who gave it.
    pub given_by: ConsentGiver,
}

/// A referral to another organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// The receiving organisation.
    pub to_organisation: Uuid,
    /// The day it was made.
    pub referred_on: NaiveDate,
    /// True once accepted.
    pub accepted: bool,
}

/// One recorded fact as it counts now (after corrections; voided facts are dropped).
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    /// The id of the event that recorded it (the original, for a corrected fact).
    pub id: Uuid,
    /// Its place in the order of recording (0 for the stream's first event): orders facts of the
    /// same day.
    pub seq: usize,
    /// When it happened (the corrected day, for a correction that moved it).
    pub occurred_on: NaiveDate,
    /// What happened.
    pub event: Event,
}

impl Fact {
    /// The order facts count in: the registration first (it opens the record), then the order
    /// things happened, then the order they were recorded.
    pub fn order(&self) -> (bool, NaiveDate, usize) {
        (
            !matches!(self.event, Event::BeneficiaryRegistered(_)),
            self.occurred_on,
            self.seq,
        )
    }
}

/// A beneficiary's case.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Case {
    /// The registration, once registered.
    pub registration: Option<BeneficiaryRegistered>,
    /// The current reintegration status.
    pub status: Option<Status>,
    /// The day the current status began.
    pub status_since: Option<NaiveDate>,
    /// True while the case is closed.
    pub closed: bool,
    /// Consents in force, by scope.
    pub consents: BTreeMap<ConsentScope, ConsentInForce>,
    /// Plan goals by id.
    pub goals: BTreeMap<Uuid, Goal>,
    /// Services by id.
    pub services: BTreeMap<Uuid, Service>,
    /// Referrals by id.
    pub referrals: BTreeMap<Uuid, Referral>,
    /// The caseworker responsible.
    pub caseworker: Option<Uuid>,
    /// The next plan review, if one is scheduled.
    pub next_review_on: Option<NaiveDate>,
    /// The latest day anything happened (valid time).
    pub last_activity_on: Option<NaiveDate>,
    /// Consents withdrawn and not given again since.
    pub withdrawn: std::collections::BTreeSet<ConsentScope>,
    /// Personal-data fields holding a value in the vault.
    pub personal_fields: Vec<crate::personal::PersonalField>,
    /// True once the person's personal data was erased.
    pub erased: bool,
    /// Every event id of the stream and its type name (corrections and voids included).
    pub recorded: BTreeMap<Uuid, &'static str>,
    /// The facts that count, in the order they count ([`Fact::order`]: registration, then
    /// valid time, then recording).
    pub facts: Vec<Fact>,
}

impl Case {
    /// Folds a stream's events (id, valid date, event) in stream order.
    ///
    /// Gives the same case as [`apply`](Self::apply) on each event, in linear time: corrections
    /// and voids are applied to the list of facts first, then the facts are put in the order
    /// they count and folded once.
    pub fn from_events<'a>(events: impl IntoIterator<Item = (Uuid, NaiveDate, &'a Event)>) -> Self {
        let mut facts: Vec<Option<Fact>> = Vec::new();
        let mut index: HashMap<Uuid, usize> = HashMap::new();
        let mut recorded = BTreeMap::new();
        for (seq, (id, occurred_on, event)) in events.into_iter().enumerate() {
            recorded.insert(id, event.type_name());
            match event {
                Event::EventCorrected(c) => {
                    if let Some(Some(fact)) = index.get(&c.corrects).map(|&i| &mut facts[i]) {
                        fact.event = (*c.replacement).clone();
                        fact.occurred_on = c.occurred_on.unwrap_or(fact.occurred_on);
                    }
                }
                Event::EventVoided(v) => {
                    if let Some(&i) = index.get(&v.voids) {
                        facts[i] = None;
                    }
                }
                other => {
                    index.insert(id, facts.len());
                    facts.push(Some(Fact {
                        id,
                        seq,
                        occurred_on,
                        event: other.clone(),
                    }));
                }
            }
        }
        let mut case = Self::fold(facts.into_iter().flatten().collect());
        case.recorded = recorded;
        case
    }

    /// The case of these facts (in any order; they are put in the order they count).
    pub fn fold(mut facts: Vec<Fact>) -> Self {
        facts.sort_by_key(Fact::order);
        let mut case = Self::default();
        for fact in &facts {
            case.evolve(fact);
        }
        case.facts = facts;
        case
    }

    /// Adds one event (the next of the stream) to the case.
    pub fn apply(&mut self, id: Uuid, occurred_on: NaiveDate, event: &Event) {
        let seq = self.recorded.len();
        self.recorded.insert(id, event.type_name());
        match event {
            Event::EventCorrected(c) => {
                if let Some(fact) = self.facts.iter_mut().find(|f| f.id == c.corrects) {
                    fact.event = (*c.replacement).clone();
                    fact.occurred_on = c.occurred_on.unwrap_or(fact.occurred_on);
                }
                self.refold();
            }
            Event::EventVoided(v) => {
                self.facts.retain(|f| f.id != v.voids);
                self.refold();
            }
            other => {
                let fact = Fact {
                    id,
                    seq,
                    occurred_on,
                    event: other.clone(),
                };
                // Most facts are the latest yet; a backdated one changes what followed it.
                if self
                    .facts
                    .last()
                    .is_none_or(|last| last.order() <= fact.order())
                {
                    self.evolve(&fact);
                    self.facts.push(fact);
                } else {
                    self.facts.push(fact);
                    self.refold();
                }
            }
        }
    }

    /// The beneficiary's id, once registered.
    pub fn beneficiary_id(&self) -> Option<Uuid> {
        self.registration.as_ref().map(|r| r.beneficiary_id)
    }

    /// True when consent for `scope` is in force.
    pub fn has_consent(&self, scope: ConsentScope) -> bool {
        self.consents.contains_key(&scope)
    }

    /// The id the next event of the stream is recorded under counts as this `seq`.
    pub fn next_seq(&self) -> usize {
        self.recorded.len()
    }

    /// Recomputes the derived state from the facts, after a correction, a void or a backdated
    /// fact changed them.
    fn refold(&mut self) {
        let recorded = std::mem::take(&mut self.recorded);
        *self = Self::fold(std::mem::take(&mut self.facts));
        self.recorded = recorded;
    }

    /// Adds one fact, the latest in the order facts count, to the derived state (not to
    /// `facts`).
    pub(crate) fn evolve(&mut self, fact: &Fact) {
        let on = fact.occurred_on;
        self.last_activity_on = self.last_activity_on.max(Some(on));
        match &fact.event {
            Event::BeneficiaryRegistered(r) => {
                self.registration = Some(r.clone());
                self.status = Some(Status::Identified);
                self.status_since = Some(r.identified_on);
                self.caseworker = Some(r.caseworker);
            }
            Event::ConsentGiven(c) => {
                self.withdrawn.remove(&c.scope);
                self.consents.insert(
                    c.scope,
                    ConsentInForce {
                        scope: c.scope,
                        since: on,
                        given_by: c.given_by,
                    },
                );
            }
            Event::ConsentWithdrawn(c) => {
                self.consents.remove(&c.scope);
                self.withdrawn.insert(c.scope);
            }
            Event::PersonalDataRecorded(p) => self.personal_fields = p.fields.clone(),
            Event::PersonalDataErased(_) => {
                self.erased = true;
                self.personal_fields.clear();
            }
            Event::PlanGoalSet(g) => {
                self.goals.insert(
                    g.goal_id,
                    Goal {
                        domain: g.domain,
                        target_on: g.target_on,
                        state: GoalState::Open,
                        set_on: on,
                        closed_on: None,
                    },
                );
            }
            Event::PlanGoalRevised(g) => {
                if let Some(goal) = self.goals.get_mut(&g.goal_id) {
                    goal.domain = g.domain;
                    goal.target_on = g.target_on;
                }
            }
            Event::PlanGoalAchieved(g) => self.close_goal(g.goal_id, GoalState::Achieved, on),
            Event::PlanGoalAbandoned(g) => self.close_goal(g.goal_id, GoalState::Abandoned, on),
            Event::ReviewScheduled(r) => self.next_review_on = Some(r.due_on),
            Event::PlanReviewed(r) => self.next_review_on = r.next_review_on,
            Event::ServicePlanned(s) => {
                self.services.insert(
                    s.service_id,
                    Service {
                        service: s.service,
                        provider: s.provider,
                        goal_id: s.goal_id,
                        state: ServiceState::Planned,
                        planned_on: Some(on),
                        first_delivered_on: None,
                        last_delivered_on: None,
                        deliveries: 0,
                    },
                );
            }
            Event::ServiceDelivered(s) => {
                let service = self.services.entry(s.service_id).or_insert(Service {
                    service: s.service,
                    provider: s.provider,
                    goal_id: None,
                    state: ServiceState::Delivered,
                    planned_on: None,
                    first_delivered_on: None,
                    last_delivered_on: None,
                    deliveries: 0,
                });
                if service.state == ServiceState::Planned {
                    service.state = ServiceState::Delivered;
                }
                let last = s.to.unwrap_or(s.from);
                service.first_delivered_on = Some(
                    service
                        .first_delivered_on
                        .map_or(s.from, |first| first.min(s.from)),
                );
                service.last_delivered_on = service.last_delivered_on.max(Some(last));
                service.deliveries += 1;
            }
            Event::ServiceDiscontinued(s) => {
                if let Some(service) = self.services.get_mut(&s.service_id) {
                    service.state = ServiceState::Discontinued;
                }
            }
            Event::AssessmentRecorded(_) | Event::FollowUpContactMade(_) => {}
            Event::StatusChanged(s) => {
                self.status = Some(s.to);
                self.status_since = Some(on);
            }
            Event::ReferredToOrganisation(r) => {
                self.referrals.insert(
                    r.referral_id,
                    Referral {
                        to_organisation: r.to_organisation,
                        referred_on: on,
                        accepted: false,
                    },
                );
            }
            Event::ReferralAccepted(r) => {
                if let Some(referral) = self.referrals.get_mut(&r.referral_id) {
                    referral.accepted = true;
                }
            }
            Event::CaseTransferred(t) => self.caseworker = Some(t.to_caseworker),
            Event::CaseClosed(_) => self.closed = true,
            Event::CaseReopened(_) => self.closed = false,
            // Corrections and voids never reach here: `apply` turns them into changed facts.
            Event::EventCorrected(_) | Event::EventVoided(_) => {}
        }
    }

    fn close_goal(&mut self, goal: Uuid, state: GoalState, on: NaiveDate) {
        if let Some(goal) = self.goals.get_mut(&goal) {
            goal.state = state;
            goal.closed_on = Some(on);
        }
    }
}

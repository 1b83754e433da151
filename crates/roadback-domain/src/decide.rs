//! Decisions: a request to record a fact is checked against the case and yields the events to
//! append, or a rejection with a stable code and a reason a caseworker understands.

use std::fmt;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::case::{Case, GoalState};
use crate::events::{BeneficiaryRole, Event, StatusChanged};
use crate::vocabulary::{ConsentGiver, ConsentScope};

/// Age below which consent must come from a guardian.
pub const AGE_OF_CONSENT: i32 = 18;

/// A request to record `fact` as having happened on `occurred_on`.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// When it happened (valid time).
    pub occurred_on: NaiveDate,
    /// Set for facts from before the person's identification (e.g. schooling before trafficking),
    /// which may then be dated before the identification date.
    pub pre_program: bool,
    /// What happened. For a status change, `from` is taken from the case.
    pub fact: Event,
}

/// What a decision may look up outside the case itself.
pub trait Directory {
    /// True when `beneficiary` is registered as a primary beneficiary.
    fn is_primary_beneficiary(&self, beneficiary: Uuid) -> bool;
    /// The indicator framework of this version, if the program has it.
    fn framework(&self, version: u32) -> Option<&crate::indicators::Framework>;
}

/// The stable codes of rejections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectionCode {
    /// The first event must be the registration.
    NotRegistered,
    /// The stream already has a registration.
    AlreadyRegistered,
    /// `occurred_on` is after today.
    InTheFuture,
    /// `occurred_on` is before the identification date and not flagged pre-program.
    BeforeIdentification,
    /// The status state machine does not allow this change.
    InvalidTransition,
    /// The case is closed and takes only follow-up, reopening, corrections and consent withdrawal.
    CaseClosed,
    /// Reopening a case that is open.
    CaseOpen,
    /// Withdrawing consent that is not in force.
    ConsentNotInForce,
    /// The secondary beneficiary's primary is not a registered primary beneficiary.
    PrimaryNotFound,
    /// The person was under 18 on the consent date and the consent was not from a guardian.
    GuardianRequired,
    /// A referral without consent to share data with the receiving organisation.
    ConsentRequired,
    /// A correction or void names an event that is not in this stream (or is itself a correction).
    UnknownEvent,
    /// A correction's replacement has another type than the event it corrects.
    CorrectionTypeMismatch,
    /// The named goal, service or referral does not exist or is no longer open.
    UnknownReference,
    /// A value outside what is allowed (empty case code, score out of range...).
    InvalidValue,
    /// The person's personal data was erased: nothing personal can be recorded again.
    PersonalDataErased,
}

impl RejectionCode {
    /// The code as it appears in APIs and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRegistered => "NOT_REGISTERED",
            Self::AlreadyRegistered => "ALREADY_REGISTERED",
            Self::InTheFuture => "IN_THE_FUTURE",
            Self::BeforeIdentification => "BEFORE_IDENTIFICATION",
            Self::InvalidTransition => "INVALID_TRANSITION",
            Self::CaseClosed => "CASE_CLOSED",
            Self::CaseOpen => "CASE_OPEN",
            Self::ConsentNotInForce => "CONSENT_NOT_IN_FORCE",
            Self::PrimaryNotFound => "PRIMARY_NOT_FOUND",
            Self::GuardianRequired => "GUARDIAN_REQUIRED",
            Self::ConsentRequired => "CONSENT_REQUIRED",
            Self::UnknownEvent => "UNKNOWN_EVENT",
            Self::CorrectionTypeMismatch => "CORRECTION_TYPE_MISMATCH",
            Self::UnknownReference => "UNKNOWN_REFERENCE",
            Self::InvalidValue => "INVALID_VALUE",
            Self::PersonalDataErased => "PERSONAL_DATA_ERASED",
        }
    }
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The stable code.
    pub code: RejectionCode,
    /// The input field at fault, when one is.
    pub field: Option<&'static str>,
    /// A sentence a caseworker understands.
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Rejection {}

fn reject(
    code: RejectionCode,
    field: Option<&'static str>,
    reason: impl Into<String>,
) -> Rejection {
    Rejection {
        code,
        field,
        reason: reason.into(),
    }
}

/// Decides a request against the case: the events to append, or why not.
pub fn decide(
    case: &Case,
    request: &Request,
    today: NaiveDate,
    directory: &dyn Directory,
) -> Result<Vec<Event>, Rejection> {
    use RejectionCode::*;
    if request.occurred_on > today {
        return Err(reject(
            InTheFuture,
            Some("occurredOn"),
            format!(
                "{} is in the future; record facts once they have happened",
                request.occurred_on
            ),
        ));
    }
    let Some(registration) = &case.registration else {
        return match &request.fact {
            Event::BeneficiaryRegistered(r) => decide_registration(r, request, directory),
            _ => Err(reject(
                NotRegistered,
                None,
                "register the beneficiary before recording anything else",
            )),
        };
    };
    if request.occurred_on < registration.identified_on && !request.pre_program {
        return Err(reject(
            BeforeIdentification,
            Some("occurredOn"),
            format!(
                "{} is before the identification date {}; mark it as a pre-program fact if it really happened then",
                request.occurred_on, registration.identified_on
            ),
        ));
    }
    let allowed_when_closed = matches!(
        request.fact,
        Event::FollowUpContactMade(_)
            | Event::CaseReopened(_)
            | Event::EventCorrected(_)
            | Event::EventVoided(_)
            // Withdrawing consent and erasure are the person's rights at any time.
            | Event::ConsentWithdrawn(_)
            | Event::PersonalDataErased(_)
    );
    if case.closed && !allowed_when_closed {
        return Err(reject(
            CaseClosed,
            None,
            "the case is closed: record a follow-up contact, reopen the case, or correct an earlier entry",
        ));
    }
    let withdrawn = |scope: ConsentScope| case.withdrawn.contains(&scope);
    if withdrawn(ConsentScope::Assistance)
        && matches!(
            request.fact,
            Event::ServicePlanned(_) | Event::ServiceDelivered(_) | Event::PlanGoalSet(_)
        )
    {
        return Err(reject(
            ConsentRequired,
            None,
            "the person withdrew their consent to assistance: no new services or goals until they give it again",
        ));
    }
    if withdrawn(ConsentScope::FollowUpContact)
        && matches!(request.fact, Event::FollowUpContactMade(_))
    {
        return Err(reject(
            ConsentRequired,
            None,
            "the person withdrew their consent to follow-up contact",
        ));
    }
    let goal_open = |goal: Uuid| {
        case.goals
            .get(&goal)
            .is_some_and(|g| g.state == GoalState::Open)
    };
    let status = case.status.unwrap_or(crate::Status::Identified);
    match &request.fact {
        Event::BeneficiaryRegistered(_) => Err(reject(
            AlreadyRegistered,
            None,
            "this beneficiary is already registered",
        )),
        Event::ConsentGiven(c) => {
            let minor = registration
                .birth
                .is_some_and(|birth| birth.age_on(request.occurred_on) < AGE_OF_CONSENT);
            if minor && c.given_by != ConsentGiver::Guardian {
                return Err(reject(
                    GuardianRequired,
                    Some("givenBy"),
                    "the person was under 18 on that date: consent must be given by a parent or guardian",
                ));
            }
            Ok(vec![request.fact.clone()])
        }
        Event::ConsentWithdrawn(c) => {
            if !case.has_consent(c.scope) {
                return Err(reject(
                    ConsentNotInForce,
                    Some("scope"),
                    "this consent is not in force, so it cannot be withdrawn",
                ));
            }
            Ok(vec![request.fact.clone()])
        }
        Event::PlanGoalSet(g) => {
            if case.goals.contains_key(&g.goal_id) {
                return Err(reject(
                    InvalidValue,
                    Some("goalId"),
                    "a goal with this id is already in the plan",
                ));
            }
            Ok(vec![request.fact.clone()])
        }
        Event::PlanGoalRevised(g) if !goal_open(g.goal_id) => Err(unknown_goal()),
        Event::PlanGoalAchieved(g) if !goal_open(g.goal_id) => Err(unknown_goal()),
        Event::PlanGoalAbandoned(g) if !goal_open(g.goal_id) => Err(unknown_goal()),
        Event::ServiceDiscontinued(s)
            if !case
                .services
                .get(&s.service_id)
                .is_some_and(|s| s.is_active()) =>
        {
            Err(reject(
                UnknownReference,
                Some("serviceId"),
                "there is no planned or running service with this id",
            ))
        }
        Event::ServiceDelivered(s) if s.to.is_some_and(|to| to < s.from) => Err(reject(
            InvalidValue,
            Some("to"),
            "a service cannot end before it starts",
        )),
        Event::AssessmentRecorded(a) => {
            if a.scores.is_empty() {
                return Err(reject(
                    InvalidValue,
                    Some("scores"),
                    "an assessment needs at least one domain score",
                ));
            }
            let Some(framework) = directory.framework(a.framework_version) else {
                return Err(reject(
                    InvalidValue,
                    Some("frameworkVersion"),
                    format!(
                        "there is no indicator framework version {}",
                        a.framework_version
                    ),
                ));
            };
            framework
                .check(&a.scores)
                .map_err(|reason| reject(InvalidValue, Some("scores"), reason))?;
            Ok(vec![request.fact.clone()])
        }
        Event::StatusChanged(s) => {
            if !status.can_become(s.to) {
                return Err(reject(
                    InvalidTransition,
                    Some("to"),
                    format!(
                        "the status cannot change from \"{}\" to \"{}\"",
                        status.label(),
                        s.to.label()
                    ),
                ));
            }
            Ok(vec![Event::StatusChanged(StatusChanged {
                from: status,
                to: s.to,
            })])
        }
        Event::ReferredToOrganisation(r) => {
            let consent = ConsentScope::DataSharing {
                organisation: r.to_organisation,
            };
            if !case.has_consent(consent) {
                return Err(reject(
                    ConsentRequired,
                    Some("toOrganisation"),
                    "the person has not consented to share their case with that organisation",
                ));
            }
            Ok(vec![request.fact.clone()])
        }
        Event::ReferralAccepted(r) => match case.referrals.get(&r.referral_id) {
            Some(referral) if !referral.accepted => Ok(vec![request.fact.clone()]),
            _ => Err(reject(
                UnknownReference,
                Some("referralId"),
                "there is no open referral with this id",
            )),
        },
        Event::CaseClosed(_) => Ok(vec![Event::CaseClosed(crate::events::CaseClosed {
            outcome: status,
        })]),
        Event::PersonalDataRecorded(_) | Event::PersonalDataErased(_) if case.erased => {
            Err(reject(
                PersonalDataErased,
                None,
                "this person's personal data was erased; nothing personal can be recorded again",
            ))
        }
        Event::CaseReopened(_) if !case.closed => {
            Err(reject(CaseOpen, None, "the case is open already"))
        }
        Event::EventCorrected(c) => match case.recorded.get(&c.corrects) {
            None | Some(&"EventCorrected") | Some(&"EventVoided") => Err(unknown_event()),
            Some(original) if *original != c.replacement.type_name() => Err(reject(
                CorrectionTypeMismatch,
                Some("replacement"),
                format!("a correction of a {original} entry must be a {original} entry"),
            )),
            Some(_) if !case.facts.iter().any(|f| f.id == c.corrects) => Err(unknown_event()),
            Some(_) => Ok(vec![request.fact.clone()]),
        },
        Event::EventVoided(v) => {
            let registration_id = case.facts.first().map(|f| f.id);
            if Some(v.voids) == registration_id {
                return Err(reject(
                    InvalidValue,
                    Some("voids"),
                    "the registration cannot be voided; correct it instead",
                ));
            }
            if !case.facts.iter().any(|f| f.id == v.voids) {
                return Err(unknown_event());
            }
            Ok(vec![request.fact.clone()])
        }
        _ => Ok(vec![request.fact.clone()]),
    }
}

fn decide_registration(
    r: &crate::events::BeneficiaryRegistered,
    request: &Request,
    directory: &dyn Directory,
) -> Result<Vec<Event>, Rejection> {
    use RejectionCode::*;
    if r.case_code.trim().is_empty() || r.case_code.len() > 40 {
        return Err(reject(
            InvalidValue,
            Some("caseCode"),
            "the case code must have 1 to 40 characters",
        ));
    }
    if request.occurred_on < r.identified_on {
        return Err(reject(
            BeforeIdentification,
            Some("occurredOn"),
            "a person cannot be registered before the day they were identified",
        ));
    }
    if r.birth
        .is_some_and(|b| !(1..=12).contains(&b.month) || b.age_on(r.identified_on) > 110)
    {
        return Err(reject(
            InvalidValue,
            Some("birth"),
            "the birth month must be 1 to 12 and the year plausible",
        ));
    }
    if let BeneficiaryRole::Secondary { primary, .. } = r.role
        && !directory.is_primary_beneficiary(primary)
    {
        return Err(reject(
            PrimaryNotFound,
            Some("role.primary"),
            "a family member must be linked to a registered primary beneficiary",
        ));
    }
    Ok(vec![request.fact.clone()])
}

fn unknown_goal() -> Rejection {
    reject(
        RejectionCode::UnknownReference,
        Some("goalId"),
        "there is no open goal with this id in the plan",
    )
}

fn unknown_event() -> Rejection {
    reject(
        RejectionCode::UnknownEvent,
        Some("corrects"),
        "there is no such entry in this person's record to correct",
    )
}

#[cfg(test)]
mod tests;

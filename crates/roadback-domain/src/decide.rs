//! Decisions: a command is checked against the case and yields the events to append, or a
//! rejection with a stable code, the input field at fault and a reason a caseworker understands.
//!
//! The invariant: a beneficiary's history (corrections and voids applied, facts in the order
//! they count) replays through [`rules::admit`], every fact accepted against the case as it
//! stood on its date. A command is accepted only if the history it produces still does: the
//! fact it adds or restates is admitted against the case on its date, and every fact after it is
//! admitted again, so a backdated entry, a correction or a void that would contradict a later
//! fact is refused, naming that fact.

use std::fmt;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::case::{Case, Fact};
use crate::command::{Command, Delivery, Request};
use crate::events::{self as ev, BeneficiaryRole, Event};
use crate::projection::describe;
use crate::rules::admit;
use crate::vocabulary::ConsentScope;

/// What a decision may look up outside the case itself (checked for the command's own fact when
/// it is decided: these do not change with the history).
pub trait Directory {
    /// True when `beneficiary` is registered as a primary beneficiary.
    fn is_primary_beneficiary(&self, beneficiary: Uuid) -> bool;
    /// The indicator framework of this version, if the program has it.
    fn framework(&self, version: u32) -> Option<&crate::indicators::Framework>;
    /// True when the organisation is one of the program's.
    fn is_organisation(&self, organisation: Uuid) -> bool;
    /// True when `user` can hold cases (caseworker or supervisor) in `organisation`.
    fn is_caseworker_of(&self, user: Uuid, organisation: Uuid) -> bool;
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
    /// A date before the person was born.
    BeforeBirth,
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
    /// The entry cannot be corrected or voided (the registration's identity, personal data,
    /// an erasure).
    NotCorrectable,
    /// A closure's outcome is no longer the status on its day.
    OutcomeChanged,
    /// The command would make a later fact of the history break a rule (see
    /// [`Rejection::contradicts`]).
    ContradictsLaterEntry,
}

impl RejectionCode {
    /// The code as it appears in APIs and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRegistered => "NOT_REGISTERED",
            Self::AlreadyRegistered => "ALREADY_REGISTERED",
            Self::InTheFuture => "IN_THE_FUTURE",
            Self::BeforeIdentification => "BEFORE_IDENTIFICATION",
            Self::BeforeBirth => "BEFORE_BIRTH",
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
            Self::NotCorrectable => "NOT_CORRECTABLE",
            Self::OutcomeChanged => "OUTCOME_CHANGED",
            Self::ContradictsLaterEntry => "CONTRADICTS_LATER_ENTRY",
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
    /// For [`RejectionCode::ContradictsLaterEntry`]: the fact that would break a rule.
    pub contradicts: Option<Contradiction>,
}

/// The later fact a command would contradict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contradiction {
    /// The id of the entry that recorded it.
    pub event_id: Uuid,
    /// Its day.
    pub occurred_on: NaiveDate,
    /// The rule it would break.
    pub rule: RejectionCode,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Rejection {}

pub(crate) fn reject(
    code: RejectionCode,
    field: Option<&'static str>,
    reason: impl Into<String>,
) -> Rejection {
    Rejection {
        code,
        field,
        reason: reason.into(),
        contradicts: None,
    }
}

/// Decides a command against the case: the events to append, or why not.
pub fn decide(
    case: &Case,
    request: &Request,
    today: NaiveDate,
    directory: &dyn Directory,
) -> Result<Vec<Event>, Rejection> {
    use RejectionCode::*;
    let Request {
        occurred_on: on,
        corrects,
        command,
    } = request;
    let on = *on;
    match command {
        Command::RegisterBeneficiary(r) => {
            if case.registration.is_some() {
                return Err(reject(
                    AlreadyRegistered,
                    None,
                    "this beneficiary is already registered",
                ));
            }
            references(command, case, directory)?;
            let event = Event::BeneficiaryRegistered(registration(r));
            let fact = Fact {
                id: Uuid::nil(),
                seq: 0,
                occurred_on: on,
                event,
            };
            admit(case, &fact, today)?;
            return Ok(vec![fact.event]);
        }
        Command::VoidEvent { event_id } => return void(case, *event_id, on, today),
        _ => {}
    }
    if case.registration.is_none() {
        return Err(reject(
            NotRegistered,
            None,
            "register the beneficiary before recording anything else",
        ));
    }
    let original = match (command, corrects) {
        (Command::CorrectRegistration { .. }, _) => case.facts.first(),
        (_, None) => None,
        (_, Some(id)) => Some(correctable(case, *id, command)?),
    };
    if case.erased
        && matches!(
            command,
            Command::RecordPersonalData { .. } | Command::ErasePersonalData { .. }
        )
    {
        return Err(reject(
            PersonalDataErased,
            None,
            "this person's personal data was erased; nothing personal can be recorded again",
        ));
    }
    references(command, case, directory)?;
    let seq = original.map_or(case.next_seq(), |f| f.seq);
    let is_registration = matches!(command, Command::CorrectRegistration { .. });
    let key = (!is_registration, on, seq);
    let others: Vec<&Fact> = case
        .facts
        .iter()
        .filter(|f| Some(f.id) != original.map(|o| o.id))
        .collect();
    let at = others.partition_point(|f| f.order() < key);
    // The first fact whose case-before changes: where the new fact goes, or where the restated
    // one was.
    let from = original
        .and_then(|o| others.iter().position(|f| f.order() > o.order()))
        .unwrap_or(others.len())
        .min(at);
    let mut state = Replay::from(case, &others, from);
    for fact in &others[from..at] {
        state.admit_later(fact, today)?;
    }
    let event = event_of(command, state.case(), original, on)?;
    let fact = Fact {
        id: original.map_or(Uuid::nil(), |o| o.id),
        seq,
        occurred_on: on,
        event,
    };
    admit(state.case(), &fact, today)?;
    state.evolve(&fact);
    for later in &others[at..] {
        state.admit_later(later, today)?;
    }
    Ok(vec![match original {
        None => fact.event,
        Some(original) => Event::EventCorrected(ev::EventCorrected {
            corrects: original.id,
            occurred_on: Some(on),
            replacement: Box::new(fact.event),
        }),
    }])
}

/// The case a replay goes on from: the case itself when nothing before the end changes (the
/// common case: a new fact dated today), else the fold of the facts before the change.
enum Replay<'a> {
    Borrowed(&'a Case),
    Owned(Box<Case>),
}

impl<'a> Replay<'a> {
    fn from(case: &'a Case, others: &[&Fact], from: usize) -> Self {
        if from == case.facts.len() {
            return Replay::Borrowed(case);
        }
        let mut state = Case::default();
        for fact in &others[..from] {
            state.evolve(fact);
        }
        Replay::Owned(Box::new(state))
    }

    fn case(&self) -> &Case {
        match self {
            Replay::Borrowed(case) => case,
            Replay::Owned(case) => case,
        }
    }

    fn evolve(&mut self, fact: &Fact) {
        if let Replay::Owned(case) = self {
            case.evolve(fact);
        }
    }

    /// Admits a fact that stays in the history, after the change: a failure is a contradiction.
    fn admit_later(&mut self, fact: &Fact, today: NaiveDate) -> Result<(), Rejection> {
        admit(self.case(), fact, today).map_err(|rule| contradiction(fact, rule))?;
        self.evolve(fact);
        Ok(())
    }
}

fn contradiction(fact: &Fact, rule: Rejection) -> Rejection {
    Rejection {
        code: RejectionCode::ContradictsLaterEntry,
        field: None,
        reason: format!(
            "this contradicts a later entry, of {} (\"{}\"): {}",
            fact.occurred_on,
            describe(&fact.event),
            rule.reason
        ),
        contradicts: Some(Contradiction {
            event_id: fact.id,
            occurred_on: fact.occurred_on,
            rule: rule.code,
        }),
    }
}

/// Voids an entry: the history without it must still obey the rules.
fn void(case: &Case, id: Uuid, on: NaiveDate, today: NaiveDate) -> Result<Vec<Event>, Rejection> {
    use RejectionCode::*;
    if on > today {
        return Err(reject(
            InTheFuture,
            Some("occurredOn"),
            format!("{on} is in the future"),
        ));
    }
    let fact = existing(case, id, "eventId")?;
    let refusal = match fact.event {
        Event::BeneficiaryRegistered(_) => {
            Some("the registration cannot be voided; correct it instead")
        }
        Event::PersonalDataRecorded(_) => Some(
            "personal details are not voided: record them again as they should be, or erase them",
        ),
        Event::PersonalDataErased(_) => Some("an erasure cannot be voided"),
        _ => None,
    };
    if let Some(reason) = refusal {
        return Err(reject(NotCorrectable, Some("eventId"), reason));
    }
    let others: Vec<&Fact> = case.facts.iter().filter(|f| f.id != id).collect();
    let from = others
        .iter()
        .position(|f| f.order() > fact.order())
        .unwrap_or(others.len());
    let mut state = Replay::from(case, &others, from);
    for later in &others[from..] {
        state.admit_later(later, today)?;
    }
    Ok(vec![Event::EventVoided(ev::EventVoided { voids: id })])
}

/// A fact that counts now, by the id of the event that recorded it.
fn existing<'a>(case: &'a Case, id: Uuid, field: &'static str) -> Result<&'a Fact, Rejection> {
    if let Some(fact) = case.facts.iter().find(|f| f.id == id) {
        return Ok(fact);
    }
    let reason = match case.recorded.get(&id) {
        Some(&"EventCorrected") | Some(&"EventVoided") => {
            "that entry is itself a correction or a void; name the entry it amended"
        }
        Some(_) => "that entry was voided",
        None => "there is no such entry in this person's record",
    };
    Err(reject(RejectionCode::UnknownEvent, Some(field), reason))
}

/// The fact a correction restates, if the command may restate it.
fn correctable<'a>(case: &'a Case, id: Uuid, command: &Command) -> Result<&'a Fact, Rejection> {
    use RejectionCode::*;
    let fact = existing(case, id, "corrects")?;
    let refusal = match fact.event {
        Event::BeneficiaryRegistered(_) => Some(
            "the registration is corrected with correctRegistration, which cannot change whose record it is",
        ),
        Event::PersonalDataRecorded(_) => {
            Some("personal details are not corrected: record them again as they should be")
        }
        Event::PersonalDataErased(_) => Some("an erasure cannot be corrected"),
        _ => None,
    };
    if let Some(reason) = refusal {
        return Err(reject(NotCorrectable, Some("corrects"), reason));
    }
    let original = fact.event.type_name();
    if command.records() != Some(original) {
        return Err(reject(
            CorrectionTypeMismatch,
            Some("corrects"),
            format!(
                "that entry (\"{}\") is corrected with the command that records such an entry",
                describe(&fact.event)
            ),
        ));
    }
    Ok(fact)
}

/// What the directory must confirm about the things a command names.
fn references(command: &Command, case: &Case, directory: &dyn Directory) -> Result<(), Rejection> {
    use RejectionCode::*;
    let unknown = |field, reason: &str| Err(reject(UnknownReference, Some(field), reason));
    let organisation = |field, org| {
        if directory.is_organisation(org) {
            Ok(())
        } else {
            unknown(field, "there is no such organisation in the program")
        }
    };
    match command {
        Command::RegisterBeneficiary(r) => {
            if let BeneficiaryRole::Secondary { primary, .. } = r.role
                && !directory.is_primary_beneficiary(primary)
            {
                return Err(reject(
                    PrimaryNotFound,
                    Some("primaryBeneficiaryId"),
                    "a family member must be linked to a registered primary beneficiary",
                ));
            }
            if !directory.is_caseworker_of(r.caseworker, r.organisation) {
                return unknown(
                    "caseworkerId",
                    "the caseworker must be a caseworker or supervisor of the registering organisation",
                );
            }
            Ok(())
        }
        Command::TransferCase { to_caseworker } => {
            let organisation = case.registration.as_ref().map(|r| r.organisation);
            if organisation.is_some_and(|org| directory.is_caseworker_of(*to_caseworker, org)) {
                Ok(())
            } else {
                unknown(
                    "toCaseworkerId",
                    "the case can be handed only to a caseworker or supervisor of the assisting organisation",
                )
            }
        }
        Command::GiveConsent {
            scope: ConsentScope::DataSharing { organisation: org },
            ..
        } => organisation("organisationId", *org),
        Command::ReferToOrganisation {
            to_organisation, ..
        } => organisation("toOrganisationId", *to_organisation),
        Command::PlanService {
            provider: Some(provider),
            ..
        }
        | Command::RecordServiceDelivery(Delivery {
            provider: Some(provider),
            ..
        }) => organisation("providerId", *provider),
        Command::RecordAssessment {
            framework_version,
            scores,
            ..
        } => {
            let Some(framework) = directory.framework(*framework_version) else {
                return Err(reject(
                    InvalidValue,
                    Some("frameworkVersion"),
                    format!("there is no indicator framework version {framework_version}"),
                ));
            };
            framework
                .check(scores)
                .map_err(|reason| reject(InvalidValue, Some("scores"), reason))
        }
        _ => Ok(()),
    }
}

fn registration(r: &crate::command::Registration) -> ev::BeneficiaryRegistered {
    let d = &r.details;
    ev::BeneficiaryRegistered {
        beneficiary_id: r.beneficiary_id,
        organisation: r.organisation,
        caseworker: r.caseworker,
        case_code: d.case_code.clone(),
        gender: d.gender,
        birth: d.birth,
        citizenship: d.citizenship,
        country_of_assistance: d.country_of_assistance,
        identified_on: d.identified_on,
        identification_route: d.identification_route,
        forms_of_exploitation: d.forms_of_exploitation.clone(),
        role: r.role,
    }
}

/// The event a command records, given the case as it stood on its day; a correction keeps the
/// ids the original gave (the goal, service, assessment or referral it is about).
fn event_of(
    command: &Command,
    case: &Case,
    original: Option<&Fact>,
    on: NaiveDate,
) -> Result<Event, Rejection> {
    use RejectionCode::*;
    let was = original.map(|f| &f.event);
    Ok(match command {
        Command::CorrectRegistration {
            details,
            relationship,
        } => {
            let Some(Event::BeneficiaryRegistered(old)) = was else {
                return Err(reject(
                    NotRegistered,
                    None,
                    "there is no registration to correct",
                ));
            };
            let role = match (old.role, relationship) {
                (BeneficiaryRole::Primary, Some(_)) => {
                    return Err(reject(
                        InvalidValue,
                        Some("relationship"),
                        "a relationship is recorded only for a family member",
                    ));
                }
                (BeneficiaryRole::Secondary { primary, .. }, Some(relationship)) => {
                    BeneficiaryRole::Secondary {
                        primary,
                        relationship: *relationship,
                    }
                }
                (role, None) => role,
            };
            Event::BeneficiaryRegistered(registration(&crate::command::Registration {
                beneficiary_id: old.beneficiary_id,
                organisation: old.organisation,
                caseworker: old.caseworker,
                role,
                details: details.clone(),
            }))
        }
        Command::GiveConsent {
            scope,
            given_by,
            evidence,
        } => Event::ConsentGiven(ev::ConsentGiven {
            scope: *scope,
            given_by: *given_by,
            evidence: *evidence,
        }),
        Command::WithdrawConsent {
            scope,
            withdrawn_by,
        } => Event::ConsentWithdrawn(ev::ConsentWithdrawn {
            scope: *scope,
            withdrawn_by: *withdrawn_by,
        }),
        Command::SetPlanGoal {
            goal_id,
            domain,
            target_on,
        } => Event::PlanGoalSet(ev::PlanGoalSet {
            goal_id: match was {
                Some(Event::PlanGoalSet(g)) => g.goal_id,
                _ => *goal_id,
            },
            domain: *domain,
            target_on: *target_on,
        }),
        Command::RevisePlanGoal {
            goal_id,
            domain,
            target_on,
        } => Event::PlanGoalRevised(ev::PlanGoalRevised {
            goal_id: *goal_id,
            domain: *domain,
            target_on: *target_on,
        }),
        Command::AchievePlanGoal { goal_id } => {
            Event::PlanGoalAchieved(ev::PlanGoalAchieved { goal_id: *goal_id })
        }
        Command::AbandonPlanGoal { goal_id } => {
            Event::PlanGoalAbandoned(ev::PlanGoalAbandoned { goal_id: *goal_id })
        }
        Command::ScheduleReview { due_on } => {
            Event::ReviewScheduled(ev::ReviewScheduled { due_on: *due_on })
        }
        Command::RecordPlanReview { next_review_on } => Event::PlanReviewed(ev::PlanReviewed {
            next_review_on: *next_review_on,
        }),
        Command::PlanService {
            service_id,
            service,
            provider,
            goal_id,
        } => Event::ServicePlanned(ev::ServicePlanned {
            service_id: match was {
                Some(Event::ServicePlanned(s)) => s.service_id,
                _ => *service_id,
            },
            service: *service,
            provider: *provider,
            goal_id: *goal_id,
        }),
        Command::RecordServiceDelivery(d) => {
            let service_id = match (d.service_id, was) {
                (Some(id), _) => {
                    if !case.services.contains_key(&id) {
                        return Err(reject(
                            UnknownReference,
                            Some("serviceId"),
                            format!(
                                "on {on} there was no planned or delivered service with this id; leave it out for an unplanned delivery"
                            ),
                        ));
                    }
                    id
                }
                (None, Some(Event::ServiceDelivered(old))) => old.service_id,
                (None, _) => {
                    if case.services.contains_key(&d.new_service_id) {
                        return Err(reject(
                            InvalidValue,
                            None,
                            "a service with this id exists already",
                        ));
                    }
                    d.new_service_id
                }
            };
            Event::ServiceDelivered(ev::ServiceDelivered {
                service_id,
                service: d.service,
                provider: d.provider,
                from: d.from,
                to: d.to,
                amount: d.amount,
                pre_program: d.pre_program,
            })
        }
        Command::DiscontinueService { service_id } => {
            Event::ServiceDiscontinued(ev::ServiceDiscontinued {
                service_id: *service_id,
            })
        }
        Command::RecordAssessment {
            assessment_id,
            framework_version,
            scores,
        } => Event::AssessmentRecorded(ev::AssessmentRecorded {
            assessment_id: match was {
                Some(Event::AssessmentRecorded(a)) => a.assessment_id,
                _ => *assessment_id,
            },
            framework_version: *framework_version,
            scores: scores.clone(),
        }),
        Command::ChangeStatus { to } => Event::StatusChanged(ev::StatusChanged { to: *to }),
        Command::ReferToOrganisation {
            referral_id,
            to_organisation,
        } => Event::ReferredToOrganisation(ev::ReferredToOrganisation {
            referral_id: match was {
                Some(Event::ReferredToOrganisation(r)) => r.referral_id,
                _ => *referral_id,
            },
            to_organisation: *to_organisation,
        }),
        Command::AcceptReferral { referral_id } => Event::ReferralAccepted(ev::ReferralAccepted {
            referral_id: *referral_id,
        }),
        Command::TransferCase { to_caseworker } => Event::CaseTransferred(ev::CaseTransferred {
            to_caseworker: *to_caseworker,
        }),
        Command::CloseCase => Event::CaseClosed(ev::CaseClosed {
            outcome: case.status.unwrap_or(crate::Status::Identified),
        }),
        Command::ReopenCase => Event::CaseReopened(ev::CaseReopened {}),
        Command::RecordFollowUpContact { observed_status } => {
            Event::FollowUpContactMade(ev::FollowUpContactMade {
                observed_status: *observed_status,
            })
        }
        Command::RecordPersonalData { fields } => {
            Event::PersonalDataRecorded(ev::PersonalDataRecorded {
                fields: fields.clone(),
            })
        }
        Command::ErasePersonalData { reason } => {
            Event::PersonalDataErased(ev::PersonalDataErased { reason: *reason })
        }
        Command::RegisterBeneficiary(_) | Command::VoidEvent { .. } => {
            return Err(reject(
                InvalidValue,
                None,
                "registrations and voids are decided on their own",
            ));
        }
    })
}

#[cfg(test)]
mod tests;

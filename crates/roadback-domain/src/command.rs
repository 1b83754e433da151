//! Commands: what a user asks to record, in the terms of the API's inputs. A command is not an
//! event: it says what is asked (a status to move to, a planned service to deliver), and
//! [`decide`](crate::decide) turns it into the events that record it, or refuses it.
//!
//! A command restating an earlier entry (`corrects`) is a correction: it is given exactly as the
//! original command was, and is decided like any other, against the case as it stood on its date.

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use crate::events::{BeneficiaryRole, DomainScore, Money, ServiceType};
use crate::personal::{ErasureReason, PersonalField};
use crate::status::Status;
use crate::vocabulary::{
    Birth, ConsentGiver, ConsentScope, CountryCode, FormOfExploitation, Gender,
    IdentificationRoute, ReintegrationDomain, Relationship,
};

/// A command with the day it concerns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Request {
    /// When it happened (valid time).
    pub occurred_on: NaiveDate,
    /// For a correction: the entry this command restates (same kind of entry).
    pub corrects: Option<Uuid>,
    /// What is asked.
    pub command: Command,
}

impl Request {
    /// A new fact (not a correction).
    pub fn new(occurred_on: NaiveDate, command: Command) -> Self {
        Self {
            occurred_on,
            corrects: None,
            command,
        }
    }

    /// A correction of the entry `corrects`.
    pub fn correcting(corrects: Uuid, occurred_on: NaiveDate, command: Command) -> Self {
        Self {
            occurred_on,
            corrects: Some(corrects),
            command,
        }
    }
}

/// What a registration says about the person, apart from whose record it is: the part a
/// correction may change.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegistrationDetails {
    /// The organisation's case code (letters, digits and `-_./`; not a name).
    pub case_code: String,
    /// Gender (HTCDS).
    pub gender: Gender,
    /// Year of birth, and month when known.
    pub birth: Option<Birth>,
    /// Citizenship.
    pub citizenship: CountryCode,
    /// Country where assistance is given.
    pub country_of_assistance: CountryCode,
    /// The day they were identified as trafficked.
    pub identified_on: NaiveDate,
    /// How they came to the program.
    pub identification_route: IdentificationRoute,
    /// Forms of exploitation suffered.
    pub forms_of_exploitation: Vec<FormOfExploitation>,
}

/// A new beneficiary's registration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Registration {
    /// The new beneficiary's id.
    pub beneficiary_id: Uuid,
    /// The registering organisation.
    pub organisation: Uuid,
    /// The caseworker responsible (a member of the organisation).
    pub caseworker: Uuid,
    /// Primary, or a family member linked to a primary beneficiary.
    pub role: BeneficiaryRole,
    /// What is recorded about the person.
    pub details: RegistrationDetails,
}

/// A service delivered.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Delivery {
    /// The planned (or earlier delivered) service this delivers; None for an unplanned one (in a
    /// correction: None keeps the entry's service).
    pub service_id: Option<Uuid>,
    /// The id an unplanned delivery's service gets.
    pub new_service_id: Uuid,
    /// What kind of service.
    pub service: ServiceType,
    /// The providing organisation (None: an external provider).
    pub provider: Option<Uuid>,
    /// First day of delivery: the day the entry is dated.
    pub from: NaiveDate,
    /// Last day (None: a single day).
    pub to: Option<NaiveDate>,
    /// What it cost.
    pub amount: Option<Money>,
    /// A service from before identification (earlier schooling...).
    pub pre_program: bool,
}

/// Everything a user can ask to record about a beneficiary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Command {
    /// Register a beneficiary (the first entry of a record).
    RegisterBeneficiary(Registration),
    /// Correct what the registration says about the person (never whose record it is).
    CorrectRegistration {
        /// The details as they should have been recorded.
        details: RegistrationDetails,
        /// For a family member: the relationship as it should have been recorded.
        relationship: Option<Relationship>,
    },
    /// Record consent given.
    GiveConsent {
        /// What it covers.
        scope: ConsentScope,
        /// The person or a guardian.
        given_by: ConsentGiver,
        /// How it was evidenced.
        evidence: crate::events::ConsentEvidence,
    },
    /// Record consent withdrawn.
    WithdrawConsent {
        /// What no longer is covered.
        scope: ConsentScope,
        /// Who withdrew it.
        withdrawn_by: ConsentGiver,
    },
    /// Agree a plan goal.
    SetPlanGoal {
        /// The new goal's id.
        goal_id: Uuid,
        /// Its domain.
        domain: ReintegrationDomain,
        /// When it should be reached.
        target_on: Option<NaiveDate>,
    },
    /// Revise an open goal.
    RevisePlanGoal {
        /// The goal.
        goal_id: Uuid,
        /// Its domain now.
        domain: ReintegrationDomain,
        /// Its target now.
        target_on: Option<NaiveDate>,
    },
    /// Record an open goal achieved.
    AchievePlanGoal {
        /// The goal.
        goal_id: Uuid,
    },
    /// Record an open goal given up.
    AbandonPlanGoal {
        /// The goal.
        goal_id: Uuid,
    },
    /// Schedule a plan review.
    ScheduleReview {
        /// When it is due.
        due_on: NaiveDate,
    },
    /// Record a plan review.
    RecordPlanReview {
        /// The next review, if set.
        next_review_on: Option<NaiveDate>,
    },
    /// Plan a service.
    PlanService {
        /// The new service's id.
        service_id: Uuid,
        /// What kind.
        service: ServiceType,
        /// The providing organisation (None: external).
        provider: Option<Uuid>,
        /// The open goal it serves.
        goal_id: Option<Uuid>,
    },
    /// Record a service delivered.
    RecordServiceDelivery(Delivery),
    /// Stop a planned or running service.
    DiscontinueService {
        /// The service.
        service_id: Uuid,
    },
    /// Record a monitoring assessment.
    RecordAssessment {
        /// The new assessment's id.
        assessment_id: Uuid,
        /// The framework version scored against.
        framework_version: u32,
        /// The scores.
        scores: Vec<DomainScore>,
    },
    /// Change the reintegration status.
    ChangeStatus {
        /// The status from that day.
        to: Status,
    },
    /// Refer the case to another organisation.
    ReferToOrganisation {
        /// The new referral's id.
        referral_id: Uuid,
        /// The receiving organisation.
        to_organisation: Uuid,
    },
    /// Accept an open referral.
    AcceptReferral {
        /// The referral.
        referral_id: Uuid,
    },
    /// Hand the case to another caseworker of the organisation.
    TransferCase {
        /// The new caseworker.
        to_caseworker: Uuid,
    },
    /// Close the case (its status that day is the outcome).
    CloseCase,
    /// Reopen a closed case.
    ReopenCase,
    /// Record a contact after closure.
    RecordFollowUpContact {
        /// The status observed, if assessed.
        observed_status: Option<Status>,
    },
    /// Record the person's details (kept in the vault; the event names the fields).
    RecordPersonalData {
        /// The fields holding a value.
        fields: Vec<PersonalField>,
    },
    /// Erase the person's personal data for good.
    ErasePersonalData {
        /// Why.
        reason: ErasureReason,
    },
    /// Void an entry recorded in error.
    VoidEvent {
        /// The entry.
        event_id: Uuid,
    },
}

impl Command {
    /// The command's name, as the variant is called; the API's mutation is this name in
    /// lower camel case (`ChangeStatus`: `changeStatus`), and the fields a rejection names are
    /// that mutation's input fields.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RegisterBeneficiary(_) => "RegisterBeneficiary",
            Self::CorrectRegistration { .. } => "CorrectRegistration",
            Self::GiveConsent { .. } => "GiveConsent",
            Self::WithdrawConsent { .. } => "WithdrawConsent",
            Self::SetPlanGoal { .. } => "SetPlanGoal",
            Self::RevisePlanGoal { .. } => "RevisePlanGoal",
            Self::AchievePlanGoal { .. } => "AchievePlanGoal",
            Self::AbandonPlanGoal { .. } => "AbandonPlanGoal",
            Self::ScheduleReview { .. } => "ScheduleReview",
            Self::RecordPlanReview { .. } => "RecordPlanReview",
            Self::PlanService { .. } => "PlanService",
            Self::RecordServiceDelivery(_) => "RecordServiceDelivery",
            Self::DiscontinueService { .. } => "DiscontinueService",
            Self::RecordAssessment { .. } => "RecordAssessment",
            Self::ChangeStatus { .. } => "ChangeStatus",
            Self::ReferToOrganisation { .. } => "ReferToOrganisation",
            Self::AcceptReferral { .. } => "AcceptReferral",
            Self::TransferCase { .. } => "TransferCase",
            Self::CloseCase => "CloseCase",
            Self::ReopenCase => "ReopenCase",
            Self::RecordFollowUpContact { .. } => "RecordFollowUpContact",
            Self::RecordPersonalData { .. } => "RecordPersonalData",
            Self::ErasePersonalData { .. } => "ErasePersonalData",
            Self::VoidEvent { .. } => "VoidEvent",
        }
    }

    /// The type of the event this command records (a correction's original has the same);
    /// None for a void, which records no fact of its own.
    pub fn records(&self) -> Option<&'static str> {
        Some(match self {
            Self::RegisterBeneficiary(_) | Self::CorrectRegistration { .. } => {
                "BeneficiaryRegistered"
            }
            Self::GiveConsent { .. } => "ConsentGiven",
            Self::WithdrawConsent { .. } => "ConsentWithdrawn",
            Self::SetPlanGoal { .. } => "PlanGoalSet",
            Self::RevisePlanGoal { .. } => "PlanGoalRevised",
            Self::AchievePlanGoal { .. } => "PlanGoalAchieved",
            Self::AbandonPlanGoal { .. } => "PlanGoalAbandoned",
            Self::ScheduleReview { .. } => "ReviewScheduled",
            Self::RecordPlanReview { .. } => "PlanReviewed",
            Self::PlanService { .. } => "ServicePlanned",
            Self::RecordServiceDelivery(_) => "ServiceDelivered",
            Self::DiscontinueService { .. } => "ServiceDiscontinued",
            Self::RecordAssessment { .. } => "AssessmentRecorded",
            Self::ChangeStatus { .. } => "StatusChanged",
            Self::ReferToOrganisation { .. } => "ReferredToOrganisation",
            Self::AcceptReferral { .. } => "ReferralAccepted",
            Self::TransferCase { .. } => "CaseTransferred",
            Self::CloseCase => "CaseClosed",
            Self::ReopenCase => "CaseReopened",
            Self::RecordFollowUpContact { .. } => "FollowUpContactMade",
            Self::RecordPersonalData { .. } => "PersonalDataRecorded",
            Self::ErasePersonalData { .. } => "PersonalDataErased",
            Self::VoidEvent { .. } => return None,
        })
    }

    /// Users the command names, which the directory must know (to check them).
    pub fn named_users(&self) -> Vec<Uuid> {
        match self {
            Self::RegisterBeneficiary(r) => vec![r.caseworker],
            Self::TransferCase { to_caseworker } => vec![*to_caseworker],
            _ => Vec::new(),
        }
    }

    /// Organisations the command names.
    pub fn named_organisations(&self) -> Vec<Uuid> {
        match self {
            Self::GiveConsent {
                scope: ConsentScope::DataSharing { organisation },
                ..
            }
            | Self::WithdrawConsent {
                scope: ConsentScope::DataSharing { organisation },
                ..
            }
            | Self::ReferToOrganisation {
                to_organisation: organisation,
                ..
            }
            | Self::PlanService {
                provider: Some(organisation),
                ..
            }
            | Self::RecordServiceDelivery(Delivery {
                provider: Some(organisation),
                ..
            }) => vec![*organisation],
            Self::RegisterBeneficiary(r) => vec![r.organisation],
            _ => Vec::new(),
        }
    }
}

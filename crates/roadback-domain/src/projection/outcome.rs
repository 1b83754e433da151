//! The longitudinal outcome view of one beneficiary: the dates and durations evaluators study.
//!
//! Status transitions are read in valid time (the order things happened, not the order they were
//! recorded), so a backdated entry lands where it belongs.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::case::Case;
use crate::events::{BeneficiaryRole, DomainScore, Event, ServiceType};
use crate::status::Status;
use crate::vocabulary::{
    ConsentScope, CountryCode, FormOfExploitation, Gender, IdentificationRoute, Relationship,
};

/// A status transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The day it happened.
    pub on: NaiveDate,
    /// The status before.
    pub from: Status,
    /// The status after.
    pub to: Status,
}

/// The end of an episode other than reintegration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    /// The day it happened.
    pub on: NaiveDate,
    /// How: dropped out, lost contact, re-trafficked, moved abroad or deceased.
    pub status: Status,
}

/// Days spent in one status (all spells added up).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTime {
    /// The status.
    pub status: Status,
    /// Days spent in it.
    pub days: i64,
}

/// One assessment's scores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The day it was made.
    pub on: NaiveDate,
    /// The framework version scored against.
    pub framework_version: u32,
    /// The scores.
    pub scores: Vec<DomainScore>,
}

/// The services a person received.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicesReceived {
    /// Deliveries recorded.
    pub deliveries: u32,
    /// Deliveries by kind of service.
    pub by_kind: BTreeMap<ServiceType, u32>,
    /// Calendar months in which at least one service was delivered.
    pub months_of_support: u32,
}

/// The longitudinal outcome view of one beneficiary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The beneficiary.
    pub beneficiary_id: Uuid,
    /// The assisting organisation.
    pub organisation: Uuid,
    /// True for a trafficked person, false for a family member.
    pub primary: bool,
    /// For a family member: the trafficked person they are assisted with.
    pub primary_beneficiary_id: Option<Uuid>,
    /// For a family member: how they are related to that person.
    pub relationship: Option<Relationship>,
    /// Gender.
    pub gender: Gender,
    /// Age in whole years on the identification day, when the birth month is known.
    pub age_at_identification: Option<i32>,
    /// Citizenship.
    pub citizenship: CountryCode,
    /// Country of assistance.
    pub country_of_assistance: CountryCode,
    /// How they came to the program.
    pub identification_route: IdentificationRoute,
    /// Forms of exploitation suffered.
    pub forms_of_exploitation: Vec<FormOfExploitation>,
    /// The day they were identified.
    pub identified_on: NaiveDate,
    /// The day they were taken into the program (the registration's date).
    pub intake_on: NaiveDate,
    /// The first day a service was delivered.
    pub first_service_on: Option<NaiveDate>,
    /// Every status transition, in the order they happened.
    pub transitions: Vec<Transition>,
    /// The first day they were reintegrated.
    pub reintegrated_on: Option<NaiveDate>,
    /// The first exit other than reintegration.
    pub exit: Option<Exit>,
    /// The status as of the view's day.
    pub status: Status,
    /// The day the case was closed, if it is closed.
    pub closed_on: Option<NaiveDate>,
    /// Days in each status, from identification to closure (or the view's day if open).
    pub time_in_stage: Vec<StageTime>,
    /// Assessments, in the order they were made.
    pub assessments: Vec<Assessment>,
    /// Services received.
    pub services: ServicesReceived,
    /// True while consent to de-identified evaluation use is in force.
    pub evaluation_consent: bool,
    /// The day of the last recorded contact: the latest fact of the record (a follow-up
    /// contact, an assessment, a service, any entry) on or before the view's day.
    pub last_contact_on: NaiveDate,
    /// The day the view's durations run to.
    pub until: NaiveDate,
}

impl Outcome {
    /// The outcome view of a case, with durations running to `until` for an open case.
    pub fn of(case: &Case, until: NaiveDate) -> Option<Self> {
        let registration = case.registration.as_ref()?;
        // Facts are in the order they count: the registration, then by day.
        let facts = &case.facts;
        let intake_on = case
            .facts
            .first()
            .map_or(registration.identified_on, |f| f.occurred_on);

        let mut transitions: Vec<Transition> = Vec::new();
        let mut assessments = Vec::new();
        let mut services = ServicesReceived::default();
        let mut months = BTreeSet::new();
        let mut first_service_on: Option<NaiveDate> = None;
        let mut closed_on = None;
        for fact in facts {
            match &fact.event {
                Event::StatusChanged(s) => transitions.push(Transition {
                    on: fact.occurred_on,
                    from: transitions.last().map_or(Status::Identified, |t| t.to),
                    to: s.to,
                }),
                Event::AssessmentRecorded(a) => assessments.push(Assessment {
                    on: fact.occurred_on,
                    framework_version: a.framework_version,
                    scores: a.scores.clone(),
                }),
                Event::ServiceDelivered(s) => {
                    services.deliveries += 1;
                    *services.by_kind.entry(s.service).or_default() += 1;
                    first_service_on = Some(first_service_on.map_or(s.from, |d| d.min(s.from)));
                    let mut month = (s.from.year(), s.from.month());
                    let last = s.to.unwrap_or(s.from).max(s.from);
                    while month <= (last.year(), last.month()) {
                        months.insert(month);
                        month = if month.1 == 12 {
                            (month.0 + 1, 1)
                        } else {
                            (month.0, month.1 + 1)
                        };
                    }
                }
                Event::CaseClosed(_) => closed_on = Some(fact.occurred_on),
                Event::CaseReopened(_) => closed_on = None,
                _ => {}
            }
        }
        services.months_of_support = months.len() as u32;
        let closed_on = closed_on.filter(|_| case.closed);

        let reintegrated_on = transitions
            .iter()
            .find(|t| t.to == Status::Reintegrated)
            .map(|t| t.on);
        let exit = transitions
            .iter()
            .find(|t| t.to.is_exit() && t.to != Status::Reintegrated)
            .map(|t| Exit {
                on: t.on,
                status: t.to,
            });

        let end = closed_on.unwrap_or(until).max(registration.identified_on);
        let mut days: BTreeMap<Status, i64> = BTreeMap::new();
        let mut spell = (Status::Identified, registration.identified_on);
        for t in &transitions {
            let on = t.on.clamp(spell.1, end.max(spell.1));
            *days.entry(spell.0).or_default() += (on - spell.1).num_days();
            spell = (t.to, on);
        }
        *days.entry(spell.0).or_default() += (end - spell.1).num_days().max(0);

        Some(Self {
            beneficiary_id: registration.beneficiary_id,
            organisation: registration.organisation,
            primary: matches!(registration.role, BeneficiaryRole::Primary),
            primary_beneficiary_id: match registration.role {
                BeneficiaryRole::Secondary { primary, .. } => Some(primary),
                BeneficiaryRole::Primary => None,
            },
            relationship: match registration.role {
                BeneficiaryRole::Secondary { relationship, .. } => Some(relationship),
                BeneficiaryRole::Primary => None,
            },
            gender: registration.gender,
            age_at_identification: registration
                .birth
                .map(|b| b.age_on(registration.identified_on)),
            citizenship: registration.citizenship,
            country_of_assistance: registration.country_of_assistance,
            identification_route: registration.identification_route,
            forms_of_exploitation: registration.forms_of_exploitation.clone(),
            identified_on: registration.identified_on,
            intake_on,
            first_service_on,
            transitions,
            reintegrated_on,
            exit,
            status: case.status.unwrap_or(Status::Identified),
            closed_on,
            time_in_stage: days
                .into_iter()
                .map(|(status, days)| StageTime { status, days })
                .collect(),
            assessments,
            services,
            evaluation_consent: case.has_consent(ConsentScope::EvaluationUse),
            last_contact_on: facts
                .iter()
                .map(|f| f.occurred_on)
                .filter(|on| *on <= until)
                .max()
                .unwrap_or(registration.identified_on)
                .max(registration.identified_on),
            until,
        })
    }
}

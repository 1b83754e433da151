//! The current plan of one beneficiary: status, consents in force, goals by domain, services,
//! referrals, next review and caseworker.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::case::{Case, ConsentInForce, Goal, Referral, Service};
use crate::events::BeneficiaryRole;
use crate::status::Status;

/// A goal of the plan with its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanGoal {
    /// The goal's id.
    pub goal_id: Uuid,
    /// The goal.
    #[serde(flatten)]
    pub goal: Goal,
}

/// A service of the plan with its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanService {
    /// The service's id.
    pub service_id: Uuid,
    /// The service.
    #[serde(flatten)]
    pub service: Service,
}

/// A referral with its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanReferral {
    /// The referral's id.
    pub referral_id: Uuid,
    /// The referral.
    #[serde(flatten)]
    pub referral: Referral,
}

/// The current individual reintegration plan of one beneficiary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The beneficiary.
    pub beneficiary_id: Uuid,
    /// The stream version this plan reflects.
    pub version: u64,
    /// The assisting organisation.
    pub organisation: Uuid,
    /// The organisation's case code.
    pub case_code: String,
    /// Primary, or secondary and linked to whom.
    pub role: BeneficiaryRole,
    /// The caseworker responsible.
    pub caseworker: Uuid,
    /// The reintegration status.
    pub status: Status,
    /// The day the status began.
    pub status_since: NaiveDate,
    /// True while the case is closed.
    pub closed: bool,
    /// The day they were identified.
    pub identified_on: NaiveDate,
    /// Consents in force.
    pub consents: Vec<ConsentInForce>,
    /// Goals, grouped by domain (in the framework's order of domains), then by the day set.
    pub goals: Vec<PlanGoal>,
    /// Services planned and delivered, by first date.
    pub services: Vec<PlanService>,
    /// Referrals to other organisations.
    pub referrals: Vec<PlanReferral>,
    /// The next plan review, if scheduled.
    pub next_review_on: Option<NaiveDate>,
    /// The latest day anything happened.
    pub last_activity_on: NaiveDate,
    /// True once the person's personal data was erased.
    #[serde(default)]
    pub erased: bool,
}

impl Plan {
    /// The plan of a case at `version`, once the person is registered.
    pub fn of(case: &Case, version: u64) -> Option<Self> {
        let registration = case.registration.as_ref()?;
        let mut goals: Vec<PlanGoal> = case
            .goals
            .iter()
            .map(|(id, goal)| PlanGoal {
                goal_id: *id,
                goal: *goal,
            })
            .collect();
        goals.sort_by_key(|g| (g.goal.domain, g.goal.set_on, g.goal_id));
        let mut services: Vec<PlanService> = case
            .services
            .iter()
            .map(|(id, service)| PlanService {
                service_id: *id,
                service: *service,
            })
            .collect();
        services.sort_by_key(|s| {
            (
                s.service.planned_on.or(s.service.first_delivered_on),
                s.service_id,
            )
        });
        Some(Self {
            beneficiary_id: registration.beneficiary_id,
            version,
            organisation: registration.organisation,
            case_code: registration.case_code.clone(),
            role: registration.role,
            caseworker: case.caseworker.unwrap_or(registration.caseworker),
            status: case.status.unwrap_or(Status::Identified),
            status_since: case.status_since.unwrap_or(registration.identified_on),
            closed: case.closed,
            identified_on: registration.identified_on,
            consents: case.consents.values().copied().collect(),
            goals,
            services,
            referrals: case
                .referrals
                .iter()
                .map(|(id, referral)| PlanReferral {
                    referral_id: *id,
                    referral: *referral,
                })
                .collect(),
            next_review_on: case.next_review_on,
            last_activity_on: case.last_activity_on.unwrap_or(registration.identified_on),
            erased: case.erased,
        })
    }

    /// True when a review was due before `today` and the case is open.
    pub fn review_overdue(&self, today: NaiveDate) -> bool {
        !self.closed && self.next_review_on.is_some_and(|due| due < today)
    }
}

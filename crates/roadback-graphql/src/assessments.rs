//! Monitoring: assessments against the indicator framework, the framework itself, and the
//! longitudinal outcome view they feed (a beneficiary's `outcome` and evaluation records).

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use roadback_domain::Command;
use roadback_domain::access::Action;
use roadback_domain::projection;

use crate::command::{Change, new_id, record};
use crate::context::{guard, state};
use crate::error::ApiError;
use crate::vocabulary::{RecordResult, ReintegrationDomain, ServiceType, Status};

/// One domain's score in an assessment.
#[derive(SimpleObject, Clone, Debug)]
pub struct DomainScore {
    /// The domain.
    pub domain: ReintegrationDomain,
    /// The score on the framework's scale.
    pub score: u8,
}

/// A monitoring assessment.
#[derive(SimpleObject, Clone, Debug)]
pub struct Assessment {
    /// The day it was made.
    pub on: NaiveDate,
    /// The indicator framework version scored against.
    pub framework_version: u32,
    /// The scores.
    pub scores: Vec<DomainScore>,
}

/// A status transition.
#[derive(SimpleObject, Clone, Debug)]
pub struct Transition {
    /// The day it happened.
    pub on: NaiveDate,
    /// The status before.
    pub from: Status,
    /// The status after.
    pub to: Status,
}

/// Days spent in one status.
#[derive(SimpleObject, Clone, Debug)]
pub struct StageTime {
    /// The status.
    pub status: Status,
    /// Days in it.
    pub days: i64,
}

/// Deliveries of one kind of service.
#[derive(SimpleObject, Clone, Debug)]
pub struct ServiceCount {
    /// The kind.
    pub service: ServiceType,
    /// Deliveries.
    pub deliveries: u32,
}

/// The longitudinal outcome view of a beneficiary.
#[derive(SimpleObject, Clone, Debug)]
pub struct Outcome {
    /// The day they were identified.
    pub identified_on: NaiveDate,
    /// The day they were taken into the program.
    pub intake_on: NaiveDate,
    /// The first day a service was delivered.
    pub first_service_on: Option<NaiveDate>,
    /// Every status transition, in the order they happened.
    pub transitions: Vec<Transition>,
    /// The first day they were reintegrated.
    pub reintegrated_on: Option<NaiveDate>,
    /// The first exit other than reintegration.
    pub exit_status: Option<Status>,
    /// The day of that exit.
    pub exit_on: Option<NaiveDate>,
    /// The status as of the view's day.
    pub status: Status,
    /// The day the case was closed, if it is.
    pub closed_on: Option<NaiveDate>,
    /// Days in each status.
    pub time_in_stage: Vec<StageTime>,
    /// Assessments over time.
    pub assessments: Vec<Assessment>,
    /// Deliveries by kind of service.
    pub services: Vec<ServiceCount>,
    /// Calendar months with at least one service delivered.
    pub months_of_support: u32,
    /// The day of the last recorded contact (the latest entry of the record).
    pub last_contact_on: NaiveDate,
    /// The day durations run to.
    pub until: NaiveDate,
}

impl From<&projection::Outcome> for Outcome {
    fn from(o: &projection::Outcome) -> Self {
        Self {
            identified_on: o.identified_on,
            intake_on: o.intake_on,
            first_service_on: o.first_service_on,
            transitions: o
                .transitions
                .iter()
                .map(|t| Transition {
                    on: t.on,
                    from: t.from.into(),
                    to: t.to.into(),
                })
                .collect(),
            reintegrated_on: o.reintegrated_on,
            last_contact_on: o.last_contact_on,
            exit_status: o.exit.map(|e| e.status.into()),
            exit_on: o.exit.map(|e| e.on),
            status: o.status.into(),
            closed_on: o.closed_on,
            time_in_stage: o
                .time_in_stage
                .iter()
                .map(|s| StageTime {
                    status: s.status.into(),
                    days: s.days,
                })
                .collect(),
            assessments: o
                .assessments
                .iter()
                .map(|a| Assessment {
                    on: a.on,
                    framework_version: a.framework_version,
                    scores: a
                        .scores
                        .iter()
                        .map(|s| DomainScore {
                            domain: s.domain.into(),
                            score: s.score,
                        })
                        .collect(),
                })
                .collect(),
            services: o
                .services
                .by_kind
                .iter()
                .map(|(k, n)| ServiceCount {
                    service: (*k).into(),
                    deliveries: *n,
                })
                .collect(),
            months_of_support: o.services.months_of_support,
            until: o.until,
        }
    }
}

/// One indicator of the framework.
#[derive(SimpleObject, Clone, Debug)]
pub struct Indicator {
    /// The domain scored.
    pub domain: ReintegrationDomain,
    /// What is observed.
    pub question: String,
    /// The scale's labels from score 1 upwards.
    pub scale: Vec<String>,
    /// How the score is verified.
    pub means_of_verification: String,
}

/// A version of the indicator framework.
#[derive(SimpleObject, Clone, Debug)]
pub struct IndicatorFramework {
    /// The version.
    pub version: u32,
    /// Its name.
    pub name: String,
    /// One indicator per domain.
    pub indicators: Vec<Indicator>,
}

impl From<&roadback_domain::indicators::Framework> for IndicatorFramework {
    fn from(f: &roadback_domain::indicators::Framework) -> Self {
        Self {
            version: f.version,
            name: f.name.clone(),
            indicators: f
                .indicators
                .iter()
                .map(|i| Indicator {
                    domain: i.domain.into(),
                    question: i.question.clone(),
                    scale: i.scale.clone(),
                    means_of_verification: i.means_of_verification.clone(),
                })
                .collect(),
        }
    }
}

/// One domain's score.
#[derive(InputObject)]
pub struct DomainScoreInput {
    /// The domain.
    pub domain: ReintegrationDomain,
    /// The score on the framework's scale (1 = lowest).
    pub score: u8,
}

/// A monitoring assessment.
#[derive(InputObject)]
pub struct RecordAssessmentInput {
    #[graphql(flatten)]
    change: Change,
    /// The indicator framework version scored against.
    pub framework_version: u32,
    /// One score per assessed domain.
    pub scores: Vec<DomainScoreInput>,
}

/// The indicator framework.
#[derive(Default)]
pub struct AssessmentQuery;

#[Object]
impl AssessmentQuery {
    /// A version of the indicator framework (the latest when no version is given).
    async fn indicator_framework(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The version; the latest when absent.")] version: Option<u32>,
    ) -> Result<IndicatorFramework, ApiError> {
        guard(ctx, Action::ReadDirectory, None)?;
        let frameworks = &state(ctx).frameworks;
        let framework = match version {
            Some(v) => frameworks.iter().find(|f| f.version == v),
            None => frameworks.iter().max_by_key(|f| f.version),
        };
        framework
            .map(IndicatorFramework::from)
            .ok_or_else(|| ApiError::NotFound("this indicator framework version".into()))
    }
}

/// Assessments recorded.
#[derive(Default)]
pub struct AssessmentMutation;

#[Object]
impl AssessmentMutation {
    /// Records a monitoring assessment against the indicator framework.
    async fn record_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: RecordAssessmentInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::RecordAssessment {
            assessment_id: new_id(ctx, &input.change)?,
            framework_version: input.framework_version,
            scores: input
                .scores
                .iter()
                .map(|s| roadback_domain::events::DomainScore {
                    domain: s.domain.into(),
                    score: s.score,
                })
                .collect(),
        };
        record(ctx, &input.change, command).await
    }
}

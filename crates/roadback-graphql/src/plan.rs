//! The individual reintegration plan: its view (goals, services, referrals, consents, reviews)
//! and the changes to its goals and reviews.

use async_graphql::{ComplexObject, Context, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use roadback_domain::Command;
use roadback_domain::projection::{Plan, PlanGoal};
use uuid::Uuid;

use crate::command::{Change, new_id, record};
use crate::consent::Consent;
use crate::error::ApiError;
use crate::loaders::user_name;
use crate::referrals::Referral;
use crate::services::Service;
use crate::vocabulary::{GoalState, RecordResult, ReintegrationDomain, Status};

/// The current individual reintegration plan of a beneficiary.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct PlanView {
    /// The record's version this plan reflects.
    pub version: u64,
    /// The reintegration status.
    pub status: Status,
    /// The day the status began.
    pub status_since: NaiveDate,
    /// True while the case is closed.
    pub closed: bool,
    /// The caseworker responsible (their id).
    pub caseworker_id: Uuid,
    /// Consents in force.
    pub consents: Vec<Consent>,
    /// Goals by domain.
    pub goals: Vec<Goal>,
    /// Services planned and delivered.
    pub services: Vec<Service>,
    /// Referrals to other organisations.
    pub referrals: Vec<Referral>,
    /// The next plan review.
    pub next_review_on: Option<NaiveDate>,
    /// The latest day anything happened.
    pub last_activity_on: NaiveDate,
}

#[ComplexObject]
impl PlanView {
    /// The caseworker's name.
    async fn caseworker_name(&self, ctx: &Context<'_>) -> Result<Option<String>, ApiError> {
        user_name(ctx, self.caseworker_id).await
    }
}

impl From<&Plan> for PlanView {
    fn from(p: &Plan) -> Self {
        Self {
            version: p.version,
            status: p.status.into(),
            status_since: p.status_since,
            closed: p.closed,
            caseworker_id: p.caseworker,
            consents: p.consents.iter().map(Consent::from).collect(),
            goals: p.goals.iter().map(Goal::from).collect(),
            services: p.services.iter().map(Service::from).collect(),
            referrals: p.referrals.iter().map(Referral::from).collect(),
            next_review_on: p.next_review_on,
            last_activity_on: p.last_activity_on,
        }
    }
}

/// A goal of the individual reintegration plan.
#[derive(SimpleObject, Clone, Debug)]
pub struct Goal {
    /// The goal's id.
    pub id: Uuid,
    /// The domain it serves.
    pub domain: ReintegrationDomain,
    /// When it should be reached.
    pub target_on: Option<NaiveDate>,
    /// Where it stands.
    pub state: GoalState,
    /// The day it was agreed.
    pub set_on: NaiveDate,
    /// The day it was achieved or abandoned.
    pub closed_on: Option<NaiveDate>,
}

impl From<&PlanGoal> for Goal {
    fn from(g: &PlanGoal) -> Self {
        Self {
            id: g.goal_id,
            domain: g.goal.domain.into(),
            target_on: g.goal.target_on,
            state: g.goal.state.into(),
            set_on: g.goal.set_on,
            closed_on: g.goal.closed_on,
        }
    }
}

/// A plan goal agreed.
#[derive(InputObject)]
pub struct SetPlanGoalInput {
    #[graphql(flatten)]
    change: Change,
    /// The domain it serves.
    pub domain: ReintegrationDomain,
    /// When it should be reached.
    pub target_on: Option<NaiveDate>,
}

/// A plan goal revised.
#[derive(InputObject)]
pub struct RevisePlanGoalInput {
    #[graphql(flatten)]
    change: Change,
    /// The goal.
    pub goal_id: Uuid,
    /// Its domain now.
    pub domain: ReintegrationDomain,
    /// Its target date now.
    pub target_on: Option<NaiveDate>,
}

/// A plan goal achieved or abandoned.
#[derive(InputObject)]
pub struct GoalInput {
    #[graphql(flatten)]
    change: Change,
    /// The goal.
    pub goal_id: Uuid,
}

/// A review scheduled.
#[derive(InputObject)]
pub struct ScheduleReviewInput {
    #[graphql(flatten)]
    change: Change,
    /// The day it is due.
    pub due_on: NaiveDate,
}

/// The plan reviewed.
#[derive(InputObject)]
pub struct RecordPlanReviewInput {
    #[graphql(flatten)]
    change: Change,
    /// The next review, if one was set.
    pub next_review_on: Option<NaiveDate>,
}

/// Changes to the plan's goals and reviews.
#[derive(Default)]
pub struct PlanMutation;

#[Object]
impl PlanMutation {
    /// Agrees a goal of the individual reintegration plan (its id is in the appended event).
    async fn set_plan_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: SetPlanGoalInput,
    ) -> Result<RecordResult, ApiError> {
        let goal_id = new_id(ctx, &input.change)?;
        let command = Command::SetPlanGoal {
            goal_id,
            domain: input.domain.into(),
            target_on: input.target_on,
        };
        record(ctx, &input.change, command).await
    }

    /// Revises a goal's domain or target date.
    async fn revise_plan_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: RevisePlanGoalInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::RevisePlanGoal {
            goal_id: input.goal_id,
            domain: input.domain.into(),
            target_on: input.target_on,
        };
        record(ctx, &input.change, command).await
    }

    /// Records a goal achieved.
    async fn achieve_plan_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: GoalInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::AchievePlanGoal {
            goal_id: input.goal_id,
        };
        record(ctx, &input.change, command).await
    }

    /// Records a goal given up.
    async fn abandon_plan_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: GoalInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::AbandonPlanGoal {
            goal_id: input.goal_id,
        };
        record(ctx, &input.change, command).await
    }

    /// Schedules a plan review.
    async fn schedule_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: ScheduleReviewInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::ScheduleReview {
            due_on: input.due_on,
        };
        record(ctx, &input.change, command).await
    }

    /// Records a plan review with the beneficiary.
    async fn record_plan_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: RecordPlanReviewInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::RecordPlanReview {
            next_review_on: input.next_review_on,
        };
        record(ctx, &input.change, command).await
    }
}

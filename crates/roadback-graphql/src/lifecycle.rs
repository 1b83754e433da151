//! The case's lifecycle: its status, its caseworker, closing and reopening, and follow-up
//! contacts after closure.

use async_graphql::{Context, InputObject, Object};
use roadback_domain::Event;
use roadback_domain::events as ev;
use uuid::Uuid;

use crate::command::{Change, record};
use crate::error::ApiError;
use crate::vocabulary::{RecordResult, Status};

/// A status change.
#[derive(InputObject)]
pub struct ChangeStatusInput {
    #[graphql(flatten)]
    change: Change,
    /// The status now.
    pub to: Status,
}

/// The case handed to another caseworker (supervisors).
#[derive(InputObject)]
pub struct TransferCaseInput {
    #[graphql(flatten)]
    change: Change,
    /// The new caseworker.
    pub to_caseworker_id: Uuid,
}

/// A change with nothing more to say (closing, reopening).
#[derive(InputObject)]
pub struct PlainChangeInput {
    #[graphql(flatten)]
    change: Change,
}

/// A follow-up contact after closure.
#[derive(InputObject)]
pub struct FollowUpInput {
    #[graphql(flatten)]
    change: Change,
    /// The status observed, if assessed.
    pub observed_status: Option<Status>,
}

/// Status changes, transfers, closing, reopening and follow-up contacts.
#[derive(Default)]
pub struct LifecycleMutation;

#[Object]
impl LifecycleMutation {
    /// Changes the reintegration status (the state machine decides what is allowed).
    async fn change_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: ChangeStatusInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::StatusChanged(ev::StatusChanged {
            from: roadback_domain::Status::Identified,
            to: input.to.into(),
        });
        record(ctx, &input.change, fact).await
    }

    /// Hands the case to another caseworker (supervisors).
    async fn transfer_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: TransferCaseInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::CaseTransferred(ev::CaseTransferred {
            to_caseworker: input.to_caseworker_id,
        });
        record(ctx, &input.change, fact).await
    }

    /// Closes the case; the current status is its outcome (supervisors).
    async fn close_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: PlainChangeInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::CaseClosed(ev::CaseClosed {
            outcome: roadback_domain::Status::Identified,
        });
        record(ctx, &input.change, fact).await
    }

    /// Opens a closed case again (supervisors).
    async fn reopen_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: PlainChangeInput,
    ) -> Result<RecordResult, ApiError> {
        record(ctx, &input.change, Event::CaseReopened(ev::CaseReopened {})).await
    }

    /// Records a contact with the person after the case was closed.
    async fn record_follow_up_contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: FollowUpInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::FollowUpContactMade(ev::FollowUpContactMade {
            observed_status: input.observed_status.map(Into::into),
        });
        record(ctx, &input.change, fact).await
    }
}

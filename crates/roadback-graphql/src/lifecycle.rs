//! The case's lifecycle: its status, its caseworker, closing and reopening, and follow-up
//! contacts after closure.

use async_graphql::{Context, InputObject, Object};
use roadback_domain::Command;
use uuid::Uuid;

use crate::command::{Change, record};
use crate::error::ApiError;
use crate::vocabulary::{RecordResult, Status};

/// A status change.
#[derive(InputObject)]
pub struct ChangeStatusInput {
    #[graphql(flatten)]
    change: Change,
    /// The status from that day (the state machine decides what may follow the status of
    /// that day).
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
        let command = Command::ChangeStatus {
            to: input.to.into(),
        };
        record(ctx, &input.change, command).await
    }

    /// Hands the case to another caseworker (supervisors).
    async fn transfer_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: TransferCaseInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::TransferCase {
            to_caseworker: input.to_caseworker_id,
        };
        record(ctx, &input.change, command).await
    }

    /// Closes the case; the status of that day is its outcome (supervisors).
    async fn close_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: PlainChangeInput,
    ) -> Result<RecordResult, ApiError> {
        record(ctx, &input.change, Command::CloseCase).await
    }

    /// Opens a closed case again (supervisors).
    async fn reopen_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: PlainChangeInput,
    ) -> Result<RecordResult, ApiError> {
        record(ctx, &input.change, Command::ReopenCase).await
    }

    /// Records a contact with the person after the case was closed.
    async fn record_follow_up_contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: FollowUpInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::RecordFollowUpContact {
            observed_status: input.observed_status.map(Into::into),
        };
        record(ctx, &input.change, command).await
    }
}

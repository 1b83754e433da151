//! Corrections and voids of earlier entries: the history is never rewritten, an entry is
//! amended by a later one. Any entry but the registration is corrected with the command that
//! records it, given `corrects` (see [`Change`]); the registration with `correctRegistration`,
//! which cannot change whose record it is. Both are decided like new entries.

use async_graphql::{Context, InputObject, Object};
use roadback_domain::Command;
use uuid::Uuid;

use crate::beneficiary::RegistrationFields;
use crate::command::{Change, record};
use crate::error::ApiError;
use crate::vocabulary::{RecordResult, Relationship};

/// An earlier entry recorded in error.
#[derive(InputObject)]
pub struct VoidEventInput {
    #[graphql(flatten)]
    change: Change,
    /// The entry voided.
    pub event_id: Uuid,
}

/// The registration as it should have been recorded (the organisation, the caseworker and, for
/// a family member, the primary beneficiary stay as they are: whose record it is cannot be
/// corrected). `occurredOn` is the day of registration.
#[derive(InputObject)]
pub struct CorrectRegistrationInput {
    #[graphql(flatten)]
    change: Change,
    /// What is recorded about the person.
    #[graphql(flatten)]
    pub fields: RegistrationFields,
    /// For a family member: how they are related.
    pub relationship: Option<Relationship>,
}

/// Entries corrected and voided.
#[derive(Default)]
pub struct CorrectionMutation;

#[Object]
impl CorrectionMutation {
    /// Corrects the registration: what it says about the person, never whose record it is.
    async fn correct_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: CorrectRegistrationInput,
    ) -> Result<RecordResult, ApiError> {
        // The registration is the entry corrected: there is nothing else to name.
        if input.change.corrects.is_some() {
            return Err(ApiError::invalid(
                "corrects",
                "correctRegistration corrects the registration: leave corrects out (other entries are corrected with the command that records them)",
            ));
        }
        let command = Command::CorrectRegistration {
            details: input.fields.details()?,
            relationship: input.relationship.map(Into::into),
        };
        record(ctx, &input.change, command).await
    }

    /// Voids an entry recorded in error (not the registration, personal data or an erasure);
    /// what relied on it must be voided or corrected first.
    async fn void_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: VoidEventInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::VoidEvent {
            event_id: input.event_id,
        };
        record(ctx, &input.change, command).await
    }
}

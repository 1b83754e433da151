//! Corrections and voids of earlier entries: the history is never rewritten, an entry is
//! amended by a later one.

use async_graphql::{Context, InputObject, Object};
use roadback_domain::Event;
use roadback_domain::access::Action;
use roadback_domain::events as ev;
use uuid::Uuid;

use crate::command::{Change, record, record_with};
use crate::error::ApiError;
use crate::vocabulary::RecordResult;

/// A correction of an earlier entry.
#[derive(InputObject)]
pub struct CorrectEventInput {
    #[graphql(flatten)]
    change: Change,
    /// The entry corrected.
    pub event_id: Uuid,
    /// What should have been recorded: the payload of an entry of the same type.
    pub replacement: async_graphql::Json<serde_json::Value>,
}

/// An earlier entry recorded in error.
#[derive(InputObject)]
pub struct VoidEventInput {
    #[graphql(flatten)]
    change: Change,
    /// The entry voided.
    pub event_id: Uuid,
}

/// Entries corrected and voided.
#[derive(Default)]
pub struct CorrectionMutation;

#[Object]
impl CorrectionMutation {
    /// Corrects an earlier entry: `replacement` is what should have been recorded.
    async fn correct_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: CorrectEventInput,
    ) -> Result<RecordResult, ApiError> {
        let event_id = input.event_id;
        let replacement = input.replacement.0;
        record_with(ctx, &input.change, Action::WriteRecord, None, move |case| {
            // The replacement has the corrected entry's type, in the current shape.
            let event_type = case.recorded.get(&event_id).ok_or_else(|| {
                ApiError::invalid("eventId", "there is no such entry in this person's record")
            })?;
            let version = Event::CATALOGUE
                .iter()
                .find(|(name, _)| name == event_type)
                .map_or(1, |(_, v)| *v);
            let replacement = Event::decode(event_type, version, &replacement.to_string())
                .map_err(|e| {
                    ApiError::invalid("replacement", format!("the replacement does not fit: {e}"))
                })?;
            Ok(Event::EventCorrected(ev::EventCorrected {
                corrects: event_id,
                replacement: Box::new(replacement),
            }))
        })
        .await
    }

    /// Voids an entry recorded in error.
    async fn void_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: VoidEventInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::EventVoided(ev::EventVoided {
            voids: input.event_id,
        });
        record(ctx, &input.change, fact).await
    }
}

//! Consent: what a person agreed to (assistance, data sharing with one organisation, evaluation
//! use, follow-up contact), given and withdrawn.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use roadback_domain::Command;
use roadback_domain::vocabulary::ConsentScope;
use uuid::Uuid;

use crate::command::{Change, record};
use crate::error::ApiError;
use crate::vocabulary::{ConsentEvidence, ConsentGiver, RecordResult};

/// What a consent covers (a data-sharing consent also names the organisation).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ConsentKind {
    /// Being assisted and having a case file.
    Assistance,
    /// Sharing the case with one named organisation.
    DataSharing,
    /// De-identified use in evaluation and research.
    EvaluationUse,
    /// Being contacted for follow-up after the case is closed.
    FollowUpContact,
}

/// A consent in force.
#[derive(SimpleObject, Clone, Debug)]
pub struct Consent {
    /// What it covers.
    pub kind: ConsentKind,
    /// For data sharing, the organisation it may be shared with.
    pub organisation_id: Option<Uuid>,
    /// The day it was given.
    pub since: NaiveDate,
    /// Who gave it.
    pub given_by: ConsentGiver,
}

impl From<&roadback_domain::case::ConsentInForce> for Consent {
    fn from(c: &roadback_domain::case::ConsentInForce) -> Self {
        let (kind, organisation_id) = consent_kind(&c.scope);
        Self {
            kind,
            organisation_id,
            since: c.since,
            given_by: c.given_by.into(),
        }
    }
}

/// The GraphQL kind and organisation of a consent scope.
pub fn consent_kind(
    scope: &roadback_domain::vocabulary::ConsentScope,
) -> (ConsentKind, Option<Uuid>) {
    use roadback_domain::vocabulary::ConsentScope as S;
    match scope {
        S::Assistance => (ConsentKind::Assistance, None),
        S::DataSharing { organisation } => (ConsentKind::DataSharing, Some(*organisation)),
        S::EvaluationUse => (ConsentKind::EvaluationUse, None),
        S::FollowUpContact => (ConsentKind::FollowUpContact, None),
    }
}

/// Consent given.
#[derive(InputObject)]
pub struct GiveConsentInput {
    #[graphql(flatten)]
    change: Change,
    /// What it covers.
    pub kind: ConsentKind,
    /// For data sharing: the organisation.
    pub organisation_id: Option<Uuid>,
    /// The person, or a guardian for a child.
    pub given_by: ConsentGiver,
    /// How it was evidenced.
    pub evidence: ConsentEvidence,
}

/// Consent withdrawn.
#[derive(InputObject)]
pub struct WithdrawConsentInput {
    #[graphql(flatten)]
    change: Change,
    /// What no longer is covered.
    pub kind: ConsentKind,
    /// For data sharing: the organisation.
    pub organisation_id: Option<Uuid>,
    /// Who withdrew it.
    pub withdrawn_by: ConsentGiver,
}

/// The domain's consent scope of a kind and organisation (only data sharing names one).
fn scope(kind: ConsentKind, organisation: Option<Uuid>) -> Result<ConsentScope, ApiError> {
    Ok(match (kind, organisation) {
        (ConsentKind::Assistance, None) => ConsentScope::Assistance,
        (ConsentKind::EvaluationUse, None) => ConsentScope::EvaluationUse,
        (ConsentKind::FollowUpContact, None) => ConsentScope::FollowUpContact,
        (ConsentKind::DataSharing, Some(organisation)) => {
            ConsentScope::DataSharing { organisation }
        }
        (ConsentKind::DataSharing, None) => {
            return Err(ApiError::invalid(
                "organisationId",
                "consent to share data names the organisation it may be shared with",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "organisationId",
                "only consent to share data names an organisation",
            ));
        }
    })
}

/// Consent given and withdrawn.
#[derive(Default)]
pub struct ConsentMutation;

#[Object]
impl ConsentMutation {
    /// Records consent given for a scope.
    async fn give_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: GiveConsentInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::GiveConsent {
            scope: scope(input.kind, input.organisation_id)?,
            given_by: input.given_by.into(),
            evidence: input.evidence.into(),
        };
        record(ctx, &input.change, command).await
    }

    /// Records consent withdrawn; it stops applying at once.
    async fn withdraw_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: WithdrawConsentInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::WithdrawConsent {
            scope: scope(input.kind, input.organisation_id)?,
            withdrawn_by: input.withdrawn_by.into(),
        };
        record(ctx, &input.change, command).await
    }
}

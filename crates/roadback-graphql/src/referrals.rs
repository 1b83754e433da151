//! Referrals of a case to another organisation, and their acceptance.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use roadback_domain::Command;
use roadback_domain::projection::PlanReferral;
use uuid::Uuid;

use crate::command::{Change, new_id, record};
use crate::error::ApiError;
use crate::vocabulary::RecordResult;

/// A referral to another organisation.
#[derive(SimpleObject, Clone, Debug)]
pub struct Referral {
    /// The referral's id.
    pub id: Uuid,
    /// The receiving organisation.
    pub to_organisation_id: Uuid,
    /// The day it was made.
    pub referred_on: NaiveDate,
    /// True once accepted.
    pub accepted: bool,
}

impl From<&PlanReferral> for Referral {
    fn from(r: &PlanReferral) -> Self {
        Self {
            id: r.referral_id,
            to_organisation_id: r.referral.to_organisation,
            referred_on: r.referral.referred_on,
            accepted: r.referral.accepted,
        }
    }
}

/// A referral to another organisation.
#[derive(InputObject)]
pub struct ReferInput {
    #[graphql(flatten)]
    change: Change,
    /// The receiving organisation.
    pub to_organisation_id: Uuid,
}

/// A referral accepted by the receiving organisation.
#[derive(InputObject)]
pub struct AcceptReferralInput {
    #[graphql(flatten)]
    change: Change,
    /// The referral.
    pub referral_id: Uuid,
}

/// Referrals made and accepted.
#[derive(Default)]
pub struct ReferralMutation;

#[Object]
impl ReferralMutation {
    /// Refers the case to another organisation (needs consent to share data with it).
    async fn refer_to_organisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: ReferInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::ReferToOrganisation {
            referral_id: new_id(ctx, &input.change)?,
            to_organisation: input.to_organisation_id,
        };
        record(ctx, &input.change, command).await
    }

    /// Accepts a referral (by the receiving organisation).
    async fn accept_referral(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: AcceptReferralInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::AcceptReferral {
            referral_id: input.referral_id,
        };
        record(ctx, &input.change, command).await
    }
}

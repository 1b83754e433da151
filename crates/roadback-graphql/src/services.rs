//! Services of the plan: planned, delivered (with their cost), discontinued.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use roadback_domain::Command;
use roadback_domain::command::Delivery;
use roadback_domain::events::Money;
use roadback_domain::projection::PlanService;
use roadback_domain::vocabulary::Currency;
use uuid::Uuid;

use crate::command::{Change, new_id, record};
use crate::error::ApiError;
use crate::vocabulary::{RecordResult, ServiceState, ServiceType};

/// A service planned or delivered.
#[derive(SimpleObject, Clone, Debug)]
pub struct Service {
    /// The service's id in this case.
    pub id: Uuid,
    /// What kind of service.
    pub service: ServiceType,
    /// The providing organisation (none: an external provider).
    pub provider_id: Option<Uuid>,
    /// The goal it serves.
    pub goal_id: Option<Uuid>,
    /// Where it stands.
    pub state: ServiceState,
    /// The day it was planned.
    pub planned_on: Option<NaiveDate>,
    /// First day delivered.
    pub first_delivered_on: Option<NaiveDate>,
    /// Last day delivered.
    pub last_delivered_on: Option<NaiveDate>,
    /// Deliveries recorded.
    pub deliveries: u32,
}

impl From<&PlanService> for Service {
    fn from(s: &PlanService) -> Self {
        Self {
            id: s.service_id,
            service: s.service.service.into(),
            provider_id: s.service.provider,
            goal_id: s.service.goal_id,
            state: s.service.state.into(),
            planned_on: s.service.planned_on,
            first_delivered_on: s.service.first_delivered_on,
            last_delivered_on: s.service.last_delivered_on,
            deliveries: s.service.deliveries,
        }
    }
}

/// A service planned.
#[derive(InputObject)]
pub struct PlanServiceInput {
    #[graphql(flatten)]
    change: Change,
    /// What kind of service.
    pub service: ServiceType,
    /// The providing organisation (none: an external provider).
    pub provider_id: Option<Uuid>,
    /// The goal it serves.
    pub goal_id: Option<Uuid>,
}

/// A service delivered.
#[derive(InputObject)]
pub struct RecordServiceDeliveryInput {
    #[graphql(flatten)]
    change: Change,
    /// A planned (or earlier delivered) service's id; none for an unplanned delivery (in a
    /// correction, none keeps the service the entry recorded).
    pub service_id: Option<Uuid>,
    /// What kind of service (a planned service's own kind).
    pub service: ServiceType,
    /// The providing organisation (none: an external provider).
    pub provider_id: Option<Uuid>,
    /// First day of delivery: the day the entry is dated, so `occurredOn` (the default).
    pub from: Option<NaiveDate>,
    /// Last day of delivery, not after today (none: a single day).
    pub to: Option<NaiveDate>,
    /// Cost in minor units (cents), if recorded.
    pub amount_minor_units: Option<i64>,
    /// ISO 4217 currency of the cost, e.g. `EUR`.
    pub currency: Option<String>,
    /// True for a service from before the person's identification (earlier schooling...),
    /// dated before the identification date; it needs no consent to assistance.
    #[graphql(default)]
    pub pre_program: bool,
}

/// A service stopped.
#[derive(InputObject)]
pub struct DiscontinueServiceInput {
    #[graphql(flatten)]
    change: Change,
    /// The service.
    pub service_id: Uuid,
}

/// Services planned, delivered and discontinued.
#[derive(Default)]
pub struct ServiceMutation;

#[Object]
impl ServiceMutation {
    /// Plans a service (its id is in the appended event).
    async fn plan_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: PlanServiceInput,
    ) -> Result<RecordResult, ApiError> {
        let service_id = new_id(ctx, &input.change)?;
        let command = Command::PlanService {
            service_id,
            service: input.service.into(),
            provider: input.provider_id,
            goal_id: input.goal_id,
        };
        record(ctx, &input.change, command).await
    }

    /// Records a service delivered (a planned one, or a new one).
    async fn record_service_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: RecordServiceDeliveryInput,
    ) -> Result<RecordResult, ApiError> {
        let amount = match (input.amount_minor_units, input.currency.as_deref()) {
            (None, None) => None,
            (Some(minor_units), Some(code)) => Some(Money {
                minor_units,
                currency: Currency::new(code).ok_or_else(|| {
                    ApiError::invalid("currency", "use a three-letter ISO 4217 code, e.g. EUR")
                })?,
            }),
            (Some(_), None) => {
                return Err(ApiError::invalid(
                    "currency",
                    "an amount needs its currency",
                ));
            }
            (None, Some(_)) => {
                return Err(ApiError::invalid(
                    "amountMinorUnits",
                    "a currency needs its amount",
                ));
            }
        };
        let command = Command::RecordServiceDelivery(Delivery {
            service_id: input.service_id,
            new_service_id: new_id(ctx, &input.change)?,
            service: input.service.into(),
            provider: input.provider_id,
            from: input.from.unwrap_or(input.change.occurred_on),
            to: input.to,
            amount,
            pre_program: input.pre_program,
        });
        record(ctx, &input.change, command).await
    }

    /// Stops a planned or running service.
    async fn discontinue_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: DiscontinueServiceInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::DiscontinueService {
            service_id: input.service_id,
        };
        record(ctx, &input.change, command).await
    }
}

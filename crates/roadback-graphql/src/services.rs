//! Services of the plan: planned, delivered (with their cost), discontinued.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use roadback_domain::Event;
use roadback_domain::events as ev;
use roadback_domain::projection::PlanService;
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
    /// A planned service's id; none for an unplanned delivery.
    pub service_id: Option<Uuid>,
    /// What kind of service.
    pub service: ServiceType,
    /// The providing organisation (none: an external provider).
    pub provider_id: Option<Uuid>,
    /// First day of delivery.
    pub from: NaiveDate,
    /// Last day of delivery (none: a single day).
    pub to: Option<NaiveDate>,
    /// Cost in minor units (cents), if recorded.
    pub amount_minor_units: Option<i64>,
    /// ISO 4217 currency of the cost, e.g. `EUR`.
    pub currency: Option<String>,
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
        let fact = Event::ServicePlanned(ev::ServicePlanned {
            service_id,
            service: input.service.into(),
            provider: input.provider_id,
            goal_id: input.goal_id,
        });
        record(ctx, &input.change, fact).await
    }

    /// Records a service delivered (a planned one, or a new one).
    async fn record_service_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: RecordServiceDeliveryInput,
    ) -> Result<RecordResult, ApiError> {
        let amount = match (input.amount_minor_units, input.currency.as_deref()) {
            (None, None) => None,
            (Some(minor_units), Some(code)) => {
                let chars: Vec<char> = code.chars().collect();
                match chars[..] {
                    [a, b, c] if chars.iter().all(char::is_ascii_uppercase) => Some(ev::Money {
                        minor_units,
                        currency: [a, b, c],
                    }),
                    _ => {
                        return Err(ApiError::invalid(
                            "currency",
                            "use a three-letter ISO 4217 code, e.g. EUR",
                        ));
                    }
                }
            }
            _ => {
                return Err(ApiError::invalid(
                    "currency",
                    "an amount needs its currency, and a currency its amount",
                ));
            }
        };
        let service_id = match input.service_id {
            Some(id) => id,
            None => new_id(ctx, &input.change)?,
        };
        let fact = Event::ServiceDelivered(ev::ServiceDelivered {
            service_id,
            service: input.service.into(),
            provider: input.provider_id,
            from: input.from,
            to: input.to,
            amount,
        });
        record(ctx, &input.change, fact).await
    }

    /// Stops a planned or running service.
    async fn discontinue_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: DiscontinueServiceInput,
    ) -> Result<RecordResult, ApiError> {
        let fact = Event::ServiceDiscontinued(ev::ServiceDiscontinued {
            service_id: input.service_id,
        });
        record(ctx, &input.change, fact).await
    }
}

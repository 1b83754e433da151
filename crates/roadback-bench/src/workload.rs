//! The events every case writes: the same rows for the store and for raw SQL.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use roadback_store::{EventContext, NewEvent};
use uuid::Uuid;

/// Events per append in the batch cases.
pub const BATCH: usize = 100;
/// Concurrent clients in the multi-client cases.
pub const CLIENTS: usize = 8;

/// One event's columns, as both the store and the raw tables hold them.
pub struct Row {
    pub id: Uuid,
    pub event_type: &'static str,
    pub occurred_on: NaiveDate,
    pub context: EventContext,
    pub payload: String,
}

/// The `i`-th event: a delivered service with a realistic payload (about 200 bytes).
pub fn row(i: u64) -> Row {
    let services = [
        "accommodation",
        "medical",
        "psychological",
        "legal",
        "vocational_training",
        "case_management",
    ];
    let payload = serde_json::json!({
        "service": services[(i % services.len() as u64) as usize],
        "provider_id": Uuid::from_u128(u128::from(i % 97)),
        "delivered_from": "2011-04-02",
        "delivered_to": "2011-06-30",
        "amount": { "value": (i % 500) * 10, "currency": "EUR" },
        "plan_goal": i % 8,
    });
    Row {
        id: Uuid::now_v7(),
        event_type: "ServiceDelivered",
        occurred_on: NaiveDate::from_ymd_opt(2011, 6, 30).expect("valid date"),
        context: EventContext {
            actor: Uuid::from_u128(7),
            organisation: Uuid::from_u128(u128::from(i % 15)),
            correlation_id: Uuid::now_v7(),
        },
        payload: payload.to_string(),
    }
}

/// The `i`-th event for the store.
pub fn new_event(i: u64) -> NewEvent {
    let r = row(i);
    NewEvent {
        id: r.id,
        event_type: r.event_type.to_string(),
        schema_version: 1,
        occurred_on: r.occurred_on,
        context: r.context,
        payload: serde_json::value::RawValue::from_string(r.payload).expect("valid JSON"),
    }
}

/// Runs operations `0..ops` with `clients` concurrent clients, each taking the next number.
pub async fn spread<F, Fut>(ops: u64, clients: usize, op: F) -> anyhow::Result<()>
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (next, op) = (next.clone(), op.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= ops {
                        return anyhow::Ok(());
                    }
                    op(n).await?;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    Ok(())
}

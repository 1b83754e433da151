//! The caseworker's beneficiary view over GraphQL (plan and the latest 50 timeline entries),
//! through the real HTTP application on a local port, by many concurrent clients.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use roadback_domain::access::{Role, Scope};
use roadback_store::EventStore;
use roadback_store::projector::Projector;
use serde_json::json;

use crate::replay;

/// Concurrent clients.
pub const CLIENTS: usize = 32;

/// The query a caseworker's beneficiary page sends.
const VIEW: &str = "query($id: UUID!) { beneficiary(id: $id) { id caseCode version status \
    plan { status statusSince consents { kind since } goals { domain state targetOn } \
    services { service state lastDeliveredOn } nextReviewOn caseworkerName } \
    timeline(last: 50) { eventType summary occurredOn recordedAt amended } } }";

/// Loads about `events` events of realistic histories over 15 organisations, then has
/// `clients` clients read beneficiary views of the first organisation for `duration`.
/// Returns the latencies in milliseconds, sorted, and the number of beneficiaries.
pub async fn beneficiary_view(
    store: &EventStore,
    events: u64,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<(Vec<f64>, u64)> {
    let mut organisations = Vec::new();
    for i in 0..15 {
        organisations.push(
            store
                .create_organisation(&format!("Organisation {i}"), "AL")
                .await?
                .id,
        );
    }
    let (_, beneficiaries) = replay::load_into(store, events, &organisations).await?;
    Projector::new(store.clone(), 1000).catch_up().await?;
    let user = store
        .create_user(
            organisations[0],
            "bench@example.org",
            "Bench",
            Role::Integrator,
            None,
        )
        .await?;
    let (_, token) =
        roadback_graphql::auth::issue_token(store, user.id, "bench", &[Scope::Read], None)
            .await
            .map_err(|e| anyhow::anyhow!(e.message()))?;

    let api = roadback_graphql::ApiState::new(
        store.clone(),
        roadback_store::vault::Vault::new(
            store.clone(),
            roadback_store::vault::Keyring::new(roadback_store::vault::MasterKey::generate()),
        ),
    );
    let app = roadback_server::http::app(roadback_server::http::AppState::new(store.clone(), api));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/graphql", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let ours: Arc<Vec<u64>> = Arc::new((0..beneficiaries).filter(|n| n % 15 == 0).collect());
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, url, token, ours, next) = (
                http.clone(),
                url.clone(),
                token.clone(),
                ours.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                let mut times = Vec::new();
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let id = replay::beneficiary(
                        ours[(i.wrapping_mul(7919) % ours.len() as u64) as usize],
                    );
                    let start = Instant::now();
                    let response: serde_json::Value = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({ "query": VIEW, "variables": { "id": id } }))
                        .send()
                        .await?
                        .json()
                        .await?;
                    times.push(start.elapsed().as_secs_f64() * 1000.0);
                    anyhow::ensure!(response["errors"].is_null(), "{response}");
                }
                Ok::<_, anyhow::Error>(times)
            })
        })
        .collect();
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await??);
    }
    times.sort_by(f64::total_cmp);
    Ok((times, beneficiaries))
}

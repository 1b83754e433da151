//! The HTTP load generator, run as a process of its own beside a running `roadback serve`:
//! many clients reading beneficiary views and recording services through the public API with an
//! integrator's token, and subscribers following some of those records over WebSocket.
//!
//! Each client, in a loop until the time is up: reads the view of a beneficiary with an open
//! case (the page a caseworker opens), then for a share of the views records a service delivered on it against
//! the version the view showed. A quarter of the writes go to records with a live subscription
//! (`beneficiaryTimeline` over graphql-transport-ws), each timed from the moment the mutation
//! was sent to the moment its entry reached the subscriber.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

/// The query a caseworker's beneficiary page sends (as in the in-process view measurement).
const VIEW: &str = "query($id: UUID!) { beneficiary(id: $id) { id caseCode version status \
    plan { status statusSince consents { kind since } goals { domain state targetOn } \
    services { service state lastDeliveredOn } nextReviewOn caseworkerName } \
    timeline(last: 50) { eventType summary occurredOn recordedAt amended } } }";
const DELIVERED: &str =
    "mutation($i: RecordServiceDeliveryInput!) { recordServiceDelivery(input: $i) { version } }";
const PAGE: &str = "query($after: String) { beneficiaries(first: 100, after: $after, filter: { closed: false }) { \
    edges { node { id } } pageInfo { hasNextPage endCursor } } }";

/// What to run.
pub struct Load {
    /// The server, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// An API token with the read and write scopes.
    pub token: String,
    /// Concurrent clients.
    pub clients: usize,
    /// How long.
    pub duration: Duration,
    /// The share of views followed by a write.
    pub write_share: f64,
    /// Records with a live subscription.
    pub watched: usize,
    /// Most beneficiaries to spread the load over.
    pub beneficiaries: usize,
}

/// Latencies of one kind of request.
#[derive(Serialize, Default)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    fn of(mut times: Vec<f64>) -> Self {
        if times.is_empty() {
            return Self::default();
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        Self {
            count: times.len(),
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: times[times.len() - 1],
        }
    }
}

/// What the load measured.
#[derive(Serialize)]
pub struct LoadReport {
    pub beneficiaries: usize,
    pub clients: usize,
    pub seconds: f64,
    pub requests_per_second: f64,
    pub views: Latency,
    pub mutations: Latency,
    /// Writes refused because another client wrote the same record first.
    pub conflicts: usize,
    /// Writes the rules refused (a person without consent to assistance in force, say): the
    /// command path ran, nothing was stored.
    pub refused: usize,
    pub seen_by_subscriber: Latency,
}

/// When each watched write was sent: (beneficiary, the version it makes) → time.
type Sent = Arc<Mutex<HashMap<(Uuid, u64), Instant>>>;

struct Client {
    http: reqwest::Client,
    endpoint: String,
    token: String,
}

impl Client {
    async fn post(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let response: Value = self
            .http
            .post(&self.endpoint)
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await?
            .json()
            .await?;
        Ok(response)
    }

    async fn ids(&self, most: usize) -> anyhow::Result<Vec<Uuid>> {
        let mut ids = Vec::new();
        let mut after = Value::Null;
        while ids.len() < most {
            let page = self.post(PAGE, json!({ "after": after })).await?;
            let list = &page["data"]["beneficiaries"];
            anyhow::ensure!(!list.is_null(), "cannot list the beneficiaries: {page}");
            for edge in list["edges"].as_array().into_iter().flatten() {
                ids.push(edge["node"]["id"].as_str().unwrap_or_default().parse()?);
            }
            if list["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = list["pageInfo"]["endCursor"].clone();
        }
        ids.truncate(most);
        Ok(ids)
    }
}

/// A small deterministic generator per client (splitmix64).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// Follows one record's timeline; every entry that a timed write made is timed.
async fn subscriber(
    url: &str,
    token: &str,
    id: Uuid,
    sent: Sent,
    deadline: Instant,
) -> anyhow::Result<Vec<f64>> {
    let mut request = format!("{}/graphql", url.replacen("http", "ws", 1)).into_client_request()?;
    let headers = request.headers_mut();
    headers.insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    headers.insert("authorization", format!("Bearer {token}").parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": {} }).to_string(),
        ))
        .await?;
    let query =
        format!("subscription {{ beneficiaryTimeline(beneficiaryId: \"{id}\") {{ version }} }}");
    socket
        .send(Message::text(
            json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }).to_string(),
        ))
        .await?;
    let mut times = Vec::new();
    while let Ok(Some(message)) = tokio::time::timeout(
        deadline.saturating_duration_since(Instant::now()),
        socket.next(),
    )
    .await
    {
        let Message::Text(text) = message? else {
            continue;
        };
        let value: Value = serde_json::from_str(&text)?;
        match value["type"].as_str() {
            Some("next") => {
                let version = value["payload"]["data"]["beneficiaryTimeline"]["version"]
                    .as_u64()
                    .unwrap_or_default();
                let arrived = Instant::now();
                if let Some(at) = sent.lock().unwrap().remove(&(id, version)) {
                    times.push(arrived.duration_since(at).as_secs_f64() * 1000.0);
                }
            }
            Some("error") => anyhow::bail!("the subscription failed: {value}"),
            _ => {}
        }
    }
    Ok(times)
}

/// Runs the load and reports it.
pub async fn run(load: Load) -> anyhow::Result<LoadReport> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(load.clients)
        .build()?;
    let client = Arc::new(Client {
        http,
        endpoint: format!("{}/graphql", load.url),
        token: load.token.clone(),
    });
    let ids = Arc::new(client.ids(load.beneficiaries).await?);
    anyhow::ensure!(
        !ids.is_empty(),
        "the token's organisation has no beneficiaries"
    );
    let watched: Arc<Vec<Uuid>> = Arc::new(ids.iter().take(load.watched).copied().collect());
    let sent: Sent = Arc::default();
    let deadline = Instant::now() + load.duration;
    // Subscribers stay a little longer, for the last writes' entries to arrive.
    let subscribers: Vec<_> = watched
        .iter()
        .map(|&id| {
            let (url, token, sent) = (load.url.clone(), load.token.clone(), sent.clone());
            tokio::spawn(async move {
                subscriber(&url, &token, id, sent, deadline + Duration::from_secs(2)).await
            })
        })
        .collect();
    // Let the subscriptions start before the first write.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start = Instant::now();
    let deadline = start + load.duration;
    let tasks: Vec<_> = (0..load.clients)
        .map(|n| {
            let (client, ids, watched, sent) =
                (client.clone(), ids.clone(), watched.clone(), sent.clone());
            let write_share = load.write_share;
            tokio::spawn(async move {
                let mut random = Random(n as u64 + 1);
                let (mut views, mut writes, mut conflicts, mut refused) =
                    (Vec::new(), Vec::new(), 0, 0);
                let mut key = 0u64;
                while Instant::now() < deadline {
                    let write = random.chance(write_share);
                    let id = if write && !watched.is_empty() && random.chance(0.25) {
                        watched[random.below(watched.len())]
                    } else {
                        ids[random.below(ids.len())]
                    };
                    let at = Instant::now();
                    let view = client.post(VIEW, json!({ "id": id })).await?;
                    views.push(at.elapsed().as_secs_f64() * 1000.0);
                    let version = view["data"]["beneficiary"]["version"]
                        .as_u64()
                        .with_context(|| format!("a view failed: {view}"))?;
                    if !write {
                        continue;
                    }
                    key += 1;
                    let at = Instant::now();
                    // Only writes a subscriber follows are waited for.
                    let followed = watched.contains(&id);
                    if followed {
                        sent.lock().unwrap().insert((id, version + 1), at);
                    }
                    let answer = client
                        .post(DELIVERED, json!({ "i": {
                            "beneficiaryId": id, "expectedVersion": version,
                            "idempotencyKey": format!("load-{n}-{key}-{}", Uuid::new_v4()),
                            "occurredOn": chrono::Utc::now().date_naive(), "service": "MEDICAL" } }))
                        .await?;
                    let took = at.elapsed().as_secs_f64() * 1000.0;
                    match answer["errors"][0]["extensions"]["code"].as_str() {
                        None => writes.push(took),
                        Some(code @ ("CONFLICT" | "VALIDATION")) => {
                            if code == "CONFLICT" {
                                conflicts += 1;
                            } else {
                                refused += 1;
                            }
                            if followed {
                                sent.lock().unwrap().remove(&(id, version + 1));
                            }
                        }
                        Some(_) => anyhow::bail!("a write failed: {answer}"),
                    }
                }
                Ok::<_, anyhow::Error>((views, writes, conflicts, refused))
            })
        })
        .collect();
    let (mut views, mut writes, mut conflicts, mut refused) = (Vec::new(), Vec::new(), 0, 0);
    for task in tasks {
        let (v, w, c, r) = task.await??;
        views.extend(v);
        writes.extend(w);
        conflicts += c;
        refused += r;
    }
    let seconds = start.elapsed().as_secs_f64();
    let mut seen = Vec::new();
    for subscriber in subscribers {
        seen.extend(subscriber.await??);
    }
    Ok(LoadReport {
        beneficiaries: ids.len(),
        clients: load.clients,
        seconds,
        requests_per_second: (views.len() + writes.len() + conflicts + refused) as f64 / seconds,
        views: Latency::of(views),
        mutations: Latency::of(writes),
        conflicts,
        refused,
        seen_by_subscriber: Latency::of(seen),
    })
}

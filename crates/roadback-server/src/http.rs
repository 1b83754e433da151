//! The HTTP application: routes and the layers every request passes through.

use std::time::Duration;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderName, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use roadback_graphql::Api;
use roadback_store::EventStore;
use serde_json::json;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

use crate::graphql;
use crate::metrics::Metrics;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The event store.
    pub store: EventStore,
    /// The GraphQL schema.
    pub schema: Api,
    /// The API's state (the schema holds the same).
    pub api: roadback_graphql::ApiState,
    /// How long a client may pause while sending a request body.
    pub body_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for sign-in throttling).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The counters behind `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The origin the web client is served from (`https://roadback.example.org`); requests
    /// carrying the session cookie must come from it. None: the `Host` the request was sent to.
    pub public_origin: Option<String>,
    /// Served over HTTPS (cookies `Secure`, HSTS).
    pub secure: bool,
    /// Production: `/metrics` and introspection only for callers who are known.
    pub production: bool,
    /// The secret a metrics collector sends for `/metrics`.
    pub metrics_token: Option<String>,
    /// The web client's bundle, served at every path the API does not answer.
    pub web_dir: std::path::PathBuf,
}

impl AppState {
    /// The state of a server on this store.
    pub fn new(store: EventStore, api: roadback_graphql::ApiState) -> Self {
        Self {
            schema: roadback_graphql::schema(api.clone()),
            api,
            body_timeout: Duration::from_secs(10),
            trusted_proxies: Vec::new(),
            store,
            metrics: Arc::default(),
            public_origin: None,
            secure: false,
            production: false,
            metrics_token: None,
            web_dir: crate::web::default_dir(),
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application: health, the API, metrics, and the web client at every other path.
pub fn app(state: AppState) -> Router {
    let body_timeout = state.body_timeout;
    Router::new()
        .merge(health_routes())
        .route("/graphql", get(graphql::websocket).post(graphql::post))
        .route("/metrics", get(metrics))
        // The web client, GraphiQL (`/graphiql`) included.
        .merge(crate::web::routes(&state.web_dir))
        .layer(middleware::from_fn_with_state(state.clone(), count_responses))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .with_state(state)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        // A body that stalls is cut off (the whole request has 30 s below).
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
}

async fn count_responses(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    state.metrics.count_response(response.status().as_u16());
    response
}

/// Headers every response carries: nothing is cached (answers hold personal data; the web
/// client's files set their own caching), sniffed, framed or referred elsewhere; scripts and
/// everything else only from this origin; HSTS over HTTPS.
async fn security_headers(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    use axum::http::HeaderValue;
    use axum::http::header;
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(header::CACHE_CONTROL, "no-store");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_FRAME_OPTIONS, "DENY");
    // Fonts also from `data:` (GraphiQL's stylesheet carries its fonts inline; a font cannot run).
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    if state.secure {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}

/// `/metrics`: Prometheus text format. In production only for the configured collector's
/// secret or a signed-in administrator: the counters tell how the service is used.
async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if state.production {
        let bearer = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let collector = state
            .metrics_token
            .as_deref()
            .is_some_and(|secret| bearer == Some(secret));
        let administrator = !collector
            && graphql::caller(&state.store, &headers)
                .await
                .ok()
                .flatten()
                .is_some_and(|s| s.principal.role == roadback_domain::access::Role::Administrator);
        if !collector && !administrator {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "errors": [{ "message": "sign in as an administrator or send the metrics token", "extensions": { "code": "UNAUTHENTICATED" } }] })),
            )
                .into_response();
        }
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
        .into_response()
}

fn health_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// Liveness: the process is up and serving HTTP.
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the store answers within a second and can take writes (on SQLite: its write
/// lock is free), so requests can be served.
async fn readyz(State(state): State<AppState>) -> Response {
    let store = state.store.backend_name();
    let answered = match tokio::time::timeout(Duration::from_secs(1), state.store.ping()).await {
        Ok(answered) => answered.map_err(|e| match e.cause() {
            Some(cause) => format!("{e} ({cause})"),
            None => e.to_string(),
        }),
        Err(_) => {
            Err("the database is not available: it did not answer within a second".to_string())
        }
    };
    match answered {
        Ok(()) => Json(json!({ "status": "ready", "store": store })).into_response(),
        Err(error) => {
            tracing::warn!(%error, store, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "store": store, "message": error.to_string() })),
            )
                .into_response()
        }
    }
}

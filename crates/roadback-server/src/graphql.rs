//! GraphQL over HTTP (POST `/graphql`) and WebSocket (`graphql-transport-ws` on GET
//! `/graphql`), GraphiQL in development mode, and resolving the caller from the session cookie
//! or the bearer token.

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Data, ErrorExtensions};
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roadback_graphql::auth::{self, SESSION_COOKIE, Session};
use roadback_graphql::error::ApiError;
use roadback_graphql::loaders::new_user_loader;
use roadback_store::EventStore;

use crate::http::AppState;
use crate::listen::Place;
use crate::metrics::Metrics;
use axum::extract::ws::{CloseFrame, Message};
use futures_util::{SinkExt, StreamExt};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The caller of a request: the bearer token if one is sent, else the session cookie.
pub async fn caller(store: &EventStore, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated)?;
        return match auth::from_bearer(store, token.trim()).await? {
            Some(session) => Ok(Some(session)),
            None => Err(ApiError::Unauthenticated),
        };
    }
    let secret = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string());
    match secret {
        Some(secret) => auth::from_cookie(store, &secret).await,
        None => Ok(None),
    }
}

/// True when a request may act with the session cookie: it carries no `Origin` (not sent by a
/// browser on another site) or its `Origin` is the web client's: the configured public origin,
/// else the `Host` it was sent to. A page on another site can make the browser send the cookie,
/// never its own origin.
fn from_our_origin(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    match public_origin {
        Some(public) => origin.eq_ignore_ascii_case(public.trim_end_matches('/')),
        None => headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|host| {
                origin.eq_ignore_ascii_case(&format!("http://{host}"))
                    || origin.eq_ignore_ascii_case(&format!("https://{host}"))
            }),
    }
}

/// The address of the client behind the connection: the peer, unless the peer is a trusted
/// proxy; then the nearest address in `X-Forwarded-For` that is not a trusted proxy itself
/// (addresses further left are whatever the client claimed, so they are never believed).
pub fn client_address(
    peer: std::net::IpAddr,
    headers: &HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| a.trim().parse::<std::net::IpAddr>())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

/// True when the caller signed in with the session cookie (not a bearer token).
fn by_cookie(session: Option<&Session>) -> bool {
    matches!(
        session.and_then(|s| s.credential.as_ref()),
        Some(auth::Credential::Session(_))
    )
}

fn cross_site() -> ApiError {
    ApiError::Validation {
        message: "a request with the session cookie must come from Roadback's own web client"
            .into(),
        field: None,
        reason: Some("CROSS_SITE"),
        contradicts: None,
    }
}

/// Seconds a client is asked to wait when the database is unavailable.
const RETRY_AFTER_SECONDS: &str = "5";

/// A GraphQL-shaped error response with an HTTP status, for failures before execution; an
/// unavailable database is 503 with `Retry-After`, whatever the status asked for.
fn error_response(status: StatusCode, error: ApiError) -> Response {
    let unavailable = matches!(error, ApiError::Unavailable);
    let error = error.extend();
    let body = serde_json::json!({ "errors": [{
        "message": error.message,
        "extensions": error.extensions,
    }]});
    if unavailable {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, RETRY_AFTER_SECONDS)],
            axum::Json(body),
        )
            .into_response();
    }
    (status, axum::Json(body)).into_response()
}

/// True when an executed request failed because the database was unavailable.
fn failed_unavailable(response: &async_graphql::Response) -> bool {
    response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| *c == async_graphql::Value::from("UNAVAILABLE"))
    })
}

/// POST `/graphql`.
pub async fn post(State(app): State<AppState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let client = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| {
            auth::ClientAddress(client_address(info.0.ip(), &headers, &app.trusted_proxies))
        });
    // JSON only: a form or text/plain POST is what another site can make a browser send.
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    if !json {
        app.metrics.count_error("VALIDATION");
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::invalid(
                "body",
                "send the GraphQL request as JSON (Content-Type: application/json)",
            ),
        );
    }
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(error) => {
            app.metrics.count_error("VALIDATION");
            let cause = error.into_inner();
            let stalled =
                std::iter::successors(Some(&*cause as &dyn std::error::Error), |e| e.source())
                    .any(|e| e.is::<tower_http::timeout::TimeoutError>());
            let (status, message) = if stalled {
                (
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "the request stopped arriving for {} seconds",
                        app.body_timeout.as_secs()
                    ),
                )
            } else {
                (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the request is larger than {} KiB", MAX_BODY_BYTES / 1024),
                )
            };
            return error_response(status, ApiError::invalid("body", message));
        }
    };
    let request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(e) => {
            app.metrics.count_error("VALIDATION");
            return error_response(
                StatusCode::BAD_REQUEST,
                ApiError::invalid(
                    "body",
                    format!("the request is not a GraphQL request in JSON: {e}"),
                ),
            );
        }
    };
    let session = match caller(&app.store, &headers).await {
        Ok(session) => session,
        Err(error) => {
            app.metrics.count_error(error.code());
            return error_response(StatusCode::UNAUTHORIZED, error);
        }
    };
    if by_cookie(session.as_ref()) && !from_our_origin(&headers, app.public_origin.as_deref()) {
        app.metrics.count_error("FORBIDDEN");
        return error_response(StatusCode::FORBIDDEN, cross_site());
    }
    let mut request = request.data(new_user_loader(app.store.clone()));
    if let Some(client) = client {
        request = request.data(client);
    }
    // In production the contract is schema.graphql; the live schema only for signed-in callers.
    if app.production && session.is_none() {
        request = request.disable_introspection();
    }
    if let Some(session) = session {
        request = request.data(session);
    }
    let response = app.schema.execute(request).await;
    record(&app.metrics, &response);
    let unavailable = failed_unavailable(&response);
    let mut http = GraphQLResponse::from(response).into_response();
    if unavailable {
        // An outage told as an outage: clients and proxies retry, nobody reads it as a bug.
        *http.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        http.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
    }
    http
}

fn record(metrics: &Metrics, response: &async_graphql::Response) {
    metrics.count_operation();
    for error in &response.errors {
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .and_then(|v| match v {
                async_graphql::Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "INTERNAL".into());
        metrics.count_error(&code);
    }
}

/// GET `/graphql`: the WebSocket for subscriptions. The caller is the upgrade request's cookie
/// or bearer token, or a `token` in the `connection_init` payload.
pub async fn websocket(
    State(app): State<AppState>,
    protocol: GraphQLProtocol,
    headers: HeaderMap,
    place: Option<axum::Extension<Place>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let from_headers = match caller(&app.store, &headers).await {
        Ok(session) => session,
        Err(error @ ApiError::Unavailable) => {
            app.metrics.count_error(error.code());
            return error_response(StatusCode::SERVICE_UNAVAILABLE, error);
        }
        Err(_) => None,
    };
    // A page on another site may open a WebSocket that carries the cookie: refused.
    if by_cookie(from_headers.as_ref()) && !from_our_origin(&headers, app.public_origin.as_deref())
    {
        app.metrics.count_error("FORBIDDEN");
        return error_response(StatusCode::FORBIDDEN, cross_site());
    }
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // The same limit as an HTTP body.
        .max_message_size(MAX_BODY_BYTES)
        .max_frame_size(MAX_BODY_BYTES)
        .on_upgrade(move |socket| async move {
            // The socket keeps its connection's place among the server's connections.
            let _place = place.and_then(|p| p.take());
            let store = app.store.clone();
            let (mut sink, stream) = socket.split();
            // At shutdown the subscriptions end first (each sends `complete`), then the input
            // ends, which ends the protocol, and the socket is closed "going away".
            let stopped = app.api.stopped();
            let input = stream.take_until(async move {
                stopped.await;
                tokio::time::sleep(COMPLETES_BEFORE_CLOSE).await;
            });
            GraphQLWebSocket::new_with_pair(&mut sink, input, app.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let mut data = Data::default();
                    let token = payload
                        .get("token")
                        .and_then(|t| t.as_str())
                        .map(str::to_string);
                    let session = match token {
                        Some(token) => match auth::from_bearer(&store, &token).await {
                            Ok(Some(session)) => session,
                            Ok(None) => {
                                return Err(async_graphql::Error::new("the token is not valid"));
                            }
                            Err(error) => return Err(error.extend()),
                        },
                        None => from_headers
                            .ok_or_else(|| async_graphql::Error::new("sign in to continue"))?,
                    };
                    data.insert(session);
                    data.insert(new_user_loader(store));
                    Ok(data)
                })
                .serve()
                .await;
            if app.api.is_stopping() {
                let close = CloseFrame {
                    code: axum::extract::ws::close_code::AWAY,
                    reason: "the server is shutting down".into(),
                };
                let _ = sink.send(Message::Close(Some(close))).await;
            }
        })
}

/// How long subscriptions have to send `complete` at shutdown before their socket closes.
const COMPLETES_BEFORE_CLOSE: std::time::Duration = std::time::Duration::from_millis(200);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_address_is_believed_only_from_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let proxy = ip("10.0.0.2");
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7".parse().unwrap());
        // Straight from a client: what it claims is ignored.
        assert_eq!(
            client_address(ip("198.51.100.1"), &headers, &[proxy]),
            ip("198.51.100.1")
        );
        // Through the proxy: the address the proxy saw, not what the client put in front.
        assert_eq!(client_address(proxy, &headers, &[proxy]), ip("203.0.113.7"));
        // Two proxies in a row.
        headers.insert("x-forwarded-for", "203.0.113.7, 10.0.0.3".parse().unwrap());
        assert_eq!(
            client_address(proxy, &headers, &[proxy, ip("10.0.0.3")]),
            ip("203.0.113.7")
        );
        // A garbled header from the proxy: the proxy itself, never a guess.
        headers.insert("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(client_address(proxy, &headers, &[proxy]), proxy);
        // No proxies configured: the peer.
        assert_eq!(client_address(proxy, &headers, &[]), proxy);
    }
}

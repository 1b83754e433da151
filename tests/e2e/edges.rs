//! The edges hold through the real binary: a live subscription ends, with a coded error, when
//! the caller's token is revoked or their session signed out; a request carrying the session
//! cookie from another site is refused; responses carry security headers; a WebSocket message
//! is bounded like a request body; clients that stall are cut off, connections are limited,
//! and a shutdown completes subscriptions and closes their sockets "going away".

use roadback_e2e::Server;
use roadback_store::testing::TestDatabase;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::graphql::{Client, next_json, provision, subscribe};

async fn record_consent(ana: &Client<'_>, id: &str, version: u64, key: &str) {
    ana.ok(
        "giveConsent",
        &format!(
            r#"mutation {{ giveConsent(input: {{ beneficiaryId: "{id}", expectedVersion: {version},
            idempotencyKey: "{key}", occurredOn: "2010-03-02", kind: EVALUATION_USE,
            givenBy: BENEFICIARY, evidence: SIGNED_FORM }}) {{ version }} }}"#
        ),
        json!({}),
    )
    .await;
}

/// The error a subscription ends with, then its `complete`.
async fn ended_with(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> String {
    let next: Value = next_json(socket).await;
    assert_eq!(next["type"], "next", "{next}");
    let code = next["payload"]["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("an error, not data: {next}"))
        .to_string();
    let complete = next_json(socket).await;
    assert_eq!(complete["type"], "complete", "{complete}");
    code
}

async fn subscriptions_end_when_access_lapses(server: &Server, token: &str) {
    let ana = Client::sign_in(server, "ana@example.org").await;
    let registered = ana
        .ok(
            "registerBeneficiary",
            r#"mutation { registerBeneficiary(input: { idempotencyKey: "s-1", occurredOn: "2010-03-02",
            caseCode: "AL-S-1", gender: FEMALE, citizenship: "AL", countryOfAssistance: "AL",
            identifiedOn: "2010-03-01", identificationRoute: NGO }) { beneficiaryId } }"#,
            json!({}),
        )
        .await;
    let id = registered["beneficiaryId"].as_str().unwrap().to_string();
    // From the version read (the registration): an entry appended before the server has set the
    // subscription up still comes (a mutation is one round trip, quicker than that set-up).
    let query = format!(
        r#"subscription {{ beneficiaryTimeline(beneficiaryId: "{id}", afterVersion: 1) {{ eventType }} }}"#
    );

    // A token's subscription: delivered while the token holds, ended once it is revoked.
    let nrm = Client::bearer(server, token);
    let mut by_token = subscribe(server, &nrm, &query).await;
    // The supervisor's session subscription, ended by signing out.
    let sara = Client::sign_in(server, "sara@example.org").await;
    let mut by_session = subscribe(server, &sara, &query).await;
    record_consent(&ana, &id, 1, "c-1").await;
    for socket in [&mut by_token, &mut by_session] {
        let delivered = next_json(socket).await;
        assert_eq!(
            delivered["payload"]["data"]["beneficiaryTimeline"]["eventType"], "ConsentGiven",
            "{delivered}"
        );
    }

    let admin = Client::sign_in(server, "admin@example.org").await;
    let tokens = admin
        .ok("apiTokens", "{ apiTokens { id name } }", json!({}))
        .await;
    let token_id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "NRM sync")
        .unwrap()["id"]
        .clone();
    admin
        .ok(
            "revokeApiToken",
            "mutation($id: UUID!) { revokeApiToken(id: $id) }",
            json!({ "id": token_id }),
        )
        .await;
    sara.ok("signOut", "mutation { signOut }", json!({})).await;

    record_consent(&ana, &id, 2, "c-2").await;
    assert_eq!(ended_with(&mut by_token).await, "UNAUTHENTICATED");
    assert_eq!(ended_with(&mut by_session).await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_live_subscription_ends_when_its_token_is_revoked_or_its_session_ends_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let token = provision(dir.path(), &[]);
    let server = Server::start(dir.path(), &[]).await;
    subscriptions_end_when_access_lapses(&server, &token).await;
    assert!(server.terminate().success());
}

#[tokio::test]
async fn a_live_subscription_ends_when_its_token_is_revoked_or_its_session_ends_on_postgresql() {
    let db = TestDatabase::postgres().await;
    let url = db.postgres_url().unwrap().to_string();
    let env = [("DATABASE_URL", url.as_str())];
    let dir = tempfile::tempdir().unwrap();
    let token = provision(dir.path(), &env);
    let server = Server::start(dir.path(), &env).await;
    subscriptions_end_when_access_lapses(&server, &token).await;
    assert!(server.terminate().success());
}

const REGISTER: &str = r#"{"query":"mutation { registerBeneficiary(input: { idempotencyKey: \"x-site\", occurredOn: \"2010-03-02\", caseCode: \"AL-X-1\", gender: FEMALE, citizenship: \"AL\", countryOfAssistance: \"AL\", identifiedOn: \"2010-03-01\", identificationRoute: NGO }) { version } }"}"#;

#[tokio::test]
async fn cross_site_requests_with_the_session_cookie_are_refused_and_responses_carry_security_headers()
 {
    let dir = tempfile::tempdir().unwrap();
    provision(dir.path(), &[]);
    let server = Server::start(dir.path(), &[]).await;
    let ana = Client::sign_in(&server, "ana@example.org").await;
    let cookie = ana.cookie().unwrap().to_string();
    let post = |content_type: &'static str, origin: Option<&'static str>| {
        let mut request = server
            .http
            .post(format!("{}/graphql", server.url))
            .header("cookie", &cookie)
            .header("content-type", content_type)
            .body(REGISTER);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    };

    // What a page on another site can make a browser send: a form or text/plain POST.
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let (status, body) = post(content_type, Some("https://evil.example")).await;
        assert_eq!(status, 415, "{content_type}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION");
    }
    // JSON with the cookie from another origin.
    let (status, body) = post("application/json", Some("https://evil.example")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["reason"], "CROSS_SITE");

    // A WebSocket from another origin with the cookie.
    let mut request = format!("{}/graphql", server.url.replace("http", "ws"))
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    headers.insert("cookie", cookie.parse().unwrap());
    headers.insert("origin", "https://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(request).await;
    assert!(
        matches!(&refused, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 403),
        "{refused:?}"
    );

    // From the server's own origin it works, and nothing of the refused attempts was stored.
    let own = server.url.clone();
    let own: &'static str = Box::leak(own.into_boxed_str());
    let (status, body) = post("application/json", Some(own)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["registerBeneficiary"]["version"], 1, "{body}");

    // Security headers, on the API and elsewhere.
    for path in ["/graphql", "/healthz"] {
        let response = server
            .http
            .post(format!("{}{path}", server.url))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let headers = response.headers();
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
    }
    assert!(server.terminate().success());
}

#[tokio::test]
async fn a_websocket_message_over_the_body_limit_closes_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let token = provision(dir.path(), &[]);
    let server = Server::start(dir.path(), &[]).await;
    let nrm = Client::bearer(&server, &token);
    let mut socket = subscribe(&server, &nrm, "subscription { caseload { beneficiaryId } }").await;
    let huge = json!({ "id": "2", "type": "subscribe",
        "payload": { "query": format!("subscription {{ caseload {{ beneficiaryId }} }} #{}", "x".repeat(300 * 1024)) } });
    use futures_util::{SinkExt, StreamExt};
    let _ = socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            huge.to_string(),
        ))
        .await;
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) => return true,
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert_eq!(ended, Ok(true), "the connection ends");
    assert!(server.terminate().success());
}

#[tokio::test]
async fn in_production_metrics_and_introspection_are_not_open_to_anonymous_callers() {
    let dir = tempfile::tempdir().unwrap();
    let key = "5".repeat(64);
    let env = [
        ("ROADBACK_ENV", "production"),
        ("ROADBACK_MASTER_KEY", key.as_str()),
        ("ROADBACK_METRICS_TOKEN", "collector-secret"),
    ];
    provision(dir.path(), &env);
    let server = Server::start(dir.path(), &env).await;
    let metrics = |auth: Option<(&'static str, String)>| {
        let mut request = server.http.get(format!("{}/metrics", server.url));
        if let Some((name, value)) = auth {
            request = request.header(name, value);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(metrics(None).await, 401);
    assert_eq!(
        metrics(Some(("authorization", "Bearer wrong".into()))).await,
        401
    );
    assert_eq!(
        metrics(Some(("authorization", "Bearer collector-secret".into()))).await,
        200
    );
    let admin = Client::sign_in(&server, "admin@example.org").await;
    assert_eq!(
        metrics(Some(("cookie", admin.cookie().unwrap().to_string()))).await,
        200
    );
    let ana = Client::sign_in(&server, "ana@example.org").await;
    assert_eq!(
        metrics(Some(("cookie", ana.cookie().unwrap().to_string()))).await,
        401,
        "a caseworker is no metrics collector"
    );

    let introspect = "{ __schema { queryType { name } } }";
    let anonymous = Client::anonymous(&server).gql(introspect, json!({})).await;
    assert!(
        anonymous["data"]["__schema"].is_null(),
        "no schema for anonymous callers: {anonymous}"
    );
    let signed_in = ana.gql(introspect, json!({})).await;
    assert_eq!(
        signed_in["data"]["__schema"]["queryType"]["name"], "Query",
        "{signed_in}"
    );
    assert!(server.terminate().success());
}

#[tokio::test]
async fn at_shutdown_a_subscription_is_completed_and_its_socket_closed_going_away() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let dir = tempfile::tempdir().unwrap();
    provision(dir.path(), &[]);
    let server = Server::start(dir.path(), &[]).await;
    let ana = Client::sign_in(&server, "ana@example.org").await;
    let mut socket = subscribe(&server, &ana, "subscription { caseload { caseCode } }").await;
    // The subscription is live before the server is told to stop.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.signal_stop();
    let complete = next_json(&mut socket).await;
    assert_eq!(complete["type"], "complete", "{complete}");
    assert_eq!(complete["id"], "1", "{complete}");
    let close = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
            .await
            .expect("a close frame within 5 s")
        {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("the socket ended without a close frame: {other:?}"),
        }
    };
    let close = close.expect("a close code");
    assert_eq!(u16::from(close.code), 1001, "{close:?}");
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
}

/// Reads what the server sends on a raw connection until it closes it (or 10 s pass).
async fn read_until_closed(connection: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        connection.read_to_end(&mut received),
    )
    .await;
    assert!(read.is_ok(), "the server did not close the connection");
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn stalled_clients_are_cut_off_and_connections_are_limited() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("ROADBACK_MAX_CONNECTIONS", "2"),
            ("ROADBACK_HEADER_TIMEOUT", "3"),
        ],
    )
    .await;
    let address = server.url.trim_start_matches("http://").to_string();
    let fresh = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    };
    // Two clients that never finish their headers take every place...
    let mut stuck = Vec::new();
    for _ in 0..2 {
        let mut connection = tokio::net::TcpStream::connect(&address).await.unwrap();
        connection
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        stuck.push(connection);
    }
    // ...so a third waits to be accepted,
    let waiting = fresh()
        .get(format!("{}/healthz", server.url))
        .timeout(std::time::Duration::from_millis(500))
        .send()
        .await;
    assert!(waiting.is_err(), "served beyond the limit: {waiting:?}");
    // until the header deadline cuts them off.
    for connection in &mut stuck {
        read_until_closed(connection).await;
    }
    let served = fresh()
        .get(format!("{}/healthz", server.url))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);

    // A body that stops arriving is answered 408, coded, once it has paused too long.
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow.write_all(
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\"",
    )
    .await
    .unwrap();
    let answer = read_until_closed(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"field\":\"body\""), "{answer}");
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_sign_in_throttling_counts_the_forwarded_client() {
    let dir = tempfile::tempdir().unwrap();
    provision(dir.path(), &[]);
    // The test's requests come from 127.0.0.1, configured as the proxy in front.
    let server = Server::start(dir.path(), &[("ROADBACK_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let sign_in = |client: &'static str, email: String, password: &'static str| {
        let request = server
            .http
            .post(format!("{}/graphql", server.url))
            .header("x-forwarded-for", format!("6.6.6.6, {client}"))
            .json(&json!({
                "query": "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { user { id } } }",
                "variables": { "e": email, "p": password } }));
        async move {
            let body: Value = request.send().await.unwrap().json().await.unwrap();
            body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("OK")
                .to_string()
        }
    };
    // One client tries a hundred addresses (never five times the same): then it is stopped...
    // (`auth::MAX_SIGN_INS_PER_CLIENT` is 100.)
    for i in 0..100 {
        assert_eq!(
            sign_in(
                "203.0.113.7",
                format!("nobody{i}@example.org"),
                "wrong password!"
            )
            .await,
            "VALIDATION"
        );
    }
    assert_eq!(
        sign_in(
            "203.0.113.7",
            "ana@example.org".into(),
            crate::graphql::PASSWORD
        )
        .await,
        "RATE_LIMITED"
    );
    // ...while another client behind the same proxy signs in, and what a client puts in front
    // of the proxy's entry (6.6.6.6 above) counts for nothing.
    assert_eq!(
        sign_in(
            "203.0.113.8",
            "ana@example.org".into(),
            crate::graphql::PASSWORD
        )
        .await,
        "OK"
    );
    assert!(server.terminate().success());
}

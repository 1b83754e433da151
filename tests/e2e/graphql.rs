//! The GraphQL API through the real binary, over HTTP and WebSocket, on both backends: a
//! caseworker's day, the errors every client must be able to rely on, an integrator's token,
//! and subscriptions across two server instances.

use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use roadback_e2e::{Server, roadback};
use roadback_store::testing::TestDatabase;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub(crate) const PASSWORD: &str = "correct horse battery";

/// Runs a CLI command in `dir` and returns its standard output.
pub(crate) fn cli(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let output = roadback(dir)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "roadback {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// Organisations, a caseworker, a supervisor and an integrator token, made with the CLI.
pub(crate) fn provision(dir: &Path, env: &[(&str, &str)]) -> String {
    cli(dir, env, &["migrate"]);
    cli(
        dir,
        env,
        &[
            "organisation",
            "create",
            "--name",
            "Different and Equal",
            "--country",
            "AL",
        ],
    );
    cli(
        dir,
        env,
        &[
            "organisation",
            "create",
            "--name",
            "Atina",
            "--country",
            "RS",
        ],
    );
    let mut with_password = env.to_vec();
    with_password.push(("ROADBACK_PASSWORD", PASSWORD));
    for (email, role) in [
        ("ana@example.org", "caseworker"),
        ("sara@example.org", "supervisor"),
        ("admin@example.org", "administrator"),
    ] {
        cli(
            dir,
            &with_password,
            &[
                "user",
                "create",
                "--organisation",
                "Different and Equal",
                "--email",
                email,
                "--name",
                email,
                "--role",
                role,
            ],
        );
    }
    cli(
        dir,
        &with_password,
        &[
            "user",
            "create",
            "--organisation",
            "Atina",
            "--email",
            "mila@example.org",
            "--name",
            "Mila",
            "--role",
            "caseworker",
        ],
    );
    cli(
        dir,
        env,
        &[
            "user",
            "create",
            "--organisation",
            "Different and Equal",
            "--email",
            "nrm@example.org",
            "--name",
            "Referral mechanism",
            "--role",
            "integrator",
        ],
    );
    cli(
        dir,
        env,
        &[
            "token",
            "issue",
            "--email",
            "nrm@example.org",
            "--name",
            "NRM sync",
            "--scopes",
            "read,write",
        ],
    )
}

/// A client of one server with a session cookie or a bearer token.
pub(crate) struct Client<'a> {
    server: &'a Server,
    auth: Option<(&'static str, String)>,
}

impl<'a> Client<'a> {
    pub(crate) fn anonymous(server: &'a Server) -> Self {
        Self { server, auth: None }
    }

    pub(crate) async fn sign_in(server: &'a Server, email: &str) -> Self {
        Self::sign_in_with(server, email, PASSWORD).await
    }

    pub(crate) async fn sign_in_with(server: &'a Server, email: &str, password: &str) -> Self {
        let response = server
            .http
            .post(format!("{}/graphql", server.url))
            .json(&json!({ "query": "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { user { id } } }",
                            "variables": { "e": email, "p": password } }))
            .send()
            .await
            .unwrap();
        let Some(cookie) = response.headers().get("set-cookie").cloned() else {
            panic!(
                "no session cookie for {email}: {}",
                response.text().await.unwrap()
            );
        };
        let cookie = cookie.to_str().unwrap().to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let pair = cookie.split(';').next().unwrap().to_string();
        Self {
            server,
            auth: Some(("cookie", pair)),
        }
    }

    /// The `name=value` of the session cookie, when signed in with one.
    pub(crate) fn cookie(&self) -> Option<&str> {
        match &self.auth {
            Some(("cookie", pair)) => Some(pair),
            _ => None,
        }
    }

    pub(crate) fn bearer(server: &'a Server, token: &str) -> Self {
        Self {
            server,
            auth: Some(("authorization", format!("Bearer {token}"))),
        }
    }

    pub(crate) async fn raw(&self, body: Vec<u8>) -> (u16, Value) {
        let mut request = self
            .server
            .http
            .post(format!("{}/graphql", self.server.url))
            .header("content-type", "application/json")
            .body(body);
        if let Some((name, value)) = &self.auth {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    pub(crate) async fn gql(&self, query: &str, variables: Value) -> Value {
        let body = serde_json::to_vec(&json!({ "query": query, "variables": variables })).unwrap();
        self.raw(body).await.1
    }

    /// Runs a mutation that must succeed; returns its field's value.
    pub(crate) async fn ok(&self, field: &str, query: &str, variables: Value) -> Value {
        let response = self.gql(query, variables).await;
        assert!(response["errors"].is_null(), "{field}: {response}");
        response["data"][field].clone()
    }
}

pub(crate) fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

const REGISTER: &str = r#"mutation($key: String!) { registerBeneficiary(input: {
    idempotencyKey: $key, occurredOn: "2010-03-02", caseCode: "AL-2010-1", gender: FEMALE,
    birthYear: 1990, birthMonth: 5, citizenship: "AL", countryOfAssistance: "AL",
    identifiedOn: "2010-03-01", identificationRoute: LAW_ENFORCEMENT,
    formsOfExploitation: [SEXUAL_EXPLOITATION] }) { beneficiaryId version events { id eventType } } }"#;

/// Opens a graphql-transport-ws subscription and returns the socket after the first `next`
/// is awaited by the caller.
pub(crate) async fn subscribe(
    server: &Server,
    client: &Client<'_>,
    query: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut request = format!("{}/graphql", server.url.replace("http", "ws"))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    if let Some((name, value)) = &client.auth {
        request.headers_mut().insert(*name, value.parse().unwrap());
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": {} }).to_string(),
        ))
        .await
        .unwrap();
    let ack = next_json(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    socket
        .send(Message::text(
            json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }).to_string(),
        ))
        .await
        .unwrap();
    socket
}

pub(crate) async fn next_json(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a message within 5 s")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] != "ping" {
                return value;
            }
        }
    }
}

/// A caseworker's day over HTTP, a live subscription over WebSocket, and the error contract.
async fn caseworker_flow(server: &Server, other: &Server, token: &str) {
    let ana = Client::sign_in(server, "ana@example.org").await;
    let me = ana
        .ok(
            "me",
            "{ me { user { role } organisation { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["organisation"]["name"], "Different and Equal");

    let registered = ana
        .ok("registerBeneficiary", REGISTER, json!({ "key": "reg-1" }))
        .await;
    let id = registered["beneficiaryId"].as_str().unwrap().to_string();
    assert_eq!(registered["version"], 1);

    // The supervisor watches the timeline live, through the other server instance.
    let sara = Client::sign_in(other, "sara@example.org").await;
    let mut socket = subscribe(
        other,
        &sara,
        &format!(r#"subscription {{ beneficiaryTimeline(beneficiaryId: "{id}", afterVersion: 1) {{ eventType summary }} }}"#),
    )
    .await;

    let change = |version: u64, key: &str, on: &str| {
        format!(
            r#"beneficiaryId: "{id}", expectedVersion: {version}, idempotencyKey: "{key}", occurredOn: "{on}""#
        )
    };
    let steps = [
        (
            "giveConsent",
            format!(
                "mutation {{ giveConsent(input: {{ {}, kind: ASSISTANCE, givenBy: BENEFICIARY, evidence: SIGNED_FORM }}) {{ version }} }}",
                change(1, "c-1", "2010-03-02")
            ),
        ),
        (
            "setPlanGoal",
            format!(
                "mutation {{ setPlanGoal(input: {{ {}, domain: HOUSING, targetOn: \"2010-09-01\" }}) {{ version }} }}",
                change(2, "g-1", "2010-03-05")
            ),
        ),
        (
            "planService",
            format!(
                "mutation {{ planService(input: {{ {}, service: ACCOMMODATION }}) {{ version }} }}",
                change(3, "s-1", "2010-03-05")
            ),
        ),
        (
            "recordServiceDelivery",
            format!(
                "mutation {{ recordServiceDelivery(input: {{ {}, service: PSYCHOLOGICAL, to: \"2010-04-06\" }}) {{ version }} }}",
                change(4, "s-2", "2010-03-06")
            ),
        ),
        (
            "recordAssessment",
            format!(
                "mutation {{ recordAssessment(input: {{ {}, frameworkVersion: 1, scores: [{{ domain: SAFETY, score: 2 }}, {{ domain: HOUSING, score: 1 }}] }}) {{ version }} }}",
                change(5, "a-1", "2010-03-10")
            ),
        ),
        (
            "changeStatus",
            format!(
                "mutation {{ changeStatus(input: {{ {}, to: IN_CRISIS_CARE }}) {{ version }} }}",
                change(6, "st-1", "2010-03-02")
            ),
        ),
    ];
    for (i, (field, query)) in steps.iter().enumerate() {
        let result = ana.ok(field, query, json!({})).await;
        assert_eq!(result["version"], i as u64 + 2, "{field}");
        let pushed = next_json(&mut socket).await;
        assert_eq!(pushed["type"], "next", "{pushed}");
        assert!(
            pushed["payload"]["data"]["beneficiaryTimeline"]["summary"].is_string(),
            "{pushed}"
        );
    }

    let view = ana
        .ok(
            "beneficiary",
            r#"query($id: UUID!) { beneficiary(id: $id) { version status
                plan { status consents { kind } goals { domain state } services { service state } caseworkerName }
                timeline { eventType summary }
                outcome { firstServiceOn transitions { to } } } }"#,
            json!({ "id": id }),
        )
        .await;
    assert_eq!(view["version"], 7);
    assert_eq!(view["status"], "IN_CRISIS_CARE");
    assert_eq!(view["plan"]["goals"][0]["domain"], "HOUSING");
    assert_eq!(view["plan"]["services"].as_array().unwrap().len(), 2);
    assert_eq!(view["timeline"].as_array().unwrap().len(), 7);
    assert_eq!(view["outcome"]["firstServiceOn"], "2010-03-06");

    // A stale expectedVersion: CONFLICT with the current version; nothing stored.
    let stale = ana
        .gql(
            &format!(
                "mutation {{ changeStatus(input: {{ {}, to: IN_TRANSITION }}) {{ version }} }}",
                change(3, "st-2", "2010-04-01")
            ),
            json!({}),
        )
        .await;
    assert_eq!(code(&stale), "CONFLICT", "{stale}");
    assert_eq!(stale["errors"][0]["extensions"]["currentVersion"], 7);

    // The same idempotency key again: the first result, nothing new.
    let again = ana.ok("giveConsent", &steps[0].1, json!({})).await;
    assert_eq!(again["version"], 2);
    let again = ana
        .ok("registerBeneficiary", REGISTER, json!({ "key": "reg-1" }))
        .await;
    assert_eq!(again["beneficiaryId"], registered["beneficiaryId"]);

    // The same idempotency key with other content: CONFLICT, IDEMPOTENCY_KEY_REUSED; nothing
    // stored.
    let reused = ana
        .gql(
            &steps[0].1.replace("ASSISTANCE", "FOLLOW_UP_CONTACT"),
            json!({}),
        )
        .await;
    assert_eq!(code(&reused), "CONFLICT", "{reused}");
    assert_eq!(
        reused["errors"][0]["extensions"]["reason"],
        "IDEMPOTENCY_KEY_REUSED"
    );

    // Voiding the consent that later entries relied on contradicts them: refused, naming the
    // first of them.
    let timeline = ana
        .ok(
            "beneficiary",
            r#"query($id: UUID!) { beneficiary(id: $id) { timeline { id eventType } } }"#,
            json!({ "id": id }),
        )
        .await["timeline"]
        .as_array()
        .unwrap()
        .clone();
    let entry = |event_type: &str| {
        timeline
            .iter()
            .find(|e| e["eventType"] == event_type)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let void = ana
        .gql(
            &format!(
                "mutation {{ voidEvent(input: {{ {}, eventId: \"{}\" }}) {{ version }} }}",
                change(7, "v-1", "2010-04-01"),
                entry("ConsentGiven")
            ),
            json!({}),
        )
        .await;
    let extensions = &void["errors"][0]["extensions"];
    assert_eq!(extensions["reason"], "CONTRADICTS_LATER_ENTRY", "{void}");
    assert_eq!(
        extensions["contradicts"]["eventId"],
        entry("StatusChanged"),
        "{void}"
    );
    assert_eq!(
        extensions["contradicts"]["rule"], "CONSENT_REQUIRED",
        "{void}"
    );

    // A correction restates the command: the delivery corrected to end on 20 March.
    let delivery_id = entry("ServiceDelivered");
    let corrected = ana
        .ok(
            "recordServiceDelivery",
            &format!(
                "mutation {{ recordServiceDelivery(input: {{ {}, corrects: \"{delivery_id}\", service: PSYCHOLOGICAL, to: \"2010-03-20\" }}) {{ version events {{ eventType }} }} }}",
                change(7, "s-2-fix", "2010-03-06")
            ),
            json!({}),
        )
        .await;
    assert_eq!(corrected["events"][0]["eventType"], "EventCorrected");
    assert_eq!(corrected["version"], 8);

    // A domain rule: the state machine; the field is named.
    let invalid = ana
        .gql(
            &format!(
                "mutation {{ changeStatus(input: {{ {}, to: REINTEGRATED }}) {{ version }} }}",
                change(8, "st-3", "2010-04-01")
            ),
            json!({}),
        )
        .await;
    assert_eq!(code(&invalid), "VALIDATION");
    assert_eq!(
        invalid["errors"][0]["extensions"]["reason"],
        "INVALID_TRANSITION"
    );
    assert_eq!(invalid["errors"][0]["extensions"]["field"], "to");

    // Malformed input, a too-deep query, an over-large body: each has its code.
    let malformed = ana
        .gql(
            "mutation { registerBeneficiary(input: { caseCode: 7 }) { version } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&malformed), "VALIDATION", "{malformed}");
    let (status, not_json) = ana.raw(b"{ this is not json".to_vec()).await;
    assert_eq!((status, code(&not_json)), (400, "VALIDATION"));
    let too_deep = ana
        .gql(
            &format!(
                "{{ __schema {{ types {{ {} name {} }} }} }}",
                "fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType {",
                "} } } } } } } }"
            ),
            json!({}),
        )
        .await;
    assert_eq!(code(&too_deep), "VALIDATION", "{too_deep}");
    let (status, large) = ana.raw(vec![b' '; 300 * 1024]).await;
    assert_eq!((status, code(&large)), (413, "VALIDATION"));
    let too_complex = ana
        .gql("{ beneficiaries(first: 100) { edges { node { timeline(last: 500) { summary recordedAt occurredOn } } } } }", json!({}))
        .await;
    assert_eq!(code(&too_complex), "VALIDATION", "{too_complex}");
    let version_after = ana
        .ok(
            "beneficiary",
            "query($id: UUID!) { beneficiary(id: $id) { version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        version_after["version"], 8,
        "nothing was stored by the failures"
    );

    // Another organisation's caseworker cannot see the record.
    let mila = Client::sign_in(server, "mila@example.org").await;
    let hidden = mila
        .gql(
            "query($id: UUID!) { beneficiary(id: $id) { caseCode } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&hidden), "NOT_FOUND");
    assert!(hidden["data"].is_null() || hidden["data"]["beneficiary"].is_null());

    // Signed out: UNAUTHENTICATED.
    let anonymous = Client::anonymous(server)
        .gql("{ me { user { id } } }", json!({}))
        .await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");

    // The integrator's token reads the organisation's list (read models catch up within a second).
    let nrm = Client::bearer(server, token);
    let mut listed = Value::Null;
    for _ in 0..100 {
        listed = nrm
            .ok(
                "beneficiaries",
                "{ beneficiaries(first: 10) { totalCount edges { node { caseCode version } } } }",
                json!({}),
            )
            .await;
        if listed["edges"][0]["node"]["version"] == 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(listed["totalCount"], 1, "{listed}");
    assert_eq!(listed["edges"][0]["node"]["version"], 8, "{listed}");
    let too_many = nrm
        .gql("{ beneficiaries(first: 1000) { totalCount } }", json!({}))
        .await;
    assert_eq!(code(&too_many), "VALIDATION");

    // The administrator reads the access log and revokes the token: it stops working at once.
    let admin = Client::sign_in(server, "admin@example.org").await;
    let log = admin
        .ok(
            "accessLog",
            "{ accessLog(first: 100) { action purpose beneficiaryId } }",
            json!({}),
        )
        .await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["beneficiaryId"] == id.as_str() && e["action"] == "READ_RECORD"),
        "{log}"
    );
    let tokens = admin
        .ok("apiTokens", "{ apiTokens { id revokedAt } }", json!({}))
        .await;
    let token_id = tokens[0]["id"].as_str().unwrap().to_string();
    admin
        .ok(
            "revokeApiToken",
            "mutation($id: UUID!) { revokeApiToken(id: $id) }",
            json!({ "id": token_id }),
        )
        .await;
    let (status, revoked) = nrm
        .raw(serde_json::to_vec(&json!({ "query": "{ me { user { id } } }" })).unwrap())
        .await;
    assert_eq!((status, code(&revoked)), (401, "UNAUTHENTICATED"));

    // Signing out ends the session.
    ana.ok("signOut", "mutation { signOut }", json!({})).await;
    let after = ana.gql("{ me { user { id } } }", json!({})).await;
    assert_eq!(code(&after), "UNAUTHENTICATED");

    // Failed sign-ins are throttled.
    for _ in 0..5 {
        let wrong = Client::anonymous(server)
            .gql("mutation { signIn(email: \"ana@example.org\", password: \"not the password\") { expiresAt } }", json!({}))
            .await;
        assert_eq!(code(&wrong), "VALIDATION");
    }
    let throttled = Client::anonymous(server)
        .gql(&format!("mutation {{ signIn(email: \"ana@example.org\", password: \"{PASSWORD}\") {{ expiresAt }} }}"), json!({}))
        .await;
    assert_eq!(code(&throttled), "RATE_LIMITED");

    // Metrics count what happened.
    let metrics = server
        .http
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("roadback_graphql_errors_total{code=\"CONFLICT\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_caseworkers_day_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let token = provision(dir.path(), &[]);
    assert!(token.starts_with("rbk_"));
    let server = Server::start(dir.path(), &[]).await;
    // One SQLite file serves one server: the subscription runs on the same instance.
    caseworker_flow(&server, &server, &token).await;
    assert!(server.terminate().success());
}

#[tokio::test]
async fn a_caseworkers_day_on_postgresql_across_two_instances() {
    let db = TestDatabase::postgres().await;
    let url = db.postgres_url().unwrap().to_string();
    let env = [("DATABASE_URL", url.as_str())];
    let dir = tempfile::tempdir().unwrap();
    let token = provision(dir.path(), &env);
    let server = Server::start(dir.path(), &env).await;
    let other = Server::start(dir.path(), &env).await;
    caseworker_flow(&server, &other, &token).await;
    assert!(other.terminate().success());
    assert!(server.terminate().success());
}

#[tokio::test]
async fn the_schema_command_prints_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let sdl = cli(dir.path(), &[], &["schema"]);
    let file =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql")).unwrap();
    assert_eq!(sdl, file.trim());
}

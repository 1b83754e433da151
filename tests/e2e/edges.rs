//! The edges hold through the real binary: a live subscription ends, with a coded error, when
//! the caller's token is revoked or their session signed out.

use roadback_e2e::Server;
use roadback_store::testing::TestDatabase;
use serde_json::{Value, json};

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
    let query =
        format!(r#"subscription {{ beneficiaryTimeline(beneficiaryId: "{id}") {{ eventType }} }}"#);

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

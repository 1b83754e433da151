//! Tokens act within their scopes whatever their account's role; an integrator acts only
//! through tokens; an administrator issues tokens for themself or for integrator accounts,
//! never to act as a colleague; every issue and revocation is in the access log.

mod support;

use roadback_domain::access::{Role, Scope};
use roadback_graphql::auth;
use roadback_store::testing::TestDatabase;
use serde_json::{Value, json};
use support::World;

fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

const ISSUE: &str = r#"mutation($user: UUID!, $days: Int) { issueApiToken(input: { userId: $user,
    name: "sync", scopes: [READ], expiresInDays: $days }) { token { id } secret } }"#;

#[tokio::test]
async fn a_read_token_of_any_role_only_reads() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let caseworker = w
        .session(Role::Caseworker, "cw", Some(vec![Scope::Read]))
        .await;
    let registered = w
        .run(
            &caseworker,
            r#"mutation { registerBeneficiary(input: { idempotencyKey: "r", occurredOn: "2010-03-02",
            caseCode: "AL-1", gender: FEMALE, citizenship: "AL", countryOfAssistance: "AL",
            identifiedOn: "2010-03-01", identificationRoute: NGO }) { beneficiaryId } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&registered), "FORBIDDEN", "{registered}");
    let admin = w
        .session(Role::Administrator, "admin", Some(vec![Scope::Read]))
        .await;
    let created = w
        .run(
            &admin,
            r#"mutation { createUser(input: { email: "new@example.org", displayName: "New", role: CASEWORKER }) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&created), "FORBIDDEN", "{created}");
    let issued = w.run(&admin, ISSUE, json!({ "user": admin.user.id })).await;
    assert_eq!(
        code(&issued),
        "FORBIDDEN",
        "a read token cannot mint tokens"
    );
    let log = w.run(&admin, "{ accessLog { action } }", json!({})).await;
    assert!(
        log["errors"].is_null(),
        "an administrator's read token reads the log: {log}"
    );
}

#[tokio::test]
async fn tokens_are_issued_for_oneself_or_an_integrator_and_logged() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let admin = w.session(Role::Administrator, "admin", None).await;
    let colleague = w.session(Role::Supervisor, "sara", None).await;
    let integrator = w.session(Role::Integrator, "nrm", None).await;

    let as_colleague = w
        .run(&admin, ISSUE, json!({ "user": colleague.user.id }))
        .await;
    assert_eq!(code(&as_colleague), "VALIDATION", "{as_colleague}");
    assert_eq!(as_colleague["errors"][0]["extensions"]["field"], "userId");

    let forever = w
        .run(
            &admin,
            ISSUE,
            json!({ "user": integrator.user.id, "days": 2_147_483_647 }),
        )
        .await;
    assert_eq!(code(&forever), "VALIDATION", "{forever}");
    assert_eq!(forever["errors"][0]["extensions"]["field"], "expiresInDays");

    let own = w.run(&admin, ISSUE, json!({ "user": admin.user.id })).await;
    assert!(own["errors"].is_null(), "{own}");
    let theirs = w
        .run(
            &admin,
            ISSUE,
            json!({ "user": integrator.user.id, "days": 30 }),
        )
        .await;
    assert!(theirs["errors"].is_null(), "{theirs}");
    let token = theirs["data"]["issueApiToken"]["token"]["id"].clone();
    let revoked = w
        .run(
            &admin,
            "mutation($id: UUID!) { revokeApiToken(id: $id) }",
            json!({ "id": token }),
        )
        .await;
    assert!(revoked["errors"].is_null(), "{revoked}");

    let log = w
        .run(&admin, "{ accessLog { action purpose } }", json!({}))
        .await;
    let actions: Vec<&str> = log["data"]["accessLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["REVOKE_API_TOKEN", "ISSUE_API_TOKEN", "ISSUE_API_TOKEN"],
        "newest first: {log}"
    );
}

#[tokio::test]
async fn an_integrator_has_no_password_and_cannot_sign_in_with_one() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let refused = auth::create_user(
        &w.store,
        w.organisation,
        "nrm@example.org",
        "NRM",
        Role::Integrator,
        Some("a long enough password"),
    )
    .await;
    assert!(refused.is_err());
    // One made with a password before this rule cannot use it.
    let hash = auth::hash_password("a long enough password").unwrap();
    w.store
        .create_user(
            w.organisation,
            "old@example.org",
            "Old",
            Role::Integrator,
            Some(&hash),
        )
        .await
        .unwrap();
    let signed_in = auth::sign_in(
        &w.store,
        "old@example.org",
        "a long enough password",
        12,
        None,
    )
    .await;
    let Err(error) = signed_in else {
        panic!("an integrator signed in with a password")
    };
    assert_eq!(error.code(), "VALIDATION");
}

#[tokio::test]
async fn sign_in_attempts_are_counted_before_they_are_checked_per_address_and_client() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let hash = auth::hash_password("the right password").unwrap();
    w.store
        .create_user(
            w.organisation,
            "ana@example.org",
            "Ana",
            Role::Caseworker,
            Some(&hash),
        )
        .await
        .unwrap();
    // A burst of wrong passwords at once: no more than the limit are even checked.
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let store = w.store.clone();
        burst.spawn(async move {
            auth::sign_in(&store, "ana@example.org", "a wrong password!", 12, None)
                .await
                .map(|_| ())
                .unwrap_err()
                .code()
        });
    }
    let mut codes = Vec::new();
    while let Some(code) = burst.join_next().await {
        codes.push(code.unwrap());
    }
    let checked = codes.iter().filter(|c| **c == "VALIDATION").count();
    assert!(checked <= auth::MAX_FAILED_SIGN_INS as usize, "{codes:?}");
    assert_eq!(
        codes.iter().filter(|c| **c == "RATE_LIMITED").count(),
        12 - checked
    );
    let right = auth::sign_in(&w.store, "ana@example.org", "the right password", 12, None).await;
    assert_eq!(right.map(|_| ()).unwrap_err().code(), "RATE_LIMITED");

    // One client trying many addresses is stopped too.
    let client = auth::ClientAddress("192.0.2.7".parse().unwrap());
    for _ in 0..auth::MAX_SIGN_INS_PER_CLIENT {
        w.store
            .record_sign_in_failure("client:192.0.2.7", chrono::Utc::now())
            .await
            .unwrap();
    }
    let another = auth::sign_in(
        &w.store,
        "someone.else@example.org",
        "any password at all",
        12,
        Some(client),
    )
    .await;
    assert_eq!(another.map(|_| ()).unwrap_err().code(), "RATE_LIMITED");
}

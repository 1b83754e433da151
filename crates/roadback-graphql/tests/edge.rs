//! Text is checked at the edge: a control character (NUL...) anywhere in a request is
//! `VALIDATION`, never `INTERNAL`, and nothing is stored. One request cannot multiply itself,
//! signing out clears the cookie as it was set, and a closed store is `UNAVAILABLE`.

mod support;

use roadback_domain::access::Role;
use roadback_store::testing::TestDatabase;
use serde_json::{Value, json};
use support::World;

#[tokio::test]
async fn a_control_character_anywhere_is_refused_before_anything_runs() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let (store, organisation) = (&w.store, w.organisation);
    let session = w.session(Role::Caseworker, "cw", None).await;
    let run = |query: &'static str, variables: Value, signed_in: bool| {
        w.run_as(signed_in.then_some(&session), query, variables)
    };
    let register = r#"mutation($in: RegisterBeneficiaryInput!) { registerBeneficiary(input: $in) { version } }"#;
    let input = json!({ "in": {
        "idempotencyKey": "r-1", "occurredOn": "2010-03-02", "caseCode": "AL\u{0}1",
        "gender": "FEMALE", "citizenship": "AL", "countryOfAssistance": "AL",
        "identifiedOn": "2010-03-01", "identificationRoute": "NGO" } });
    let refused = run(register, input, true).await;
    let extensions = &refused["errors"][0]["extensions"];
    assert_eq!(extensions["code"], "VALIDATION", "{refused}");
    assert_eq!(extensions["reason"], "CONTROL_CHARACTER", "{refused}");
    assert_eq!(extensions["field"], "caseCode", "{refused}");

    let inline = run(
        "mutation { signIn(email: \"a\u{0}@example.org\", password: \"wrong password!\") { expiresAt } }",
        json!({}),
        false,
    )
    .await;
    assert_eq!(
        inline["errors"][0]["extensions"]["code"], "VALIDATION",
        "{inline}"
    );

    let signed_in = run(
        "mutation($e: String!) { signIn(email: $e, password: \"wrong password!\") { expiresAt } }",
        json!({ "e": "a\u{1b}@example.org" }),
        false,
    )
    .await;
    assert_eq!(
        signed_in["errors"][0]["extensions"]["code"], "VALIDATION",
        "{signed_in}"
    );
    assert!(signed_in["errors"][0]["extensions"]["field"].is_null());

    assert!(
        store.read_all(0, 10).await.unwrap().is_empty(),
        "nothing stored"
    );

    // Free strings are capped: a long purpose is refused before the access log sees it, a long
    // case-code filter before the database does.
    let long_purpose = run(
        "query($p: String!) { beneficiary(id: \"00000000-0000-0000-0000-000000000001\", purpose: $p) { id } }",
        json!({ "p": "x".repeat(200_000) }),
        true,
    )
    .await;
    assert_eq!(
        long_purpose["errors"][0]["extensions"]["field"], "purpose",
        "{long_purpose}"
    );
    let long_filter = run(
        "query($c: String!) { beneficiaries(filter: { caseCode: $c }) { totalCount } }",
        json!({ "c": "x".repeat(50_000) }),
        true,
    )
    .await;
    assert_eq!(
        long_filter["errors"][0]["extensions"]["code"], "VALIDATION",
        "{long_filter}"
    );
    assert!(
        store
            .access_log(organisation, None, None, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing logged"
    );
}

#[tokio::test]
async fn signing_out_clears_the_cookie_with_the_attributes_it_was_set_with() {
    let db = TestDatabase::sqlite();
    let w = World::with(&db, |state| state.secure_cookies = true).await;
    let session = w.session(Role::Supervisor, "s", None).await;
    let response = w
        .schema
        .execute(w.request(Some(&session), "mutation { signOut }", json!({})))
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let cookie = response
        .http_headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        cookie.contains("Max-Age=0") && cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

#[tokio::test]
async fn one_request_logs_a_record_once_and_cannot_multiply_itself() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let (store, organisation) = (&w.store, w.organisation);
    let session = w.session(Role::Caseworker, "cw", None).await;
    let run = |query: String| {
        let (w, session) = (&w, &session);
        async move { w.run(session, &query, json!({})).await }
    };
    let registered = run(
        r#"mutation { registerBeneficiary(input: { idempotencyKey: "r", occurredOn: "2010-03-02",
        caseCode: "AL-1", gender: FEMALE, citizenship: "AL", countryOfAssistance: "AL",
        identifiedOn: "2010-03-01", identificationRoute: NGO }) { beneficiaryId } }"#
            .to_string(),
    )
    .await;
    let id = registered["data"]["registerBeneficiary"]["beneficiaryId"]
        .as_str()
        .unwrap()
        .to_string();
    let aliased = |n: usize| {
        let fields: Vec<String> = (0..n)
            .map(|i| format!(r#"a{i}: beneficiary(id: "{id}", purpose: "p") {{ caseCode }}"#))
            .collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let many = run(aliased(1_000)).await;
    assert_eq!(
        many["errors"][0]["extensions"]["reason"], "TOO_MANY_FIELDS",
        "{many}"
    );
    // Parsed documents are kept by query text, only once they passed the checks: a short
    // refused query is refused again.
    for _ in 0..2 {
        let over = run(aliased(21)).await;
        assert_eq!(
            over["errors"][0]["extensions"]["reason"], "TOO_MANY_FIELDS",
            "{over}"
        );
    }
    let log = || store.access_log(organisation, None, None, 100);
    assert!(
        log().await.unwrap().is_empty(),
        "a refused request reads nothing"
    );
    let fifteen = run(aliased(15)).await;
    assert!(fifteen["errors"].is_null(), "{fifteen}");
    assert_eq!(
        log().await.unwrap().len(),
        1,
        "one row for one record in one request"
    );
    // The same text again (its parsed document kept) runs and logs like the first.
    let again = run(aliased(15)).await;
    assert_eq!(again, fifteen);
    assert_eq!(log().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_closed_store_is_unavailable_not_internal() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let session = w.session(Role::Caseworker, "cw", None).await;
    w.store.close().await.unwrap();
    let response = w
        .run(&session, "{ beneficiaries { totalCount } }", json!({}))
        .await;
    assert_eq!(
        response["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{response}"
    );
}

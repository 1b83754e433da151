//! Every stored history obeys the rules, through the real binary on both backends: a
//! correction cannot move a person to another organisation, name another record's entries or
//! reach a record its author may not see; what was refused stored nothing.

use roadback_e2e::Server;
use roadback_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::graphql::{Client, code, provision};

fn register(key: &str, code: &str) -> String {
    format!(
        r#"mutation {{ registerBeneficiary(input: {{
        idempotencyKey: "{key}", occurredOn: "2010-03-02", caseCode: "{code}", gender: FEMALE,
        citizenship: "AL", countryOfAssistance: "AL", identifiedOn: "2010-03-01",
        identificationRoute: NGO, personalData: {{ givenName: "Lule", phone: "+355 68 000 1111" }} }})
        {{ beneficiaryId events {{ id eventType }} }} }}"#
    )
}

/// The first line of a beneficiary's record as `client` sees it.
async fn read(client: &Client<'_>, id: &str) -> Value {
    client
        .gql(
            r#"query($id: UUID!) { beneficiary(id: $id) { version organisationId caseCode
                personalData { givenName phone } } }"#,
            json!({ "id": id }),
        )
        .await
}

async fn case_codes(client: &Client<'_>) -> Vec<String> {
    // The list comes from the read models, which follow the log; wait for both records.
    let mut codes = Vec::new();
    for _ in 0..100 {
        let listed = client
            .ok(
                "beneficiaries",
                "{ beneficiaries(first: 10) { edges { node { caseCode } } } }",
                json!({}),
            )
            .await;
        codes = listed["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["caseCode"].as_str().unwrap().to_string())
            .collect();
        if !codes.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    codes
}

async fn cross_tenant_corrections_are_refused(server: &Server) {
    let ana = Client::sign_in(server, "ana@example.org").await;
    let mila = Client::sign_in(server, "mila@example.org").await;
    let theirs = ana
        .ok("registerBeneficiary", &register("t-1", "DE-1"), json!({}))
        .await;
    let their_id = theirs["beneficiaryId"].as_str().unwrap().to_string();
    let their_registration = theirs["events"][0]["id"].as_str().unwrap().to_string();
    let ours = mila
        .ok("registerBeneficiary", &register("o-1", "AT-1"), json!({}))
        .await;
    let our_id = ours["beneficiaryId"].as_str().unwrap().to_string();
    let before = read(&ana, &their_id).await;
    assert_eq!(
        before["data"]["beneficiary"]["personalData"]["givenName"],
        "Lule"
    );

    let change = |id: &str, key: &str| {
        format!(
            r#"beneficiaryId: "{id}", expectedVersion: 2, idempotencyKey: "{key}", occurredOn: "2010-03-02""#
        )
    };
    let details = r#"caseCode: "AT-1", gender: FEMALE, citizenship: "AL", countryOfAssistance: "AL",
        identifiedOn: "2010-03-01", identificationRoute: NGO"#;
    let attempts = [
        // The old raw correction, its replacement naming the other organisation's person.
        (
            format!(
                r#"mutation {{ correctEvent(input: {{ {}, eventId: "{their_registration}",
                replacement: {{ beneficiary_id: "{their_id}" }} }}) {{ version }} }}"#,
                change(&our_id, "x-1")
            ),
            "VALIDATION",
        ),
        // A registration correction on one's own record has no beneficiary to name, and may
        // not name another record's entry.
        (
            format!(
                r#"mutation {{ correctRegistration(input: {{ {}, corrects: "{their_registration}", {details} }}) {{ version }} }}"#,
                change(&our_id, "x-2")
            ),
            "VALIDATION",
        ),
        // A second beneficiaryId (the last one counts) names their record: not found.
        (
            format!(
                r#"mutation {{ correctRegistration(input: {{ {}, beneficiaryId: "{their_id}", {details} }}) {{ version }} }}"#,
                change(&our_id, "x-3")
            ),
            "NOT_FOUND",
        ),
        // Another record's entry named from one's own record.
        (
            format!(
                r#"mutation {{ giveConsent(input: {{ {}, corrects: "{their_registration}", kind: ASSISTANCE,
                givenBy: BENEFICIARY, evidence: SIGNED_FORM }}) {{ version }} }}"#,
                change(&our_id, "x-4")
            ),
            "VALIDATION",
        ),
        (
            format!(
                r#"mutation {{ voidEvent(input: {{ {}, eventId: "{their_registration}" }}) {{ version }} }}"#,
                change(&our_id, "x-5")
            ),
            "VALIDATION",
        ),
        // The other record itself does not exist for them.
        (
            format!(
                r#"mutation {{ correctRegistration(input: {{ {}, {details} }}) {{ version }} }}"#,
                change(&their_id, "x-6")
            ),
            "NOT_FOUND",
        ),
    ];
    for (attempt, expected) in &attempts {
        let response = mila.gql(attempt, json!({})).await;
        assert_eq!(code(&response), *expected, "{attempt}: {response}");
    }

    // Nothing moved: each organisation lists its own person, the person's data is as it was,
    // and neither record changed.
    assert_eq!(case_codes(&ana).await, ["DE-1"]);
    assert_eq!(case_codes(&mila).await, ["AT-1"]);
    assert_eq!(read(&ana, &their_id).await, before);
    assert_eq!(code(&read(&mila, &their_id).await), "NOT_FOUND");
    assert_eq!(
        read(&mila, &our_id).await["data"]["beneficiary"]["version"],
        2
    );
}

#[tokio::test]
async fn a_cross_tenant_correction_is_refused_and_stores_nothing_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    provision(dir.path(), &[]);
    let server = Server::start(dir.path(), &[]).await;
    cross_tenant_corrections_are_refused(&server).await;
    assert!(server.terminate().success());
}

#[tokio::test]
async fn a_cross_tenant_correction_is_refused_and_stores_nothing_on_postgresql() {
    let db = TestDatabase::postgres().await;
    let url = db.postgres_url().unwrap().to_string();
    let env = [("DATABASE_URL", url.as_str())];
    let dir = tempfile::tempdir().unwrap();
    provision(dir.path(), &env);
    let server = Server::start(dir.path(), &env).await;
    cross_tenant_corrections_are_refused(&server).await;
    assert!(server.terminate().success());
}

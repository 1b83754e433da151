//! Consent in force governs what happens next, for each scope, from the moment it is withdrawn:
//! data sharing ends another organisation's access, evaluation use removes the person from
//! evaluation data (for cut-offs after the withdrawal), assistance stops new services and
//! goals, follow-up contact stops follow-ups.

mod support;

use futures_util::StreamExt;
use roadback_domain::access::Role;
use roadback_graphql::auth::Session;
use roadback_store::projector::Projector;
use roadback_store::testing::TestDatabase;
use serde_json::{Value, json};
use support::World;

fn code(response: &Value) -> (&str, &str) {
    let ext = &response["errors"][0]["extensions"];
    (
        ext["code"].as_str().unwrap_or("none"),
        ext["reason"].as_str().unwrap_or(""),
    )
}

const REGISTER: &str = r#"mutation { registerBeneficiary(input: { idempotencyKey: "r", occurredOn: "2010-03-02",
    caseCode: "AL-1", gender: FEMALE, citizenship: "AL", countryOfAssistance: "AL", identifiedOn: "2010-03-01",
    identificationRoute: NGO }) { beneficiaryId version } }"#;

/// Records a change and returns the new version.
async fn change(w: &World, who: &Session, id: &str, version: u64, on: &str, body: &str) -> u64 {
    let query = format!(
        "mutation {{ {} }}",
        body.replace(
            "CHANGE",
            &format!(r#"beneficiaryId: "{id}", expectedVersion: {version}, idempotencyKey: "k{version}", occurredOn: "{on}""#)
        )
    );
    let data = w.ok(who, &query, json!({})).await;
    data.as_object().unwrap().values().next().unwrap()["version"]
        .as_u64()
        .unwrap()
}

/// Organisations A and B, with a caseworker of each: ana of A, bora of B.
async fn partners(w: &World) -> (uuid::Uuid, uuid::Uuid, Session, Session) {
    let a = w.store.create_organisation("A", "AL").await.unwrap().id;
    let b = w.store.create_organisation("B", "RS").await.unwrap().id;
    let ana = w.session_in(a, Role::Caseworker, "ana", None).await;
    let bora = w.session_in(b, Role::Caseworker, "bora", None).await;
    (a, b, ana, bora)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawing_each_consent_takes_effect_at_once() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let (a, b, ana, bora) = partners(&w).await;
    let eva = w.session_in(a, Role::Evaluator, "eva", None).await;

    let id = w.ok(&ana, REGISTER, json!({})).await["registerBeneficiary"]["beneficiaryId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut v = 1;
    for scope in ["EVALUATION_USE", "ASSISTANCE", "FOLLOW_UP_CONTACT"] {
        v = change(&w, &ana, &id, v, "2010-03-02", &format!("giveConsent(input: {{ CHANGE, kind: {scope}, givenBy: BENEFICIARY, evidence: SIGNED_FORM }}) {{ version }}")).await;
    }
    v = change(&w, &ana, &id, v, "2010-03-02", &format!(r#"giveConsent(input: {{ CHANGE, kind: DATA_SHARING, organisationId: "{b}", givenBy: BENEFICIARY, evidence: SIGNED_FORM }}) {{ version }}"#)).await;
    v = change(
        &w,
        &ana,
        &id,
        v,
        "2010-03-03",
        &format!(
            r#"referToOrganisation(input: {{ CHANGE, toOrganisationId: "{b}" }}) {{ version }}"#
        ),
    )
    .await;

    // Data sharing: the receiving organisation reads the record, until consent is withdrawn.
    let read = r#"query($id: UUID!) { beneficiary(id: $id) { caseCode } }"#;
    assert_eq!(
        w.ok(&bora, read, json!({ "id": id })).await["beneficiary"]["caseCode"],
        "AL-1"
    );
    // The receiving organisation follows the timeline live, until the withdrawal.
    let subscription =
        format!(r#"subscription {{ beneficiaryTimeline(beneficiaryId: "{id}") {{ eventType }} }}"#);
    let mut live = w
        .schema
        .execute_stream(w.request(Some(&bora), &subscription, json!({})));
    v = change(&w, &ana, &id, v, "2010-06-01", &format!(r#"withdrawConsent(input: {{ CHANGE, kind: DATA_SHARING, organisationId: "{b}", withdrawnBy: BENEFICIARY }}) {{ version }}"#)).await;
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), live.next())
        .await
        .expect("a message within 5 s")
        .expect("an error before the end");
    let ended = serde_json::to_value(&ended).unwrap();
    assert_eq!(code(&ended).0, "NOT_FOUND", "{ended}");
    assert!(
        tokio::time::timeout(std::time::Duration::from_secs(5), live.next())
            .await
            .expect("the subscription ends")
            .is_none()
    );
    let refused = w.run(&bora, read, json!({ "id": id })).await;
    assert_eq!(code(&refused).0, "NOT_FOUND", "{refused}");
    assert!(refused["data"].is_null() || refused["data"]["beneficiary"].is_null());

    // Evaluation use: in the research data until withdrawn; then gone from every cut-off,
    // earlier ones too (aggregates already cited live on in data locks).
    Projector::new(w.store.clone(), 100)
        .catch_up()
        .await
        .unwrap();
    let records = r#"query($on: NaiveDate) { evaluationRecords(cutOff: { validOn: $on }) { records { pseudonym outcome { identifiedOn } } } }"#;
    let count = |data: Value| {
        data["evaluationRecords"]["records"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(w.ok(&eva, records, json!({ "on": null })).await), 1);
    v = change(&w, &ana, &id, v, "2010-07-01", "withdrawConsent(input: { CHANGE, kind: EVALUATION_USE, withdrawnBy: BENEFICIARY }) { version }").await;
    assert_eq!(
        count(w.ok(&eva, records, json!({ "on": null })).await),
        0,
        "gone at once"
    );
    assert_eq!(
        count(w.ok(&eva, records, json!({ "on": "2010-08-01" })).await),
        0,
        "and from later cut-offs"
    );
    assert_eq!(
        count(w.ok(&eva, records, json!({ "on": "2010-05-01" })).await),
        0,
        "and from earlier cut-offs"
    );

    // Assistance: no new services or goals once withdrawn.
    v = change(&w, &ana, &id, v, "2010-08-01", "withdrawConsent(input: { CHANGE, kind: ASSISTANCE, withdrawnBy: BENEFICIARY }) { version }").await;
    let service = w
        .run(&ana, &format!(r#"mutation {{ planService(input: {{ beneficiaryId: "{id}", expectedVersion: {v}, idempotencyKey: "s", occurredOn: "2010-08-02", service: MEDICAL }}) {{ version }} }}"#), json!({}))
        .await;
    assert_eq!(
        code(&service),
        ("VALIDATION", "CONSENT_REQUIRED"),
        "{service}"
    );

    // Follow-up contact: no follow-up once withdrawn.
    v = change(&w, &ana, &id, v, "2010-08-03", "withdrawConsent(input: { CHANGE, kind: FOLLOW_UP_CONTACT, withdrawnBy: BENEFICIARY }) { version }").await;
    let follow_up = w
        .run(&ana, &format!(r#"mutation {{ recordFollowUpContact(input: {{ beneficiaryId: "{id}", expectedVersion: {v}, idempotencyKey: "f", occurredOn: "2010-08-04" }}) {{ version }} }}"#), json!({}))
        .await;
    assert_eq!(
        code(&follow_up),
        ("VALIDATION", "CONSENT_REQUIRED"),
        "{follow_up}"
    );
}

/// An entry's `payload` (made only when asked for) is the event as the log holds it, in the
/// timeline and in what a mutation answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_are_the_events_as_stored() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let ana = w.session(Role::Caseworker, "ana", None).await;
    let id = w.ok(&ana, REGISTER, json!({})).await["registerBeneficiary"]["beneficiaryId"]
        .as_str()
        .unwrap()
        .to_string();
    let given = w
        .ok(
            &ana,
            &format!(
                r#"mutation {{ giveConsent(input: {{ beneficiaryId: "{id}", expectedVersion: 1, idempotencyKey: "c", occurredOn: "2010-03-02", kind: ASSISTANCE, givenBy: BENEFICIARY, evidence: SIGNED_FORM }}) {{ events {{ eventType payload }} }} }}"#
            ),
            json!({}),
        )
        .await;
    let timeline = w
        .ok(
            &ana,
            "query($id: UUID!) { beneficiary(id: $id) { timeline { eventType payload } } }",
            json!({ "id": id }),
        )
        .await;
    let stream = roadback_store::records::beneficiary_stream(id.parse().unwrap()).unwrap();
    let stored: Vec<Value> = w
        .store
        .read_stream(&stream, 1, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e.payload.get()).unwrap())
        .collect();
    let entries = timeline["beneficiary"]["timeline"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{timeline}");
    assert_eq!(entries[0]["eventType"], "BeneficiaryRegistered");
    assert_eq!(entries[0]["payload"], stored[0]);
    assert_eq!(entries[1]["payload"], stored[1]);
    assert_eq!(given["giveConsent"]["events"][0]["payload"], stored[1]);
    assert!(
        stored[1].is_object() && stored[1] != json!({}),
        "{}",
        stored[1]
    );
}

/// The caseload subscription follows the organisation's own cases: another organisation's
/// records are never shown (whether this server keeps their histories or not), and a change to
/// one of its cases is shown whoever recorded it (here a partner the record is shared with).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caseload_subscription_follows_the_organisations_own_cases_whoever_records() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let (_, b, ana, bora) = partners(&w).await;

    let (sent, mut received) = tokio::sync::mpsc::unbounded_channel();
    let mut live = w.schema.execute_stream(w.request(
        Some(&ana),
        "subscription { caseload { caseCode } }",
        json!({}),
    ));
    tokio::spawn(async move {
        while let Some(item) = live.next().await {
            let item = serde_json::to_value(&item).unwrap();
            if sent.send(item).is_err() {
                return;
            }
        }
    });
    // Items until none comes for a moment.
    let drain = async |received: &mut tokio::sync::mpsc::UnboundedReceiver<Value>| {
        let mut items = Vec::new();
        while let Ok(Some(item)) =
            tokio::time::timeout(std::time::Duration::from_millis(700), received.recv()).await
        {
            items.push(item["data"]["caseload"]["caseCode"].clone());
        }
        items
    };
    assert!(
        drain(&mut received).await.is_empty(),
        "subscribed, nothing yet"
    );

    // Another organisation's record, registered and changed: its history is kept by this
    // server (its commands read it), and none of it reaches A's caseload.
    let theirs = w
        .ok(&bora, &REGISTER.replace("AL-1", "RS-1"), json!({}))
        .await["registerBeneficiary"]["beneficiaryId"]
        .as_str()
        .unwrap()
        .to_string();
    change(&w, &bora, &theirs, 1, "2010-03-02", "giveConsent(input: { CHANGE, kind: ASSISTANCE, givenBy: BENEFICIARY, evidence: SIGNED_FORM }) { version }").await;
    // A's own record, shared with B (consent to data sharing, then a referral).
    let ours = w.ok(&ana, REGISTER, json!({})).await["registerBeneficiary"]["beneficiaryId"]
        .as_str()
        .unwrap()
        .to_string();
    let v = change(&w, &ana, &ours, 1, "2010-03-02", &format!(r#"giveConsent(input: {{ CHANGE, kind: DATA_SHARING, organisationId: "{b}", givenBy: BENEFICIARY, evidence: SIGNED_FORM }}) {{ version }}"#)).await;
    let v = change(
        &w,
        &ana,
        &ours,
        v,
        "2010-03-02",
        &format!(
            r#"referToOrganisation(input: {{ CHANGE, toOrganisationId: "{b}" }}) {{ version }}"#
        ),
    )
    .await;
    let items = drain(&mut received).await;
    assert!(!items.is_empty(), "A's own changes are shown");
    assert!(items.iter().all(|c| c == "AL-1"), "{items:?}");

    // The partner records a change on A's record: A's caseload shows it.
    change(&w, &bora, &ours, v, "2010-03-03", "giveConsent(input: { CHANGE, kind: ASSISTANCE, givenBy: BENEFICIARY, evidence: SIGNED_FORM }) { version }").await;
    change(&w, &bora, &theirs, 2, "2010-03-03", "giveConsent(input: { CHANGE, kind: FOLLOW_UP_CONTACT, givenBy: BENEFICIARY, evidence: SIGNED_FORM }) { version }").await;
    let items = drain(&mut received).await;
    assert_eq!(items, vec![json!("AL-1")]);
}

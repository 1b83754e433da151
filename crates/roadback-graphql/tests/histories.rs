//! The history cache never decides a command on an old case: two server instances on one store,
//! interleaved writers, each instance's cache filled before the other writes.

mod support;

use roadback_domain::access::Role;
use roadback_graphql::ApiState;
use roadback_store::testing::TestDatabase;
use roadback_store::vault::{Keyring, MasterKey, Vault};
use serde_json::{Value, json};
use support::World;

const REGISTER: &str = "mutation($i: RegisterBeneficiaryInput!) { registerBeneficiary(input: $i) { beneficiaryId version } }";
const CONSENT: &str = "mutation($i: GiveConsentInput!) { giveConsent(input: $i) { version } }";
const STATUS: &str = "mutation($i: ChangeStatusInput!) { changeStatus(input: $i) { version } }";
const READ: &str = "query($id: UUID!) { beneficiary(id: $id) { version status } }";

fn change(id: &str, version: u64, to: &str, key: &str) -> Value {
    json!({ "i": { "beneficiaryId": id, "expectedVersion": version, "idempotencyKey": key,
                   "occurredOn": "2026-01-10", "to": to } })
}

async fn two_instances_interleaved(db: TestDatabase) {
    let a = World::new(&db).await;
    // A second server instance on the same store: its own API state, and its own cache.
    let store_b = db.open().await;
    let b = roadback_graphql::schema(ApiState::new(
        store_b.clone(),
        Vault::new(store_b.clone(), Keyring::new(MasterKey::generate())),
    ));
    let run_b = |who: &roadback_graphql::auth::Session, query: &str, variables: Value| {
        let request = a.request(Some(who), query, variables);
        let b = b.clone();
        async move { serde_json::to_value(b.execute(request).await).unwrap() }
    };
    let caseworker = a.session(Role::Caseworker, "cw", None).await;

    let made = a
        .ok(&caseworker, REGISTER, json!({ "i": {
            "idempotencyKey": "r1", "occurredOn": "2026-01-05", "caseCode": "AL-1", "gender": "FEMALE",
            "citizenship": "AL", "countryOfAssistance": "AL", "identifiedOn": "2026-01-05",
            "identificationRoute": "NGO" } }))
        .await;
    let id = made["registerBeneficiary"]["beneficiaryId"]
        .as_str()
        .unwrap()
        .to_string();
    a.ok(
        &caseworker,
        CONSENT,
        json!({ "i": { "beneficiaryId": id, "expectedVersion": 1,
        "idempotencyKey": "c1", "occurredOn": "2026-01-05", "kind": "ASSISTANCE",
        "givenBy": "BENEFICIARY", "evidence": "SIGNED_FORM" } }),
    )
    .await;
    // Both instances have read (and cached) the case at version 2.
    assert_eq!(
        a.ok(&caseworker, READ, json!({ "id": id })).await["beneficiary"]["version"],
        2
    );
    let read_b = run_b(&caseworker, READ, json!({ "id": id })).await;
    assert_eq!(read_b["data"]["beneficiary"]["version"], 2, "{read_b}");

    // B records; A, whose cache holds version 2, is asked to record against version 2.
    let by_b = run_b(&caseworker, STATUS, change(&id, 2, "REINTEGRATING", "s1")).await;
    assert_eq!(by_b["data"]["changeStatus"]["version"], 3, "{by_b}");
    let stale = a
        .run(&caseworker, STATUS, change(&id, 2, "IN_CRISIS_CARE", "s2"))
        .await;
    assert_eq!(
        stale["errors"][0]["extensions"]["code"], "CONFLICT",
        "{stale}"
    );
    assert_eq!(
        stale["errors"][0]["extensions"]["currentVersion"], 3,
        "{stale}"
    );

    // Against version 3, A decides on the case as B left it: reintegrated is allowed only from
    // reintegrating (from identified, the cached status, it would be refused).
    let on_current = a
        .ok(&caseworker, STATUS, change(&id, 3, "REINTEGRATED", "s3"))
        .await;
    assert_eq!(on_current["changeStatus"]["version"], 4);
    // And B, whose cache holds version 3, sees A's entry.
    let seen = run_b(&caseworker, READ, json!({ "id": id })).await;
    assert_eq!(
        seen["data"]["beneficiary"]["status"], "REINTEGRATED",
        "{seen}"
    );
    assert_eq!(seen["data"]["beneficiary"]["version"], 4, "{seen}");

    // A retry on the other instance: the caseworker's change went through B, and the client
    // sends it again to A (whose history is at version 4, the version the change was made
    // against). A answers the first result and stores nothing.
    let evaluation = json!({ "i": { "beneficiaryId": id, "expectedVersion": 4,
        "idempotencyKey": "c2", "occurredOn": "2026-01-11", "kind": "EVALUATION_USE",
        "givenBy": "BENEFICIARY", "evidence": "SIGNED_FORM" } });
    let first = run_b(&caseworker, CONSENT, evaluation.clone()).await;
    assert_eq!(first["data"]["giveConsent"]["version"], 5, "{first}");
    let retried = a.ok(&caseworker, CONSENT, evaluation).await;
    assert_eq!(retried["giveConsent"]["version"], 5);
    assert_eq!(
        a.ok(&caseworker, READ, json!({ "id": id })).await["beneficiary"]["version"],
        5
    );
}

#[tokio::test]
async fn a_cached_history_never_decides_a_command_on_an_old_case_on_sqlite() {
    two_instances_interleaved(TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn a_cached_history_never_decides_a_command_on_an_old_case_on_postgresql() {
    two_instances_interleaved(TestDatabase::postgres().await).await;
}

#[tokio::test]
async fn the_cache_keeps_at_most_its_capacity_and_nothing_for_an_unknown_record() {
    use roadback_graphql::histories::HistoryCache;
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let caseworker = w.session(Role::Caseworker, "cw", None).await;
    let mut ids = Vec::new();
    for n in 1..=3 {
        let made = w
            .ok(&caseworker, REGISTER, json!({ "i": {
                "idempotencyKey": format!("r{n}"), "occurredOn": "2026-01-05", "caseCode": format!("AL-{n}"),
                "gender": "MALE", "citizenship": "AL", "countryOfAssistance": "AL",
                "identifiedOn": "2026-01-05", "identificationRoute": "NGO" } }))
            .await;
        ids.push(
            made["registerBeneficiary"]["beneficiaryId"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
        );
    }
    let cache = HistoryCache::new(2);
    for id in &ids {
        let history = cache
            .load(&w.store, *id)
            .await
            .unwrap()
            .expect("registered");
        assert_eq!(history.entries().len(), 1);
    }
    assert_eq!(cache.len(), 2, "the least recently used left");
    assert!(
        cache
            .load(&w.store, uuid::Uuid::new_v4())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(cache.len(), 2);
    // The one that left is read again, whole.
    assert_eq!(
        cache
            .load(&w.store, ids[0])
            .await
            .unwrap()
            .unwrap()
            .entries()
            .len(),
        1
    );
}

//! The edges of evaluation data: pseudonyms keyed with the deployment secret, cursors that
//! reveal nothing, every pull in the access log, a cost that bounds what one request may ask,
//! a deadline answered `TIMEOUT`, and heavy work taking turns so others are still served.

mod support;

use roadback_domain::access::Role;
use roadback_graphql::auth::Session;
use roadback_store::projector::Projector;
use roadback_store::testing::TestDatabase;
use serde_json::{Value, json};
use support::World;

/// Registers `n` people with consent to evaluation use, as `caseworker`; their ids.
async fn people_with_evaluation_consent(w: &World, caseworker: &Session, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let registered = w
            .ok(
                caseworker,
                &format!(
                    r#"mutation {{ registerBeneficiary(input: {{ idempotencyKey: "r{i}", occurredOn: "2010-03-02",
                    caseCode: "AL-{i:03}", gender: FEMALE, citizenship: "AL", countryOfAssistance: "AL",
                    identifiedOn: "2010-03-01", identificationRoute: NGO }}) {{ beneficiaryId }} }}"#
                ),
                json!({}),
            )
            .await;
        let id = registered["registerBeneficiary"]["beneficiaryId"]
            .as_str()
            .unwrap()
            .to_string();
        w.ok(
            caseworker,
            &format!(
                r#"mutation {{ giveConsent(input: {{ beneficiaryId: "{id}", expectedVersion: 1, idempotencyKey: "c{i}",
                occurredOn: "2010-03-02", kind: EVALUATION_USE, givenBy: BENEFICIARY, evidence: SIGNED_FORM }}) {{ version }} }}"#
            ),
            json!({}),
        )
        .await;
        ids.push(id);
    }
    Projector::new(w.store.clone(), 100)
        .catch_up()
        .await
        .unwrap();
    ids
}

const PAGE: &str = r#"query($first: Int, $after: String) { evaluationRecords(first: $first, after: $after) {
    records { pseudonym } pageInfo { hasNextPage endCursor } } }"#;

fn code(response: &Value) -> (&str, &str) {
    let ext = &response["errors"][0]["extensions"];
    (
        ext["code"].as_str().unwrap_or("none"),
        ext["reason"].as_str().unwrap_or(""),
    )
}

/// A document's full validation runs until it has passed once; after that only what depends on
/// the variables is checked before it runs (cost, depth), and the variables' values are checked
/// as the fields read them: bad values are still refused with `VALIDATION`, nothing is written,
/// and a cost that only the variables make too high is still refused.
#[tokio::test]
async fn a_document_that_passed_validation_still_refuses_bad_variables() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let caseworker = w.session(Role::Caseworker, "cw", None).await;
    let register = r#"mutation($in: RegisterBeneficiaryInput!) { registerBeneficiary(input: $in) { version } }"#;
    let input = |key: &str| {
        json!({ "idempotencyKey": key, "occurredOn": "2010-03-02", "caseCode": key,
            "gender": "FEMALE", "citizenship": "AL", "countryOfAssistance": "AL",
            "identifiedOn": "2010-03-01", "identificationRoute": "NGO" })
    };
    for key in ["r-1", "r-2"] {
        let done = w
            .run(&caseworker, register, json!({ "in": input(key) }))
            .await;
        assert!(done["errors"].is_null(), "{done}");
    }
    let head = w.store.head().await.unwrap();
    let mut wrong_enum = input("r-3");
    wrong_enum["gender"] = json!("NOT_A_GENDER");
    let mut missing = input("r-4");
    missing.as_object_mut().unwrap().remove("caseCode");
    let mut wrong_type = input("r-5");
    wrong_type["occurredOn"] = json!(5);
    for bad in [
        json!({ "in": wrong_enum }),
        json!({ "in": missing }),
        json!({ "in": wrong_type }),
        json!({}),
    ] {
        let refused = w.run(&caseworker, register, bad.clone()).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "VALIDATION",
            "{bad} {refused}"
        );
        assert!(refused["data"].is_null() || refused["data"]["registerBeneficiary"].is_null());
    }
    assert_eq!(w.store.head().await.unwrap(), head, "nothing written");

    let evaluator = w.session(Role::Evaluator, "eva", None).await;
    let full = r#"records { pseudonym organisationId countryOfAssistance citizenship gender
        ageAtIdentification primary formsOfExploitation outcome { identifiedOn } }"#;
    let page = format!(
        "query($n: Int) {{ a: evaluationRecords(first: $n) {{ {full} }} b: evaluationRecords(first: $n) {{ {full} }} }}"
    );
    let page = page.as_str();
    for _ in 0..2 {
        let allowed = w.run(&evaluator, page, json!({ "n": 1 })).await;
        assert!(allowed["errors"].is_null(), "{allowed}");
    }
    let refused = w.run(&evaluator, page, json!({ "n": 100 })).await;
    assert_eq!(code(&refused), ("VALIDATION", "TOO_COSTLY"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseudonyms_are_keyed_cursors_reveal_nothing_and_every_pull_is_logged() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let caseworker = w.session(Role::Caseworker, "cw", None).await;
    let evaluator = w.session(Role::Evaluator, "eva", None).await;
    let ids = people_with_evaluation_consent(&w, &caseworker, 3).await;

    let first = w.ok(&evaluator, PAGE, json!({ "first": 2 })).await;
    let page = &first["evaluationRecords"];
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let cursor = page["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    let second = w
        .ok(&evaluator, PAGE, json!({ "first": 2, "after": cursor }))
        .await;
    let mut pseudonyms: Vec<String> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["evaluationRecords"]["records"].as_array().unwrap())
        .map(|r| r["pseudonym"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(pseudonyms.len(), 3, "every person once over two pages");

    // Nothing of a person's id or case code in a cursor or a pseudonym; the pseudonym is not
    // the unkeyed hash of the id anyone holding the id could compute.
    for id in &ids {
        assert!(
            !cursor.contains(id.as_str()) && !cursor.contains("AL-"),
            "{cursor}"
        );
        use sha2::Digest;
        let id = uuid::Uuid::parse_str(id).unwrap();
        let unkeyed: String =
            sha2::Sha256::digest([b"roadback evaluation ".as_slice(), id.as_bytes()].concat())[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
        assert!(pseudonyms.iter().all(|p| !p.starts_with(&unkeyed)));
    }
    // Stable: the same people, the same pseudonyms.
    let again = w.ok(&evaluator, PAGE, json!({ "first": 100 })).await;
    let mut same: Vec<String> = again["evaluationRecords"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["pseudonym"].as_str().unwrap().to_string())
        .collect();
    pseudonyms.sort();
    same.sort();
    assert_eq!(pseudonyms, same);

    // A cursor made up, altered, or taken from another list is refused.
    let caseload = w
        .ok(
            &caseworker,
            "{ beneficiaries(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let caseload_cursor = caseload["beneficiaries"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap();
    assert!(!caseload_cursor.contains("AL-"));
    let made_up = format!("{}|AL-000", ids[0]);
    for bad in [
        made_up.as_str(),
        caseload_cursor,
        &cursor[..cursor.len() - 2],
    ] {
        let refused = w
            .run(&evaluator, PAGE, json!({ "first": 2, "after": bad }))
            .await;
        assert_eq!(code(&refused).0, "VALIDATION", "{refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], "after");
    }

    // Three successful pulls, three rows in the access log, with how much and the cut-off.
    let log = w
        .store
        .access_log(w.organisation, None, None, 100)
        .await
        .unwrap();
    let pulls: Vec<_> = log
        .iter()
        .filter(|e| e.action == "READ_EVALUATION")
        .collect();
    assert_eq!(pulls.len(), 3, "{log:?}");
    assert!(
        pulls
            .iter()
            .all(|e| e.user == evaluator.user.id && e.beneficiary.is_none())
    );
    assert!(
        pulls[0].purpose.contains("3 people") && pulls[0].purpose.contains("cut-off valid on"),
        "{}",
        pulls[0].purpose
    );
}

#[tokio::test]
async fn what_a_request_may_cost_is_bounded_by_what_its_fields_cost() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let evaluator = w.session(Role::Evaluator, "eva", None).await;
    let full = r#"records { pseudonym organisationId countryOfAssistance citizenship gender
        ageAtIdentification primary formsOfExploitation outcome { identifiedOn } } pageInfo { hasNextPage endCursor }"#;
    // A full page of a hundred people is what one request may ask.
    let one = format!("{{ evaluationRecords(first: 100) {{ {full} }} }}");
    let allowed = w.run(&evaluator, &one, json!({})).await;
    assert!(allowed["errors"].is_null(), "{allowed}");
    // Two such pages (each replays a hundred histories) cost too much; so does a caseload page
    // asking each person's timeline.
    let two = format!(
        "{{ a: evaluationRecords(first: 100) {{ {full} }} b: evaluationRecords(first: 100) {{ {full} }} }}"
    );
    let timelines =
        "{ beneficiaries(first: 100) { edges { node { timeline(last: 50) { id summary } } } } }";
    for query in [two.as_str(), timelines] {
        let refused = w.run(&evaluator, query, json!({})).await;
        assert_eq!(code(&refused), ("VALIDATION", "TOO_COSTLY"), "{refused}");
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("at most 5000"),
            "{refused}"
        );
    }
    let mut nested = "name".to_string();
    for _ in 0..12 {
        nested = format!("ofType {{ {nested} }}");
    }
    let deep = format!("{{ __schema {{ types {{ fields {{ type {{ {nested} }} }} }} }} }}");
    let refused = w.run(&evaluator, &deep, json!({})).await;
    assert_eq!(code(&refused), ("VALIDATION", "TOO_DEEP"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_is_timeout_and_heavy_work_waits_its_turn() {
    let db = TestDatabase::sqlite();
    let mut heavy = None;
    let w = World::with(&db, |state| {
        state.deadline = std::time::Duration::from_millis(500);
        heavy = Some(state.heavy.clone());
    })
    .await;
    let evaluator = w.session(Role::Evaluator, "eva", None).await;

    // Every turn for heavy work is taken (long evaluation pulls in flight): another pull waits
    // for one and is stopped at the deadline with a code, while light requests go on.
    let turns = heavy
        .unwrap()
        .acquire_many_owned(roadback_graphql::context::HEAVY_AT_ONCE as u32)
        .await
        .unwrap();
    let (waiting, me) = tokio::join!(
        w.run(&evaluator, PAGE, json!({ "first": 10 })),
        w.run(&evaluator, "{ me { user { id } } }", json!({}))
    );
    assert!(me["errors"].is_null(), "{me}");
    assert_eq!(code(&waiting).0, "TIMEOUT", "{waiting}");
    assert!(
        waiting["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("0.5 seconds"),
        "{waiting}"
    );
    drop(turns);
    let served = w.run(&evaluator, PAGE, json!({ "first": 10 })).await;
    assert!(served["errors"].is_null(), "{served}");
}

/// Every page of an evaluation listing at `cut`, as JSON, walked from the start.
async fn all_pages(w: &World, who: &Session, cut: &Value) -> Vec<String> {
    let mut pages = Vec::new();
    let first = w
        .ok(
            who,
            r#"query($cut: CutOffInput) { evaluationRecords(cutOff: $cut, first: 2) {
                cutOff { validOn recordedAt } records { pseudonym outcome { identifiedOn lastContactOn } }
                pageInfo { hasNextPage endCursor } } }"#,
            json!({ "cut": cut }),
        )
        .await;
    let mut page = first["evaluationRecords"].clone();
    loop {
        pages.push(page["records"].to_string());
        if page["pageInfo"]["hasNextPage"] != true {
            return pages;
        }
        let next = w
            .ok(
                who,
                r#"query($after: String) { evaluationRecords(after: $after, first: 2) {
                    cutOff { validOn recordedAt } records { pseudonym outcome { identifiedOn lastContactOn } }
                    pageInfo { hasNextPage endCursor } } }"#,
                json!({ "after": page["pageInfo"]["endCursor"] }),
            )
            .await;
        assert_eq!(
            next["evaluationRecords"]["cutOff"], page["cutOff"],
            "every page at the listing's cut-offs"
        );
        page = next["evaluationRecords"].clone();
    }
}

const ANALYSES: &str = r#"query($cut: CutOffInput) { evaluation(cutOff: $cut) {
    cutOff { validOn recordedAt }
    results(breakdown: SEX) { total { assisted { value } reintegrated { value } } lines { group assisted { value withheld } } }
    survival(options: { censoring: LAST_CONTACT }) { cohorts { subjects { value } median { days } curve { days estimate } } }
    cumulativeIncidence { cohorts { subjects { value } } } } }"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_recorded_after_a_cut_off_change_nothing_at_it() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let caseworker = w.session(Role::Caseworker, "cw", None).await;
    let evaluator = w.session(Role::Evaluator, "eva", None).await;
    let ids = people_with_evaluation_consent(&w, &caseworker, 5).await;

    let before = w.ok(&evaluator, ANALYSES, json!({ "cut": null })).await;
    let cut = before["evaluation"]["cutOff"].clone();
    let pages = all_pages(
        &w,
        &evaluator,
        &json!({ "validOn": cut["validOn"], "recordedAt": cut["recordedAt"] }),
    )
    .await;
    assert_eq!(pages.len(), 3);

    // Later, entries backdated to before the cut-off: a registration with consent, and a
    // contact with someone already there (which moves their last contact).
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    people_with_evaluation_consent(&w, &caseworker, 6).await; // registers r5, with consent
    w.ok(
        &caseworker,
        &format!(
            r#"mutation {{ giveConsent(input: {{ beneficiaryId: "{}", expectedVersion: 2, idempotencyKey: "late",
            occurredOn: "2010-04-01", kind: FOLLOW_UP_CONTACT, givenBy: BENEFICIARY, evidence: SIGNED_FORM }}) {{ version }} }}"#,
            ids[0]
        ),
        json!({}),
    )
    .await;

    let at_cut = json!({ "validOn": cut["validOn"], "recordedAt": cut["recordedAt"] });
    let again = w.ok(&evaluator, ANALYSES, json!({ "cut": at_cut })).await;
    assert_eq!(again.to_string(), before.to_string(), "byte for byte");
    assert_eq!(
        all_pages(&w, &evaluator, &at_cut).await,
        pages,
        "every page"
    );

    let now = w.ok(&evaluator, ANALYSES, json!({ "cut": null })).await;
    assert_eq!(
        now["evaluation"]["results"]["total"]["assisted"]["value"], 6,
        "the current answer counts the late registration"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_lock_keeps_its_result_and_tells_withdrawals_since() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let caseworker = w.session(Role::Caseworker, "cw", None).await;
    let evaluator = w.session(Role::Evaluator, "eva", None).await;
    let ids = people_with_evaluation_consent(&w, &caseworker, 6).await;
    let lock = w
        .ok(
            &evaluator,
            r#"mutation { lockEvaluation(input: { name: "Annual report 2026",
                selection: "{ results { total { assisted { value } } } survival { cohorts { subjects { value } } } }" }) {
                name digest cutOff { validOn recordedAt } result } }"#,
            json!({}),
        )
        .await["lockEvaluation"]
        .clone();
    assert_eq!(lock["result"]["results"]["total"]["assisted"]["value"], 6);
    assert_eq!(
        lock["result"]["survival"]["cohorts"][0]["subjects"]["value"],
        6
    );
    let digest = lock["digest"].as_str().unwrap().to_string();
    assert_eq!(digest.len(), 64);

    let read = r#"{ evaluationLock(name: "Annual report 2026") { digest result rerun { digest matches withdrawnSince } } }"#;
    let again = w.ok(&evaluator, read, json!({})).await["evaluationLock"].clone();
    assert_eq!(again["rerun"]["matches"], true, "{again}");
    assert_eq!(again["rerun"]["withdrawnSince"], 0);

    // A registration recorded later, backdated to before the cut-off: the re-run still matches.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    people_with_evaluation_consent(&w, &caseworker, 7).await;
    let later = w.ok(&evaluator, read, json!({})).await["evaluationLock"].clone();
    assert_eq!(later["rerun"]["matches"], true, "{later}");
    assert_eq!(later["rerun"]["digest"], digest.as_str());

    // One person withdraws: the lock keeps the cited result, its re-run differs and says why.
    w.ok(
        &caseworker,
        &format!(
            r#"mutation {{ withdrawConsent(input: {{ beneficiaryId: "{}", expectedVersion: 2, idempotencyKey: "w",
            occurredOn: "2010-03-03", kind: EVALUATION_USE, withdrawnBy: BENEFICIARY }}) {{ version }} }}"#,
            ids[0]
        ),
        json!({}),
    )
    .await;
    let after = w.ok(&evaluator, read, json!({})).await["evaluationLock"].clone();
    assert_eq!(after["digest"], digest.as_str());
    assert_eq!(after["result"], lock["result"]);
    assert_eq!(after["rerun"]["matches"], false);
    assert_eq!(after["rerun"]["withdrawnSince"], 1);

    // Names are unique; a selection that does not run is refused with its reason.
    let taken = w
        .run(
            &evaluator,
            r#"mutation { lockEvaluation(input: { name: "Annual report 2026", selection: "{ cutOff { validOn } }" }) { digest } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&taken).0, "VALIDATION", "{taken}");
    let broken = w
        .run(
            &evaluator,
            r#"mutation { lockEvaluation(input: { name: "x", selection: "{ nothing }" }) { digest } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        broken["errors"][0]["extensions"]["field"], "selection",
        "{broken}"
    );
    // The locks are listed, and each lock made is in the access log.
    let listed = w
        .ok(&evaluator, "{ evaluationLocks { name } }", json!({}))
        .await;
    assert_eq!(listed["evaluationLocks"].as_array().unwrap().len(), 1);
    let log = w
        .store
        .access_log(w.organisation, None, None, 100)
        .await
        .unwrap();
    assert_eq!(
        log.iter().filter(|e| e.action == "LOCK_EVALUATION").count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_cohort_is_withheld_and_says_why() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let caseworker = w.session(Role::Caseworker, "cw", None).await;
    let evaluator = w.session(Role::Evaluator, "eva", None).await;
    people_with_evaluation_consent(&w, &caseworker, 3).await;
    let data = w
        .ok(
            &evaluator,
            r#"{ evaluation {
                results { total { assisted { value withheld } shareReintegrated } }
                survival { cohorts { subjects { value withheld } withheld median { days } curve { days } riskTable { days } } }
                cumulativeIncidence(options: { public: true }) { threshold cohorts { withheld curves { curve { days } } } } } }"#,
            json!({}),
        )
        .await;
    let e = &data["evaluation"];
    assert_eq!(e["results"]["total"]["assisted"]["value"], Value::Null);
    assert_eq!(e["results"]["total"]["assisted"]["withheld"], "SMALL_COUNT");
    assert_eq!(e["results"]["total"]["shareReintegrated"], Value::Null);
    let cohort = &e["survival"]["cohorts"][0];
    assert_eq!(cohort["withheld"], "SMALL_COUNT", "{cohort}");
    assert_eq!(cohort["subjects"]["withheld"], "SMALL_COUNT");
    assert!(cohort["median"].is_null() && cohort["curve"].as_array().unwrap().is_empty());
    assert!(cohort["riskTable"].as_array().unwrap().is_empty());
    assert_eq!(e["cumulativeIncidence"]["threshold"], 11);
    assert_eq!(
        e["cumulativeIncidence"]["cohorts"][0]["withheld"],
        "SMALL_COUNT"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_evaluates_only_their_own_organisation() {
    let db = TestDatabase::sqlite();
    let w = World::new(&db).await;
    let caseworker = w.session(Role::Caseworker, "cw", None).await;
    people_with_evaluation_consent(&w, &caseworker, 6).await;
    let other = w
        .store
        .create_organisation("Theirs", "RS")
        .await
        .unwrap()
        .id;
    let ours = w.session(Role::Supervisor, "sup", None).await;
    let theirs = w.session_in(other, Role::Supervisor, "them", None).await;
    // Two loads of everyone's history per request at most: the export on its own.
    let query = r#"{ evaluation { results { total { assisted { value } } } survival { cohorts { subjects { value } } } }
        evaluationRecords { records { pseudonym } } }"#;
    let export = "{ evaluationExport(format: WIDE) { rows } }";
    let both = |who| {
        let w = &w;
        async move {
            let mut data = w.ok(who, query, json!({})).await;
            data["evaluationExport"] =
                w.ok(who, export, json!({})).await["evaluationExport"].clone();
            data
        }
    };
    let mine = both(&ours).await;
    assert_eq!(
        mine["evaluation"]["results"]["total"]["assisted"]["value"],
        6
    );
    assert_eq!(
        mine["evaluationRecords"]["records"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(mine["evaluationExport"]["rows"], 6);
    let not_mine = both(&theirs).await;
    assert_eq!(
        not_mine["evaluation"]["results"]["total"]["assisted"]["value"],
        0
    );
    assert!(
        not_mine["evaluationRecords"]["records"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(not_mine["evaluationExport"]["rows"], 0);
}

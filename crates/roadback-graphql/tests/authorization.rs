//! The authorisation matrix: every query, mutation and subscription of the schema, for every
//! role (and token scope), against the user's own organisation's record and another
//! organisation's, checked against the domain's policy. An operation missing from the table
//! fails the test, so a new resolver cannot arrive without its access rule being tested.

use std::collections::BTreeSet;
use std::time::Duration;

use async_graphql::{Request, Response, Variables};
use futures_util::StreamExt;
use roadback_domain::access::{Access, Action, Principal, RecordOwner, Role, Scope, authorize};
use roadback_graphql::auth::Session;
use roadback_graphql::loaders::new_user_loader;
use roadback_graphql::{Api, ApiState};
use roadback_store::EventStore;
use roadback_store::directory::User;
use roadback_store::testing::TestDatabase;
use roadback_store::vault::{Keyring, MasterKey, Vault};
use uuid::Uuid;

/// How an operation's access is decided.
#[derive(Clone, Copy, Debug)]
enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// The policy, without a record.
    Plain(Action),
    /// The policy, on the target beneficiary's record.
    Record(Action),
}

struct Op {
    kind: &'static str,
    /// The root field (for a nested field, the root it is reached through).
    name: &'static str,
    rule: Rule,
    document: &'static str,
    /// The field refused data must not appear under (the root field unless set).
    field: Option<&'static str>,
}

const CHANGE: &str =
    r#"beneficiaryId: $id, expectedVersion: 999, idempotencyKey: $key, occurredOn: "2011-01-01""#;

fn ops() -> Vec<Op> {
    use Action::*;
    use Rule::*;
    let m = |name, rule, document| Op {
        kind: "mutation",
        name,
        rule,
        document,
        field: None,
    };
    let q = |name, rule, document| Op {
        kind: "query",
        name,
        rule,
        document,
        field: None,
    };
    let s = |name, rule, document| Op {
        kind: "subscription",
        name,
        rule,
        document,
        field: None,
    };
    vec![
        q("me", Plain(ReadDirectory), "{ me { user { id } } }"),
        q(
            "organisations",
            Plain(ReadDirectory),
            "{ organisations { id name } }",
        ),
        q("users", Plain(ReadUsers), "{ users { id email } }"),
        q("apiTokens", Plain(ManageUsers), "{ apiTokens { id name } }"),
        q(
            "serviceCatalogue",
            Plain(ReadDirectory),
            "{ serviceCatalogue }",
        ),
        q(
            "indicatorFramework",
            Plain(ReadDirectory),
            "{ indicatorFramework { version } }",
        ),
        q(
            "beneficiaries",
            Plain(ReadCaseload),
            "{ beneficiaries { totalCount edges { node { id caseCode } } } }",
        ),
        q(
            "beneficiary",
            Record(ReadRecord),
            "{ beneficiary(id: $id) { id caseCode timeline { summary } } }",
        ),
        q(
            "caseload",
            Plain(ReadCaseload),
            "{ caseload { openCases } }",
        ),
        q("accessLog", Plain(ReadAccessLog), "{ accessLog { id } }"),
        m(
            "signIn",
            Public,
            r#"{ signIn(email: "nobody@example.org", password: "wrong password!") { expiresAt } }"#,
        ),
        m("signOut", Plain(ReadDirectory), "{ signOut }"),
        m(
            "createUser",
            Plain(ManageUsers),
            r#"{ createUser(input: { email: $key, displayName: "New", role: CASEWORKER }) { id } }"#,
        ),
        m(
            "issueApiToken",
            Plain(ManageUsers),
            r#"{ issueApiToken(input: { userId: $me, name: "t", scopes: [READ] }) { secret } }"#,
        ),
        m(
            "revokeApiToken",
            Plain(ManageUsers),
            "{ revokeApiToken(id: $token) }",
        ),
        m(
            "registerBeneficiary",
            Record(WriteRecord),
            r#"{ registerBeneficiary(input: { idempotencyKey: $key, occurredOn: "2011-01-01", caseCode: "X-1", gender: MALE, citizenship: "RS", countryOfAssistance: "RS", identifiedOn: "2011-01-01", identificationRoute: NGO }) { version } }"#,
        ),
        m(
            "giveConsent",
            Record(WriteRecord),
            "{ giveConsent(input: { CHANGE, kind: ASSISTANCE, givenBy: BENEFICIARY, evidence: SIGNED_FORM }) { version } }",
        ),
        m(
            "withdrawConsent",
            Record(WriteRecord),
            "{ withdrawConsent(input: { CHANGE, kind: ASSISTANCE, withdrawnBy: BENEFICIARY }) { version } }",
        ),
        m(
            "setPlanGoal",
            Record(WriteRecord),
            "{ setPlanGoal(input: { CHANGE, domain: HOUSING }) { version } }",
        ),
        m(
            "revisePlanGoal",
            Record(WriteRecord),
            "{ revisePlanGoal(input: { CHANGE, goalId: $id, domain: HOUSING }) { version } }",
        ),
        m(
            "achievePlanGoal",
            Record(WriteRecord),
            "{ achievePlanGoal(input: { CHANGE, goalId: $id }) { version } }",
        ),
        m(
            "abandonPlanGoal",
            Record(WriteRecord),
            "{ abandonPlanGoal(input: { CHANGE, goalId: $id }) { version } }",
        ),
        m(
            "scheduleReview",
            Record(WriteRecord),
            r#"{ scheduleReview(input: { CHANGE, dueOn: "2011-06-01" }) { version } }"#,
        ),
        m(
            "recordPlanReview",
            Record(WriteRecord),
            "{ recordPlanReview(input: { CHANGE }) { version } }",
        ),
        m(
            "planService",
            Record(WriteRecord),
            "{ planService(input: { CHANGE, service: MEDICAL }) { version } }",
        ),
        m(
            "recordServiceDelivery",
            Record(WriteRecord),
            r#"{ recordServiceDelivery(input: { CHANGE, service: MEDICAL }) { version } }"#,
        ),
        m(
            "discontinueService",
            Record(WriteRecord),
            "{ discontinueService(input: { CHANGE, serviceId: $id }) { version } }",
        ),
        m(
            "recordAssessment",
            Record(WriteRecord),
            "{ recordAssessment(input: { CHANGE, frameworkVersion: 1, scores: [{ domain: SAFETY, score: 2 }] }) { version } }",
        ),
        m(
            "changeStatus",
            Record(WriteRecord),
            "{ changeStatus(input: { CHANGE, to: IN_CRISIS_CARE }) { version } }",
        ),
        m(
            "referToOrganisation",
            Record(WriteRecord),
            "{ referToOrganisation(input: { CHANGE, toOrganisationId: $id }) { version } }",
        ),
        m(
            "acceptReferral",
            Record(WriteRecord),
            "{ acceptReferral(input: { CHANGE, referralId: $id }) { version } }",
        ),
        m(
            "transferCase",
            Record(SuperviseRecord),
            "{ transferCase(input: { CHANGE, toCaseworkerId: $id }) { version } }",
        ),
        m(
            "closeCase",
            Record(SuperviseRecord),
            "{ closeCase(input: { CHANGE }) { version } }",
        ),
        m(
            "reopenCase",
            Record(SuperviseRecord),
            "{ reopenCase(input: { CHANGE }) { version } }",
        ),
        m(
            "recordFollowUpContact",
            Record(WriteRecord),
            "{ recordFollowUpContact(input: { CHANGE }) { version } }",
        ),
        m(
            "correctRegistration",
            Record(WriteRecord),
            r#"{ correctRegistration(input: { CHANGE, caseCode: "X-2", gender: MALE, citizenship: "RS", countryOfAssistance: "RS", identifiedOn: "2010-01-01", identificationRoute: NGO }) { version } }"#,
        ),
        m(
            "recordPersonalData",
            Record(WritePersonalData),
            r#"{ recordPersonalData(input: { CHANGE, personalData: { givenName: "Secret Name" } }) { version } }"#,
        ),
        m(
            "erasePersonalData",
            Record(EraseRecord),
            "{ erasePersonalData(input: { CHANGE, reason: PERSON_REQUESTED }) { version } }",
        ),
        Op {
            kind: "query",
            name: "beneficiary",
            rule: Record(ReadPersonalData),
            document: "{ beneficiary(id: $id) { personalData { givenName phone } } }",
            field: Some("personalData"),
        },
        q(
            "evaluationRecords",
            Plain(ReadEvaluation),
            "{ evaluationRecords { records { pseudonym } } }",
        ),
        q(
            "evaluation",
            Plain(ReadEvaluation),
            "{ evaluation { results { total { assisted { value } } } } }",
        ),
        q(
            "evaluationExport",
            Plain(ReadEvaluation),
            "{ evaluationExport(format: WIDE) { rows digest } }",
        ),
        q(
            "evaluationLocks",
            Plain(ReadEvaluation),
            "{ evaluationLocks { name } }",
        ),
        Op {
            kind: "query",
            name: "evaluationLock",
            rule: Plain(ReadEvaluation),
            // No such lock: null for those allowed to read locks.
            document: r#"{ evaluationLock(name: "none") { name } }"#,
            field: None,
        },
        m(
            "lockEvaluation",
            Plain(ReadEvaluation),
            r#"{ lockEvaluation(input: { name: $key, selection: "{ results { total { assisted { value } } } }" }) { digest } }"#,
        ),
        m(
            "voidEvent",
            Record(WriteRecord),
            "{ voidEvent(input: { CHANGE, eventId: $id }) { version } }",
        ),
        s(
            "beneficiaryTimeline",
            Record(ReadRecord),
            "{ beneficiaryTimeline(beneficiaryId: $id) { id } }",
        ),
        s(
            "caseload",
            Plain(ReadCaseload),
            "{ caseload { beneficiaryId } }",
        ),
    ]
}

/// The root fields of a kind of operation, from introspection.
async fn schema_fields(schema: &Api, root: &str) -> BTreeSet<String> {
    let response = schema
        .execute(format!(
            "{{ __type(name: \"{root}\") {{ fields {{ name }} }} }}"
        ))
        .await;
    let data = response.data.into_json().unwrap();
    data["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

struct World {
    store: EventStore,
    schema: Api,
    ours: Uuid,
    theirs: Uuid,
    users: Vec<(String, Session)>,
}

async fn user(store: &EventStore, org: Uuid, role: Role, n: &str) -> User {
    store
        .create_user(org, &format!("{n}@example.org"), n, role, None)
        .await
        .unwrap()
}

fn session(user: &User, scopes: Option<Vec<Scope>>) -> Session {
    Session {
        principal: Principal {
            user: user.id,
            organisation: user.organisation,
            role: user.role,
            scopes,
        },
        user: user.clone(),
        credential: None,
    }
}

async fn run(
    schema: &Api,
    store: &EventStore,
    op: &Op,
    who: Option<&Session>,
    id: Uuid,
) -> Response {
    run_on(schema, store, op, who, id, None).await
}

/// Like [`run`]; with `corrects`, a change corrects that entry (`$target`).
async fn run_on(
    schema: &Api,
    store: &EventStore,
    op: &Op,
    who: Option<&Session>,
    id: Uuid,
    corrects: Option<Uuid>,
) -> Response {
    let change = match corrects {
        Some(_) if op.name == "correctRegistration" || op.name == "voidEvent" => CHANGE.to_string(),
        Some(_) => format!("{CHANGE}, corrects: $target"),
        None => CHANGE.to_string(),
    };
    let mut body = op.document.replace("CHANGE", &change);
    if op.name == "voidEvent" && corrects.is_some() {
        body = body.replace("eventId: $id", "eventId: $target");
    }
    let mut declarations = Vec::new();
    if body.contains("$target") {
        declarations.push("$target: UUID!");
    }
    if body.contains("$id") {
        declarations.push("$id: UUID!");
    }
    if body.contains("$key") {
        declarations.push("$key: String!");
    }
    if body.contains("$me") {
        declarations.push("$me: UUID!");
    }
    if body.contains("$token") {
        declarations.push("$token: UUID!");
    }
    // A fresh token of the caller's organisation for each revocation.
    let token = match who {
        Some(who) if body.contains("$token") => {
            store
                .create_api_token(
                    who.user.id,
                    "to revoke",
                    &[Scope::Read],
                    &Uuid::new_v4().to_string(),
                    None,
                )
                .await
                .unwrap()
                .id
        }
        _ => Uuid::nil(),
    };
    let document = if declarations.is_empty() {
        format!("{} {body}", op.kind)
    } else {
        format!("{}({}) {body}", op.kind, declarations.join(", "))
    };
    let vars = Variables::from_json(serde_json::json!({
        "id": id,
        "key": format!("{}-{}@example.org", op.name, Uuid::new_v4()),
        "me": who.map_or(Uuid::nil(), |w| w.user.id),
        "token": token,
        "target": corrects.unwrap_or_default(),
    }));
    let mut request = Request::new(document)
        .variables(vars)
        .data(new_user_loader(store.clone()));
    if let Some(who) = who {
        request = request.data(who.clone());
    }
    if op.kind == "subscription" {
        let mut stream = schema.execute_stream(request);
        match tokio::time::timeout(Duration::from_millis(300), stream.next()).await {
            Ok(Some(response)) => response,
            // Still open and waiting for events: the subscription was allowed.
            _ => Response::new(async_graphql::Value::Null),
        }
    } else {
        schema.execute(request).await
    }
}

fn codes(response: &Response) -> Vec<String> {
    response
        .errors
        .iter()
        .map(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .map(|c| c.to_string().trim_matches('"').to_string())
                .unwrap_or_else(|| format!("no code: {}", e.message))
        })
        .collect()
}

async fn world() -> (TestDatabase, World) {
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let schema = roadback_graphql::schema(ApiState::new(
        store.clone(),
        Vault::new(store.clone(), Keyring::new(MasterKey::generate())),
    ));
    let a = store.create_organisation("Ours", "AL").await.unwrap().id;
    let b = store.create_organisation("Theirs", "RS").await.unwrap().id;
    let mut users = Vec::new();
    for role in Role::ALL {
        let u = user(&store, a, role, role.code()).await;
        match role {
            Role::Integrator => {
                users.push((
                    "integrator read".to_string(),
                    session(&u, Some(vec![Scope::Read])),
                ));
                users.push((
                    "integrator write".to_string(),
                    session(&u, Some(vec![Scope::Write])),
                ));
            }
            _ => {
                users.push((role.code().to_string(), session(&u, None)));
                // Tokens of every role act within their scopes.
                users.push((
                    format!("{} read token", role.code()),
                    session(&u, Some(vec![Scope::Read])),
                ));
                users.push((
                    format!("{} write token", role.code()),
                    session(&u, Some(vec![Scope::Write])),
                ));
            }
        }
    }
    let their_caseworker = session(&user(&store, b, Role::Caseworker, "theirs").await, None);
    let our_caseworker = users
        .iter()
        .find(|(n, _)| n == "caseworker")
        .unwrap()
        .1
        .clone();
    let register = |who: Session, code: &'static str| {
        let schema = schema.clone();
        let store = store.clone();
        async move {
            let op = Op {
                kind: "mutation",
                name: "register",
                field: None,
                rule: Rule::Public,
                document: r#"{ registerBeneficiary(input: { idempotencyKey: $key, occurredOn: "2010-01-02", caseCode: "CODE", gender: FEMALE, citizenship: "AL", countryOfAssistance: "AL", identifiedOn: "2010-01-01", identificationRoute: NGO }) { beneficiaryId } }"#,
            };
            let op = Op {
                document: Box::leak(op.document.replace("CODE", code).into_boxed_str()),
                ..op
            };
            let r = run(&schema, &store, &op, Some(&who), Uuid::nil()).await;
            assert!(r.errors.is_empty(), "{:?}", r.errors);
            let id = r.data.into_json().unwrap()["registerBeneficiary"]["beneficiaryId"]
                .as_str()
                .unwrap()
                .to_string();
            Uuid::parse_str(&id).unwrap()
        }
    };
    let ours = register(our_caseworker, "OURS-1").await;
    let theirs = register(their_caseworker, "THEIRS-1").await;
    (
        db,
        World {
            store,
            schema,
            ours,
            theirs,
            users,
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_for_every_role_on_own_and_other_records() {
    let (_db, w) = world().await;
    // Every root field of the schema has a row in the table, and no row is stale.
    let table = ops();
    for (kind, root) in [
        ("query", "Query"),
        ("mutation", "Mutation"),
        ("subscription", "Subscription"),
    ] {
        let in_schema = schema_fields(&w.schema, root).await;
        let in_table: BTreeSet<String> = table
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| o.name.to_string())
            .collect();
        assert_eq!(
            in_schema, in_table,
            "{root} fields without an access rule in this test (or rules for fields that are gone)"
        );
    }

    let mut failures = Vec::new();
    for op in &table {
        // Signed out: only public operations answer without UNAUTHENTICATED.
        let response = run(&w.schema, &w.store, op, None, w.ours).await;
        let got = codes(&response);
        if !matches!(op.rule, Rule::Public) && got != ["UNAUTHENTICATED"] {
            failures.push(format!("{} signed out: {got:?}", op.name));
        }
        for (who, session) in &w.users {
            for (target, id) in [("own", w.ours), ("other", w.theirs)] {
                let organisation = if target == "own" {
                    session.user.organisation
                } else {
                    Uuid::from_u128(u128::MAX)
                };
                let expected = match op.rule {
                    Rule::Public => Access::Allowed,
                    Rule::Plain(action) => authorize(&session.principal, action, None),
                    Rule::Record(action) => authorize(
                        &session.principal,
                        action,
                        Some(&RecordOwner {
                            organisation,
                            shared_with: vec![],
                        }),
                    ),
                };
                // Registration always writes the caller's own organisation.
                if op.name == "registerBeneficiary" && target == "other" {
                    continue;
                }
                let response = run(&w.schema, &w.store, op, Some(session), id).await;
                let got = codes(&response);
                let denied = got
                    .iter()
                    .any(|c| ["FORBIDDEN", "NOT_FOUND", "UNAUTHENTICATED"].contains(&c.as_str()));
                let ok = match expected {
                    Access::Allowed => {
                        !denied
                            && !got
                                .iter()
                                .any(|c| c.starts_with("no code") || c == "INTERNAL")
                    }
                    Access::Forbidden => got == ["FORBIDDEN"],
                    Access::NotFound => got == ["NOT_FOUND"],
                };
                if !ok {
                    failures.push(format!(
                        "{} by {who} on {target}: expected {expected:?}, got {got:?}",
                        op.name
                    ));
                }
                // Nothing leaks past a refusal: the operation's field is null.
                if expected != Access::Allowed {
                    let data = response.data.into_json().unwrap_or_default();
                    let refused = match op.field {
                        Some(field) => &data[op.name][field],
                        None => &data[op.name],
                    };
                    if !data.is_null() && !refused.is_null() {
                        failures.push(format!("{} by {who} on {target} leaked {data}", op.name));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_show_only_the_organisations_own_beneficiaries() {
    let (_db, w) = world().await;
    // Let the read models catch up (in the server the projector runs all the time).
    roadback_store::projector::Projector::new(w.store.clone(), 100)
        .catch_up()
        .await
        .unwrap();
    let caseworker = &w.users.iter().find(|(n, _)| n == "caseworker").unwrap().1;
    let op = &ops()
        .into_iter()
        .find(|o| o.name == "beneficiaries")
        .unwrap();
    let response = run(&w.schema, &w.store, op, Some(caseworker), w.ours).await;
    let data = response.data.into_json().unwrap();
    let ids: Vec<&str> = data["beneficiaries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [w.ours.to_string()]);
    assert_eq!(data["beneficiaries"]["totalCount"], 1);
}

/// One entry of every kind after the registration (whether the history makes sense does not
/// matter here: access is decided before the rules).
fn one_of_each() -> Vec<roadback_domain::Event> {
    use roadback_domain::events::*;
    use roadback_domain::personal::{ErasureReason, PersonalField};
    use roadback_domain::vocabulary::{ConsentGiver, ConsentScope, ReintegrationDomain};
    use roadback_domain::{Event, Status};
    let id = Uuid::from_u128(0x77);
    let elsewhere = Uuid::from_u128(0xE15E);
    vec![
        Event::ConsentGiven(ConsentGiven {
            scope: ConsentScope::Assistance,
            given_by: ConsentGiver::Beneficiary,
            evidence: ConsentEvidence::SignedForm,
        }),
        Event::ConsentWithdrawn(ConsentWithdrawn {
            scope: ConsentScope::EvaluationUse,
            withdrawn_by: ConsentGiver::Beneficiary,
        }),
        Event::PlanGoalSet(PlanGoalSet {
            goal_id: id,
            domain: ReintegrationDomain::Housing,
            target_on: None,
        }),
        Event::PlanGoalRevised(PlanGoalRevised {
            goal_id: id,
            domain: ReintegrationDomain::Safety,
            target_on: None,
        }),
        Event::PlanGoalAchieved(PlanGoalAchieved { goal_id: id }),
        Event::PlanGoalAbandoned(PlanGoalAbandoned { goal_id: id }),
        Event::ReviewScheduled(ReviewScheduled {
            due_on: "2011-03-01".parse().unwrap(),
        }),
        Event::PlanReviewed(PlanReviewed {
            next_review_on: None,
        }),
        Event::ServicePlanned(ServicePlanned {
            service_id: id,
            service: ServiceType::Medical,
            provider: None,
            goal_id: None,
        }),
        Event::ServiceDelivered(ServiceDelivered {
            service_id: id,
            service: ServiceType::Medical,
            provider: None,
            from: "2011-01-01".parse().unwrap(),
            to: None,
            amount: None,
            pre_program: false,
        }),
        Event::ServiceDiscontinued(ServiceDiscontinued { service_id: id }),
        Event::AssessmentRecorded(AssessmentRecorded {
            assessment_id: id,
            framework_version: 1,
            scores: vec![DomainScore {
                domain: ReintegrationDomain::Safety,
                score: 2,
            }],
        }),
        Event::StatusChanged(StatusChanged {
            to: Status::InCrisisCare,
        }),
        Event::ReferredToOrganisation(ReferredToOrganisation {
            referral_id: id,
            to_organisation: elsewhere,
        }),
        Event::ReferralAccepted(ReferralAccepted { referral_id: id }),
        Event::CaseTransferred(CaseTransferred { to_caseworker: id }),
        Event::CaseClosed(CaseClosed {
            outcome: Status::InCrisisCare,
        }),
        Event::CaseReopened(CaseReopened {}),
        Event::FollowUpContactMade(FollowUpContactMade {
            observed_status: None,
        }),
        Event::PersonalDataRecorded(PersonalDataRecorded {
            fields: vec![PersonalField::GivenName],
        }),
        Event::PersonalDataErased(PersonalDataErased {
            reason: ErasureReason::RecordedInError,
        }),
    ]
}

/// The mutation that records an entry of this type (and so corrects one).
fn recording(event_type: &str) -> &'static str {
    match event_type {
        "BeneficiaryRegistered" => "correctRegistration",
        "ConsentGiven" => "giveConsent",
        "ConsentWithdrawn" => "withdrawConsent",
        "PlanGoalSet" => "setPlanGoal",
        "PlanGoalRevised" => "revisePlanGoal",
        "PlanGoalAchieved" => "achievePlanGoal",
        "PlanGoalAbandoned" => "abandonPlanGoal",
        "ReviewScheduled" => "scheduleReview",
        "PlanReviewed" => "recordPlanReview",
        "ServicePlanned" => "planService",
        "ServiceDelivered" => "recordServiceDelivery",
        "ServiceDiscontinued" => "discontinueService",
        "AssessmentRecorded" => "recordAssessment",
        "StatusChanged" => "changeStatus",
        "ReferredToOrganisation" => "referToOrganisation",
        "ReferralAccepted" => "acceptReferral",
        "CaseTransferred" => "transferCase",
        "CaseClosed" => "closeCase",
        "CaseReopened" => "reopenCase",
        "FollowUpContactMade" => "recordFollowUpContact",
        "PersonalDataRecorded" => "recordPersonalData",
        "PersonalDataErased" => "erasePersonalData",
        other => panic!("no mutation records {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correcting_and_voiding_each_entry_needs_the_role_that_records_it() {
    use roadback_domain::access::action_to_record;
    use roadback_store::records::{beneficiary_stream, new_event};
    let (_db, w) = world().await;
    // Every kind of entry on both records, after their registrations.
    let mut entries = Vec::new();
    for beneficiary in [w.ours, w.theirs] {
        let events: Vec<_> = one_of_each()
            .iter()
            .map(|event| {
                let id = Uuid::new_v4();
                entries.push((beneficiary, id, event.type_name()));
                new_event(
                    id,
                    event,
                    "2011-01-01".parse().unwrap(),
                    roadback_store::EventContext {
                        actor: Uuid::nil(),
                        organisation: Uuid::nil(),
                        correlation_id: Uuid::nil(),
                    },
                )
                .unwrap()
            })
            .collect();
        let stream = beneficiary_stream(beneficiary).unwrap();
        w.store
            .append(&stream, roadback_store::ExpectedVersion::Exact(1), events)
            .await
            .unwrap();
        let registration = w.store.read_stream(&stream, 1, 1).await.unwrap()[0].id;
        entries.push((beneficiary, registration, "BeneficiaryRegistered"));
    }
    let table = ops();
    let void = table.iter().find(|o| o.name == "voidEvent").unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (beneficiary, entry, event_type) in &entries {
        let correct = table
            .iter()
            .find(|o| o.name == recording(event_type))
            .unwrap();
        let action = action_to_record(event_type);
        for (who, session) in &w.users {
            let owner = RecordOwner {
                organisation: if *beneficiary == w.ours {
                    session.user.organisation
                } else {
                    Uuid::from_u128(u128::MAX)
                },
                shared_with: vec![],
            };
            let expected = authorize(&session.principal, action, Some(&owner));
            for (what, op) in [("correcting", correct), ("voiding", void)] {
                let response = run_on(
                    &w.schema,
                    &w.store,
                    op,
                    Some(session),
                    *beneficiary,
                    Some(*entry),
                )
                .await;
                let got = codes(&response);
                // Allowed: past the guard, the version (999) is stale.
                let ok = match expected {
                    Access::Allowed => got == ["CONFLICT"],
                    Access::Forbidden => got == ["FORBIDDEN"],
                    Access::NotFound => got == ["NOT_FOUND"],
                };
                checked += 1;
                if !ok {
                    failures.push(format!(
                        "{what} {event_type} by {who} on {}: expected {expected:?}, got {got:?}",
                        if *beneficiary == w.ours {
                            "own"
                        } else {
                            "other"
                        }
                    ));
                }
            }
        }
    }
    assert!(checked > 500, "{checked}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

//! The directory (organisations, users, sessions, tokens, failed sign-ins, access log) and the
//! plan list queries, on both backends.

use chrono::{Duration, NaiveDate, Utc};
use roadback_domain::access::{Role, Scope};
use roadback_domain::status::Status;
use roadback_domain::testing::{play, seeded_steps};
use roadback_store::StoreError;
use roadback_store::projector::Projector;
use roadback_store::read_models::PlanFilter;
use roadback_store::testing::{TestDatabase, append_history};
use uuid::Uuid;

pub async fn organisations_and_users_are_unique_and_listed(db: &TestDatabase) {
    let store = db.open().await;
    let a = store
        .create_organisation("Different and Equal", "AL")
        .await
        .unwrap();
    let b = store.create_organisation("Atina", "RS").await.unwrap();
    let again = store.create_organisation("Atina", "RS").await.unwrap_err();
    assert!(
        matches!(again, StoreError::AlreadyExists { .. }),
        "{again:?}"
    );
    assert_eq!(again.code(), "VALIDATION");
    let names: Vec<_> = store
        .organisations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["Atina", "Different and Equal"]);

    let ana = store
        .create_user(
            a.id,
            " Ana@Example.org ",
            "Ana",
            Role::Caseworker,
            Some("$argon2id$hash"),
        )
        .await
        .unwrap();
    assert_eq!(ana.email, "ana@example.org");
    let duplicate = store
        .create_user(b.id, "ANA@example.org", "Other Ana", Role::Supervisor, None)
        .await
        .unwrap_err();
    assert!(matches!(duplicate, StoreError::AlreadyExists { .. }));
    store
        .create_user(b.id, "mila@example.org", "Mila", Role::Supervisor, None)
        .await
        .unwrap();

    let (found, hash) = store
        .user_credentials("ANA@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id, hash.as_deref()),
        (ana.id, Some("$argon2id$hash"))
    );
    assert_eq!(found.role, Role::Caseworker);
    assert!(
        store
            .user_credentials("nobody@example.org")
            .await
            .unwrap()
            .is_none()
    );
    let of_a: Vec<_> = store
        .users(a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(of_a, [ana.id]);
    let by_ids = store.users_by_ids(&[ana.id, Uuid::nil()]).await.unwrap();
    assert_eq!(by_ids.len(), 1);
}

pub async fn sessions_and_tokens_expire_and_revoke(db: &TestDatabase) {
    let store = db.open().await;
    let org = store.create_organisation("Org", "AL").await.unwrap();
    let other = store.create_organisation("Other", "RS").await.unwrap();
    let user = store
        .create_user(org.id, "u@example.org", "U", Role::Integrator, None)
        .await
        .unwrap();
    let now = Utc::now();

    store
        .create_session("live", user.id, now + Duration::hours(1))
        .await
        .unwrap();
    store
        .create_session("old", user.id, now - Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(
        store.session_user("live", now).await.unwrap().map(|u| u.id),
        Some(user.id)
    );
    assert!(
        store.session_user("old", now).await.unwrap().is_none(),
        "expired"
    );
    store.delete_session("live").await.unwrap();
    assert!(
        store.session_user("live", now).await.unwrap().is_none(),
        "signed out"
    );

    let token = store
        .create_api_token(
            user.id,
            "sync",
            &[Scope::Read, Scope::Write],
            "secret-hash",
            None,
        )
        .await
        .unwrap();
    let (who, found) = store
        .api_token_user("secret-hash", now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (who.id, found.scopes.clone()),
        (user.id, vec![Scope::Read, Scope::Write])
    );
    store
        .create_api_token(
            user.id,
            "old",
            &[Scope::Read],
            "expired-hash",
            Some(now - Duration::days(1)),
        )
        .await
        .unwrap();
    assert!(
        store
            .api_token_user("expired-hash", now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !store.revoke_api_token(other.id, token.id).await.unwrap(),
        "not another organisation's"
    );
    assert!(store.revoke_api_token(org.id, token.id).await.unwrap());
    assert!(
        store
            .api_token_user("secret-hash", now)
            .await
            .unwrap()
            .is_none(),
        "revoked"
    );
    let listed = store.api_tokens(org.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .any(|t| t.id == token.id && t.revoked_at.is_some())
    );
}

pub async fn failed_sign_ins_are_counted_in_a_window(db: &TestDatabase) {
    let store = db.open().await;
    let now = Utc::now();
    for minutes in [30, 10, 5, 1] {
        store
            .record_sign_in_failure("A@example.org", now - Duration::minutes(minutes))
            .await
            .unwrap();
    }
    let window = now - Duration::minutes(15);
    assert_eq!(
        store
            .sign_in_failures_since("a@example.org", window)
            .await
            .unwrap(),
        3
    );
    store.clear_sign_in_failures("a@example.org").await.unwrap();
    assert_eq!(
        store
            .sign_in_failures_since("a@example.org", window)
            .await
            .unwrap(),
        0
    );
}

pub async fn the_access_log_is_append_only(db: &TestDatabase) {
    let store = db.open().await;
    let (user, org, b1, b2) = (
        Uuid::from_u128(1),
        Uuid::from_u128(2),
        Uuid::from_u128(3),
        Uuid::from_u128(4),
    );
    for b in [b1, b2, b1] {
        store
            .log_access(user, org, Some(b), "READ_RECORD", "case work")
            .await
            .unwrap();
    }
    store
        .log_access(
            user,
            Uuid::from_u128(9),
            Some(b1),
            "READ_RECORD",
            "elsewhere",
        )
        .await
        .unwrap();
    let all = store.access_log(org, None, None, 10).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let of_b1 = store.access_log(org, Some(b1), None, 10).await.unwrap();
    assert_eq!(of_b1.len(), 2);
    let page = store
        .access_log(org, None, Some(all[0].id), 10)
        .await
        .unwrap();
    assert_eq!(page.len(), 2);

    let mut tx = store.begin().await.unwrap();
    let refused = match &mut tx {
        roadback_store::StoreTransaction::Postgres(tx) => sqlx::query("DELETE FROM access_log")
            .execute(&mut **tx)
            .await
            .is_err(),
        roadback_store::StoreTransaction::Sqlite(tx) => {
            sqlx::query("UPDATE access_log SET purpose = 'x'")
                .execute(&mut **tx)
                .await
                .is_err()
        }
    };
    assert!(refused, "changing the access log is refused");
}

/// Which plans a filter should keep.
type Keep<'a> = Box<dyn Fn(&roadback_domain::Plan) -> bool + 'a>;

pub async fn plan_pages_filter_and_page_by_case_code(db: &TestDatabase) {
    let store = db.open().await;
    let entries = play(&seeded_steps(21, 600, 8, 20), 8);
    append_history(&store, &entries, Uuid::from_u128(0x0A))
        .await
        .unwrap();
    Projector::new(store.clone(), 100).catch_up().await.unwrap();
    let all = store.all_plans().await.unwrap();
    let org = roadback_domain::testing::ORGANISATIONS[0];
    let mine: Vec<_> = all.iter().filter(|p| p.organisation == org).collect();
    assert!(mine.len() >= 2, "{} plans", mine.len());

    // Paging by two through the organisation's plans gives them all, in case-code order, once.
    let filter = PlanFilter {
        organisation: Some(org),
        ..PlanFilter::default()
    };
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.plans_page(&filter, after.clone(), 2).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some((last.case_code.clone(), last.beneficiary_id));
        seen.extend(page.into_iter().map(|p| p.case_code));
    }
    let mut expected: Vec<_> = mine.iter().map(|p| p.case_code.clone()).collect();
    expected.sort();
    assert_eq!(seen, expected);
    assert_eq!(
        store.count_plans(&filter).await.unwrap() as usize,
        mine.len()
    );

    // Each filter keeps exactly the plans it describes.
    let some = mine[0];
    let checks: Vec<(PlanFilter, Keep)> = vec![
        (
            PlanFilter {
                status: Some(some.status),
                ..filter.clone()
            },
            Box::new(|p| p.status == some.status),
        ),
        (
            PlanFilter {
                caseworker: Some(some.caseworker),
                ..filter.clone()
            },
            Box::new(|p| p.caseworker == some.caseworker),
        ),
        (
            PlanFilter {
                closed: Some(true),
                ..filter.clone()
            },
            Box::new(|p| p.closed),
        ),
        (
            PlanFilter {
                review_overdue_on: Some(NaiveDate::from_ymd_opt(2012, 1, 1).unwrap()),
                ..filter.clone()
            },
            Box::new(|p| p.review_overdue(NaiveDate::from_ymd_opt(2012, 1, 1).unwrap())),
        ),
        (
            PlanFilter {
                case_code_contains: Some(some.case_code.to_lowercase()),
                ..filter.clone()
            },
            Box::new(|p| p.case_code == some.case_code),
        ),
        (
            PlanFilter {
                case_code_contains: Some("%".into()),
                ..filter.clone()
            },
            Box::new(|_| false),
        ),
        (
            PlanFilter {
                status: Some(Status::Deceased),
                closed: Some(false),
                ..filter.clone()
            },
            Box::new(|p| p.status == Status::Deceased && !p.closed),
        ),
    ];
    for (f, keep) in checks {
        let mut got: Vec<_> = store
            .plans_page(&f, None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.beneficiary_id)
            .collect();
        let mut want: Vec<_> = mine
            .iter()
            .filter(|p| keep(p))
            .map(|p| p.beneficiary_id)
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{f:?}");
        assert_eq!(
            store.count_plans(&f).await.unwrap() as usize,
            want.len(),
            "{f:?}"
        );
    }
    let plans = store
        .plans(&[some.beneficiary_id, Uuid::nil()])
        .await
        .unwrap();
    assert_eq!(plans.len(), 1);
}

pub async fn data_locks_are_kept_by_name_per_organisation(db: &TestDatabase) {
    use roadback_store::directory::EvaluationLock;
    let store = db.open().await;
    let (ours, theirs) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let lock = |name: &str, organisation: Uuid, seconds: i64| EvaluationLock {
        name: name.to_string(),
        organisation,
        created_by: Uuid::from_u128(9),
        created_at: chrono::DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap(),
        valid_on: "2015-12-31".parse().unwrap(),
        recorded_at: chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap(),
        selection: "{ results { total { assisted { value } } } }".into(),
        result: r#"{"results":{"total":{"assisted":{"value":1711}}}}"#.into(),
        digest: "ab".repeat(32),
    };
    store
        .create_evaluation_lock(&lock("2015 report", ours, 0))
        .await
        .unwrap();
    store
        .create_evaluation_lock(&lock("2016 report", ours, 60))
        .await
        .unwrap();
    store
        .create_evaluation_lock(&lock("theirs", theirs, 0))
        .await
        .unwrap();
    let taken = store
        .create_evaluation_lock(&lock("2015 report", theirs, 0))
        .await
        .unwrap_err();
    assert!(
        matches!(taken, StoreError::AlreadyExists { .. }),
        "{taken:?}"
    );
    assert_eq!(
        store.evaluation_lock(ours, "2015 report").await.unwrap(),
        Some(lock("2015 report", ours, 0)),
        "read back exactly, to the microsecond"
    );
    assert_eq!(
        store.evaluation_lock(theirs, "2015 report").await.unwrap(),
        None
    );
    let names: Vec<String> = store
        .evaluation_locks(ours)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(names, ["2016 report", "2015 report"], "newest first");
}

pub async fn concurrent_access_log_rows_are_each_committed_and_a_bad_one_fails_alone(
    db: &TestDatabase,
) {
    let store = db.open().await;
    let (user, org) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let mut reads = tokio::task::JoinSet::new();
    for i in 0..64u128 {
        let store = store.clone();
        reads.spawn(async move {
            // PostgreSQL text cannot hold NUL: that row is refused there (SQLite takes it).
            let purpose = if i == 17 {
                "a\u{0}b".to_string()
            } else {
                format!("case work {i}")
            };
            let written = store
                .log_access(
                    user,
                    org,
                    Some(Uuid::from_u128(100 + i)),
                    "READ_RECORD",
                    &purpose,
                )
                .await;
            (i, written)
        });
    }
    let mut written = 0;
    while let Some(joined) = reads.join_next().await {
        let (i, result) = joined.unwrap();
        match result {
            Ok(()) => written += 1,
            Err(error) => assert_eq!(i, 17, "{error:?}"),
        }
    }
    assert!(written >= 63, "{written}");
    let log = store.access_log(org, None, None, 100).await.unwrap();
    assert_eq!(log.len(), written);
    for i in (0..64u128).filter(|i| *i != 17) {
        let of = store
            .access_log(org, Some(Uuid::from_u128(100 + i)), None, 10)
            .await
            .unwrap();
        assert_eq!(of.len(), 1, "{i}");
        assert_eq!(of[0].purpose, format!("case work {i}"));
    }
}

/// A token's lookup is kept for a moment (`TOKEN_LOOKUP_KEPT`), never past the token: not past
/// its expiry, and not past a revocation made on another instance once that moment is over.
pub async fn a_kept_token_lookup_never_outlives_its_token(db: &TestDatabase) {
    let (here, elsewhere) = (db.open().await, db.open().await);
    let org = here.create_organisation("Org", "AL").await.unwrap();
    let user = here
        .create_user(org.id, "u@example.org", "U", Role::Integrator, None)
        .await
        .unwrap();
    let now = Utc::now();
    here.create_api_token(
        user.id,
        "brief",
        &[Scope::Read],
        "brief-hash",
        Some(now + Duration::hours(1)),
    )
    .await
    .unwrap();
    assert!(
        here.api_token_user("brief-hash", now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        here.api_token_user("brief-hash", now + Duration::hours(2))
            .await
            .unwrap()
            .is_none(),
        "kept past its expiry"
    );

    let token = here
        .create_api_token(user.id, "sync", &[Scope::Read], "sync-hash", None)
        .await
        .unwrap();
    assert!(
        here.api_token_user("sync-hash", now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(elsewhere.revoke_api_token(org.id, token.id).await.unwrap());
    tokio::time::sleep(roadback_store::directory::TOKEN_LOOKUP_KEPT).await;
    assert!(
        here.api_token_user("sync-hash", Utc::now())
            .await
            .unwrap()
            .is_none(),
        "kept past a revocation on another instance"
    );
}

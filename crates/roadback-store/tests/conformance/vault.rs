//! The personal-data vault on both backends: sealed at rest, erased for good, re-wrapped by a
//! master key rotation.

use roadback_domain::personal::PersonalData;
use roadback_store::StoreError;
use roadback_store::testing::TestDatabase;
use roadback_store::vault::{DeploymentSecret, Keyring, MasterKey, Personal, Vault};
use uuid::Uuid;

fn person(name: &str) -> PersonalData {
    PersonalData {
        given_name: Some(name.to_string()),
        family_name: Some("Hoxha-Vault".into()),
        phone: Some("+355 69 555 0101".into()),
        notes: Some("lives with an aunt near the old bridge".into()),
        ..PersonalData::default()
    }
}

/// Every sealed value and wrapped key, as stored.
async fn stored_bytes(store: &roadback_store::EventStore) -> Vec<Vec<u8>> {
    let sql = "SELECT sealed FROM vault_entries UNION ALL SELECT wrapped_key FROM vault_keys";
    match (store.postgres_pool(), store.sqlite_pool()) {
        (Some(pool), _) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        (_, Some(pool)) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        _ => unreachable!(),
    }
}

pub async fn personal_data_is_sealed_and_erased_for_good(db: &TestDatabase) {
    let store = db.open().await;
    let vault = Vault::new(store.clone(), Keyring::new(MasterKey::generate()));
    let (ana, ben) = (Uuid::from_u128(1), Uuid::from_u128(2));
    assert_eq!(vault.get(ana).await.unwrap(), Personal::Empty);
    vault.put(ana, &person("Anila")).await.unwrap();
    vault.put(ben, &person("Besa")).await.unwrap();
    vault.put(ana, &person("Anila Marie")).await.unwrap();
    assert_eq!(
        vault.get(ana).await.unwrap(),
        Personal::Data(person("Anila Marie"))
    );

    let stored = stored_bytes(&store).await;
    assert_eq!(stored.len(), 4, "one sealed entry and one wrapped key each");
    for bytes in &stored {
        for secret in [b"Anila".as_slice(), b"Hoxha-Vault", b"0101", b"old bridge"] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret),
                "plaintext at rest"
            );
        }
    }

    // A copy of the sealed entry, as a backup or a dump would hold it, opens before the
    // erasure and never after.
    let copy: Vec<u8> = match (store.postgres_pool(), store.sqlite_pool()) {
        (Some(pool), _) => {
            sqlx::query_scalar("SELECT sealed FROM vault_entries WHERE beneficiary_id = $1")
                .bind(ana)
                .fetch_one(pool)
                .await
                .unwrap()
        }
        (_, Some(pool)) => {
            sqlx::query_scalar("SELECT sealed FROM vault_entries WHERE beneficiary_id = ?1")
                .bind(ana)
                .fetch_one(pool)
                .await
                .unwrap()
        }
        _ => unreachable!(),
    };
    assert_eq!(
        vault.open_sealed(ana, &copy).await.unwrap(),
        person("Anila Marie")
    );
    vault.erase(ana).await.unwrap();
    assert_eq!(vault.get(ana).await.unwrap(), Personal::Erased);
    assert!(
        vault.open_sealed(ana, &copy).await.is_err(),
        "the copy no longer decrypts"
    );
    let refused = vault.put(ana, &person("Anila")).await.unwrap_err();
    assert!(matches!(refused, StoreError::Erased { .. }), "{refused:?}");
    vault.erase(ana).await.unwrap();
    assert_eq!(
        stored_bytes(&store).await.len(),
        2,
        "the key and the sealed data are gone"
    );
    assert_eq!(
        vault.get(ben).await.unwrap(),
        Personal::Data(person("Besa"))
    );
}

pub async fn rotation_rewraps_every_data_key(db: &TestDatabase) {
    let store = db.open().await;
    let (old, new) = (MasterKey::generate(), MasterKey::generate());
    let before = Vault::new(store.clone(), Keyring::new(old.clone()));
    let people: Vec<Uuid> = (1..=7).map(Uuid::from_u128).collect();
    for (i, id) in people.iter().enumerate() {
        before
            .put(*id, &person(&format!("Person {i}")))
            .await
            .unwrap();
    }

    // During the rotation servers know both keys and read every entry.
    let during = Vault::new(
        store.clone(),
        Keyring {
            current: new.clone(),
            previous: vec![old.clone()],
        },
    );
    assert!(matches!(
        during.get(people[0]).await.unwrap(),
        Personal::Data(_)
    ));
    let mut reported = Vec::new();
    assert_eq!(during.rotate(|n| reported.push(n)).await.unwrap(), 7);
    assert_eq!(reported.last(), Some(&7));
    assert_eq!(
        during.rotate(|_| {}).await.unwrap(),
        0,
        "nothing left to rotate"
    );
    assert_eq!(
        during.key_usage().await.unwrap(),
        [(new.id().to_string(), 7)]
    );

    let after = Vault::new(store.clone(), Keyring::new(new.clone()));
    let only_old = Vault::new(store.clone(), Keyring::new(old.clone()));
    for (i, id) in people.iter().enumerate() {
        assert_eq!(
            after.get(*id).await.unwrap(),
            Personal::Data(person(&format!("Person {i}")))
        );
        assert!(
            only_old.get(*id).await.is_err(),
            "the old key no longer opens it"
        );
    }
    // A key file round-trips.
    assert_eq!(MasterKey::from_hex(&new.to_hex()).unwrap().id(), new.id());
    assert!(MasterKey::from_hex("not a key").is_err());
}

pub async fn the_deployment_secret_is_shared_and_survives_rotation(db: &TestDatabase) {
    let store = db.open().await;
    let (old, new) = (MasterKey::generate(), MasterKey::generate());
    let first = Vault::new(store.clone(), Keyring::new(old.clone()));
    let ana = Uuid::from_u128(1);
    // Two servers starting at once make one secret between them.
    let (a, b) = tokio::join!(first.deployment_secret(), first.deployment_secret());
    let (a, b) = (a.unwrap(), b.unwrap());
    let pseudonym = a.pseudonym(ana);
    assert_eq!(pseudonym.len(), 32);
    assert_eq!(b.pseudonym(ana), pseudonym);
    assert_ne!(a.pseudonym(Uuid::from_u128(2)), pseudonym);
    // Keyed: another deployment's secret gives another pseudonym for the same id.
    assert_ne!(DeploymentSecret::new([7; 32]).pseudonym(ana), pseudonym);

    // A cursor opens only as the kind of list it was given out for, and reveals nothing.
    let cursor = a.seal_cursor("caseload", b"ALB-0001|some id");
    assert!(!cursor.contains("ALB"));
    assert_eq!(
        b.open_cursor("caseload", &cursor).as_deref(),
        Some(b"ALB-0001|some id".as_slice())
    );
    assert_eq!(a.open_cursor("evaluation", &cursor), None);
    let mut forged = cursor.clone().into_bytes();
    forged[30] = if forged[30] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        a.open_cursor("caseload", &String::from_utf8(forged).unwrap()),
        None
    );
    assert_eq!(a.open_cursor("caseload", "ALB-0001|some id"), None);

    // A rotation re-wraps it; with only the new master key it is the same secret.
    let during = Vault::new(
        store.clone(),
        Keyring {
            current: new.clone(),
            previous: vec![old],
        },
    );
    assert_eq!(during.rotate(|_| {}).await.unwrap(), 1);
    let after = Vault::new(store.clone(), Keyring::new(new));
    assert_eq!(
        after.deployment_secret().await.unwrap().pseudonym(ana),
        pseudonym
    );
    // Nothing stores or erases personal data under its reserved id.
    assert!(after.erase(Uuid::nil()).await.is_err());
    assert!(after.put(Uuid::nil(), &person("Nobody")).await.is_err());
    assert_eq!(
        after.deployment_secret().await.unwrap().pseudonym(ana),
        pseudonym
    );
}

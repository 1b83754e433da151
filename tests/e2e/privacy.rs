//! Erasure by crypto-shredding through the binary, on both backends: after a supervisor erases
//! a person, neither a pg_dump of the PostgreSQL database nor the raw SQLite files contain any
//! of their personal data, and their de-identified timeline still reads.

use std::path::{Path, PathBuf};

use roadback_e2e::Server;
use roadback_store::testing::TestDatabase;
use serde_json::json;

use crate::graphql::{Client, code, provision};

/// Strings that exist only in this person's personal data.
const SECRETS: [&str; 5] = [
    "Zyrafete",
    "Qendresa-Unikat",
    "+355 69 777 4242",
    "BK9921345",
    "near the blue mosque of Durres",
];

const REGISTER: &str = r#"mutation { registerBeneficiary(input: {
    idempotencyKey: "priv-1", occurredOn: "2010-03-02", caseCode: "AL-PRIV-1", gender: FEMALE,
    citizenship: "AL", countryOfAssistance: "AL", identifiedOn: "2010-03-01",
    identificationRoute: NGO, personalData: { givenName: "Zyrafete", familyName: "Qendresa-Unikat",
    phone: "+355 69 777 4242", documentNumber: "BK9921345", notes: "near the blue mosque of Durres" } })
    { beneficiaryId version events { eventType } } }"#;

/// Registers a person with personal data, runs `before_erasure` with their id, erases it,
/// and checks the views; returns the id.
async fn register_then_erase(server: &Server, before_erasure: impl AsyncFnOnce(&str)) -> String {
    let ana = Client::sign_in(server, "ana@example.org").await;
    let registered = ana.ok("registerBeneficiary", REGISTER, json!({})).await;
    assert_eq!(
        registered["events"].as_array().unwrap().len(),
        2,
        "{registered}"
    );
    let id = registered["beneficiaryId"].as_str().unwrap().to_string();
    let read = r#"query($id: UUID!) { beneficiary(id: $id) { erased personalData { givenName phone notes }
        timeline { id eventType summary } } }"#;
    let before = ana.ok("beneficiary", read, json!({ "id": id })).await;
    assert_eq!(before["personalData"]["givenName"], "Zyrafete");
    assert_eq!(before["erased"], false);
    for secret in SECRETS {
        assert!(
            !before["timeline"].to_string().contains(secret),
            "personal data in an event"
        );
    }

    before_erasure(&id).await;
    // A caseworker may not erase; a supervisor may.
    let erase = format!(
        r#"mutation {{ erasePersonalData(input: {{ beneficiaryId: "{id}", expectedVersion: 2,
            idempotencyKey: "erase-1", occurredOn: "2011-01-10", reason: PERSON_REQUESTED }}) {{ version }} }}"#
    );
    assert_eq!(code(&ana.gql(&erase, json!({})).await), "FORBIDDEN");
    let sara = Client::sign_in(server, "sara@example.org").await;
    assert_eq!(
        sara.ok("erasePersonalData", &erase, json!({})).await["version"],
        3
    );

    let after = sara.ok("beneficiary", read, json!({ "id": id })).await;
    assert_eq!(after["erased"], true);
    assert!(after["personalData"].is_null());
    let types: Vec<&str> = after["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "BeneficiaryRegistered",
            "PersonalDataRecorded",
            "PersonalDataErased"
        ]
    );
    let again = sara
        .gql(
            &format!(r#"mutation {{ recordPersonalData(input: {{ beneficiaryId: "{id}", expectedVersion: 3,
                idempotencyKey: "again", occurredOn: "2011-01-11", personalData: {{ givenName: "Zyrafete" }} }}) {{ version }} }}"#),
            json!({}),
        )
        .await;
    assert_eq!(code(&again), "VALIDATION", "{again}");
    assert_eq!(
        again["errors"][0]["extensions"]["reason"],
        "PERSONAL_DATA_ERASED"
    );

    // An erasure is not undone: voiding or correcting it is refused, and the person stays
    // erased.
    let erasure = after["timeline"].as_array().unwrap()[2]["id"].clone();
    let void = sara
        .gql(
            &format!(r#"mutation {{ voidEvent(input: {{ beneficiaryId: "{id}", expectedVersion: 3,
                idempotencyKey: "unerase", occurredOn: "2011-01-11", eventId: {erasure} }}) {{ version }} }}"#),
            json!({}),
        )
        .await;
    assert_eq!(
        void["errors"][0]["extensions"]["reason"], "NOT_CORRECTABLE",
        "{void}"
    );
    let still = sara.ok("beneficiary", read, json!({ "id": id })).await;
    assert_eq!(still["erased"], true);

    // The erasure is in the access log.
    let admin = Client::sign_in(server, "admin@example.org").await;
    let log = admin
        .ok(
            "accessLog",
            "{ accessLog(first: 100) { action beneficiaryId } }",
            json!({}),
        )
        .await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "ERASE_PERSONAL_DATA" && e["beneficiaryId"] == id.as_str()),
        "{log}"
    );
    id
}

/// Asserts that `bytes` hold none of the secrets, and the case code (which is no personal data
/// and lives in events) to show the search works.
fn assert_shredded(what: &str, bytes: &[u8]) {
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(
        contains("AL-PRIV-1"),
        "{what}: the search finds what is there"
    );
    for secret in SECRETS {
        assert!(!contains(secret), "{what} contains {secret:?}");
    }
}

/// The person's wrapped data key and sealed entry as the vault stores them.
async fn vault_rows<'c, E>(connection: E, id: &str, placeholder: &str) -> Vec<Vec<u8>>
where
    E: sqlx::Executor<'c> + Copy,
    E::Database: sqlx::Database,
    for<'q> <E::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, E::Database>,
    for<'q> uuid::Uuid: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, E::Database> + sqlx::Type<E::Database>,
    usize: sqlx::ColumnIndex<<E::Database as sqlx::Database>::Row>,
{
    let id = uuid::Uuid::parse_str(id).unwrap();
    let mut rows = Vec::new();
    for sql in [
        "SELECT wrapped_key FROM vault_keys WHERE beneficiary_id = ",
        "SELECT sealed FROM vault_entries WHERE beneficiary_id = ",
    ] {
        let row: Vec<u8> = sqlx::query_scalar(&format!("{sql}{placeholder}"))
            .bind(id)
            .fetch_one(connection)
            .await
            .unwrap();
        rows.push(row);
    }
    rows
}

/// Asserts that none of `rows` is anywhere in `bytes`.
fn assert_gone(what: &str, bytes: &[u8], rows: &[Vec<u8>]) {
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert!(row.len() >= 40, "a wrapped key or a sealed entry");
        // Any 32 bytes of it: enough to find a copy, even a partial one.
        let probe = &row[row.len() - 32..];
        assert!(
            !bytes.windows(probe.len()).any(|w| w == probe),
            "{what} still hold a copy of the erased person's vault row"
        );
    }
}

/// Every file of the SQLite store, as it is on disk now.
fn sqlite_files(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir.join("data")).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("roadback.db")
        {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

#[tokio::test]
async fn the_files_of_a_running_sqlite_server_hold_nothing_of_an_erased_record() {
    let dir = tempfile::tempdir().unwrap();
    provision(dir.path(), &[]);
    let server = Server::start(dir.path(), &[]).await;
    let file = dir.path().join("data/roadback.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", file.display()))
        .await
        .unwrap();
    let mut rows = Vec::new();
    register_then_erase(&server, async |id: &str| {
        rows = vault_rows(&pool, id, "?1").await;
        // Before the erasure the copies are there to find (in the log or the file).
        let files = sqlite_files(dir.path());
        let probe = &rows[0][rows[0].len() - 32..];
        assert!(
            files.windows(32).any(|w| w == probe),
            "the search finds what is there"
        );
    })
    .await;
    pool.close().await;
    // The server still runs: its files, the write-ahead log included, hold no copy of the
    // wrapped key or the sealed entry, so `master.key` beside them opens nothing.
    assert_gone("the SQLite files", &sqlite_files(dir.path()), &rows);
    assert!(server.terminate().success());
}

#[tokio::test]
async fn the_vault_files_of_postgresql_hold_nothing_of_an_erased_record() {
    let db = TestDatabase::postgres().await;
    let url = db.postgres_url().unwrap().to_string();
    let env = [("DATABASE_URL", url.as_str())];
    let dir = tempfile::tempdir().unwrap();
    provision(dir.path(), &env);
    let server = Server::start(dir.path(), &env).await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let mut rows = Vec::new();
    register_then_erase(&server, async |id: &str| {
        rows = vault_rows(&pool, id, "$1").await;
    })
    .await;
    // The tables' files as PostgreSQL has them after a checkpoint: no dead copy of the rows.
    sqlx::query("CHECKPOINT").execute(&pool).await.unwrap();
    let data: String = sqlx::query_scalar("SELECT current_setting('data_directory')")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut files = Vec::new();
    for table in ["vault_keys", "vault_entries"] {
        let relative: String = sqlx::query_scalar("SELECT pg_relation_filepath($1)")
            .bind(table)
            .fetch_one(&pool)
            .await
            .unwrap();
        let path = Path::new(&data).join(relative);
        files.extend(std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the test needs the server's files on this machine)",
                path.display()
            )
        }));
    }
    pool.close().await;
    assert_gone("the vault tables' files", &files, &rows);
    assert!(server.terminate().success());
}

#[tokio::test]
async fn erasure_leaves_nothing_in_the_sqlite_files() {
    let dir = tempfile::tempdir().unwrap();
    provision(dir.path(), &[]);
    let server = Server::start(dir.path(), &[]).await;
    register_then_erase(&server, async |_| {}).await;
    assert!(server.terminate().success());
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir.path().join("data")).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("roadback.db")
        {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    assert_shredded("the SQLite files", &all);
}

fn pg_dump() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(|d| d.ok())
                .map(|d| d.path().join("bin/pg_dump"))
                .filter(|p| p.exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().unwrap_or_else(|| PathBuf::from("pg_dump"))
}

#[tokio::test]
async fn erasure_leaves_nothing_in_a_postgresql_dump() {
    let db = TestDatabase::postgres().await;
    let url = db.postgres_url().unwrap().to_string();
    let env = [("DATABASE_URL", url.as_str())];
    let dir = tempfile::tempdir().unwrap();
    provision(dir.path(), &env);
    let server = Server::start(dir.path(), &env).await;
    register_then_erase(&server, async |_| {}).await;
    assert!(server.terminate().success());
    let dump = std::process::Command::new(pg_dump())
        .arg("--dbname")
        .arg(&url)
        .current_dir(Path::new("/"))
        .output()
        .unwrap();
    assert!(
        dump.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    assert_shredded("the pg_dump", &dump.stdout);
}

#[tokio::test]
async fn production_refuses_to_start_without_a_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = roadback_e2e::roadback(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("ROADBACK_ENV", "production")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("production needs a master key"), "{stderr}");
    assert!(
        !dir.path().join("data/master.key").exists(),
        "no key was made up"
    );
}

#[tokio::test]
async fn keys_rotate_without_stopping_and_the_old_key_is_then_useless() {
    let dir = tempfile::tempdir().unwrap();
    let cli = |env: &[(&str, &str)], args: &[&str]| crate::graphql::cli(dir.path(), env, args);
    let old = cli(&[], &["keys", "generate"]);
    let new = cli(&[], &["keys", "generate"]);
    assert_eq!(old.len(), 64);
    let with_old = [("ROADBACK_MASTER_KEY", old.as_str())];
    provision(dir.path(), &with_old);
    let server = Server::start(dir.path(), &with_old).await;
    let ana = Client::sign_in(&server, "ana@example.org").await;
    let id = ana.ok("registerBeneficiary", REGISTER, json!({})).await["beneficiaryId"]
        .as_str()
        .unwrap()
        .to_string();

    // The rotation runs beside the server.
    let both = [
        ("ROADBACK_MASTER_KEY", new.as_str()),
        ("ROADBACK_PREVIOUS_MASTER_KEYS", old.as_str()),
    ];
    assert_eq!(
        cli(&both, &["keys", "rotate"])
            .lines()
            .next()
            .unwrap()
            .split(' ')
            .nth(1),
        Some("1")
    );
    assert!(server.terminate().success());

    let read = r#"query($id: UUID!) { beneficiary(id: $id) { personalData { givenName } } }"#;
    let with_new = Server::start(dir.path(), &[("ROADBACK_MASTER_KEY", new.as_str())]).await;
    let ana = Client::sign_in(&with_new, "ana@example.org").await;
    let data = ana.ok("beneficiary", read, json!({ "id": id })).await;
    assert_eq!(data["personalData"]["givenName"], "Zyrafete");
    assert!(with_new.terminate().success());

    // The old key opens nothing: a server with only the old key does not even start.
    let stderr = refused_start(dir.path(), &old).await;
    let new_id = roadback_store::vault::MasterKey::from_hex(&new).unwrap();
    assert!(stderr.contains(new_id.id()), "{stderr}");
}

/// Starts `roadback serve` with `key` as its only master key, expecting it to refuse; its
/// error output.
async fn refused_start(dir: &Path, key: &str) -> String {
    let mut child = roadback_e2e::roadback(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("ROADBACK_MASTER_KEY", key)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the server started without the key of the stored data");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    stderr
}

#[tokio::test]
async fn a_server_without_the_master_key_of_stored_data_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    provision(dir.path(), &[]);
    let server = Server::start(dir.path(), &[]).await;
    let ana = Client::sign_in(&server, "ana@example.org").await;
    ana.ok("registerBeneficiary", REGISTER, json!({})).await;
    assert!(server.terminate().success());
    let first = std::fs::read_to_string(dir.path().join("data/master.key")).unwrap();
    let first = roadback_store::vault::MasterKey::from_hex(first.trim()).unwrap();

    // Another server with another key (say, a second development instance that made up its
    // own) must not start and split the vault.
    let other = roadback_store::vault::MasterKey::generate();
    let stderr = refused_start(dir.path(), &other.to_hex()).await;
    assert!(
        stderr.contains(first.id()) && stderr.contains("does not have"),
        "{stderr}"
    );
}

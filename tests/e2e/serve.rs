//! `roadback serve` and `roadback migrate` on a fresh machine: SQLite by default, PostgreSQL with DATABASE_URL.

use roadback_e2e::{Server, roadback};
use roadback_store::testing::TestDatabase;
use sqlx::Connection;

async fn pg_tables(url: &str) -> Vec<String> {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn serve_on_a_clean_directory_starts_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]).await;

    let (status, body) = server.get_json("/healthz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = server.get_json("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["store"], "sqlite");
    assert!(
        dir.path().join("data/roadback.db").exists(),
        "the database was created in ./data"
    );

    let response = server
        .http
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers().contains_key("x-request-id"),
        "every response carries a request id"
    );

    let status = server.terminate();
    assert!(
        status.success(),
        "graceful shutdown on SIGTERM exits cleanly: {status}"
    );
}

#[tokio::test]
async fn serve_with_database_url_uses_postgresql() {
    let db = TestDatabase::postgres().await;
    let url = db.postgres_url().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("DATABASE_URL", &url)]).await;

    let (status, body) = server.get_json("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["store"], "postgres");
    assert!(pg_tables(&url).await.contains(&"events".to_string()));
    assert!(
        !dir.path().join("data/roadback.db").exists(),
        "no SQLite file when PostgreSQL is configured"
    );
    assert!(server.terminate().success());
}

#[tokio::test]
async fn readiness_fails_clearly_when_postgresql_goes_away() {
    let db = TestDatabase::postgres().await;
    let url = db.postgres_url().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let token = crate::graphql::provision(dir.path(), &[("DATABASE_URL", &url)]);
    let server = Server::start(dir.path(), &[("DATABASE_URL", &url)]).await;
    assert_eq!(server.get_json("/readyz").await.0, 200);

    drop(db); // drops the database, closing the server's connections
    let (status, body) = server.get_json("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert!(
        body["message"].as_str().unwrap().contains("not available"),
        "{body}"
    );
    // Liveness is unaffected: the process itself is fine.
    assert_eq!(server.get_json("/healthz").await.0, 200);
    // The API tells an outage as an outage: 503, UNAVAILABLE, retry later; not "your token is
    // not valid", not INTERNAL.
    let response = server
        .http
        .post(format!("{}/graphql", server.url))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(r#"{"query":"{ me { user { id } } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{body}"
    );
}

#[tokio::test]
async fn migrate_prepares_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let status = roadback(dir.path())
        .args(["migrate", "--data-dir", "store"])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(dir.path().join("store/roadback.db").exists());

    let db = TestDatabase::postgres().await;
    let url = db.postgres_url().unwrap();
    let status = roadback(dir.path())
        .arg("migrate")
        .env("DATABASE_URL", url)
        .status()
        .unwrap();
    assert!(status.success());
    let tables = pg_tables(url).await;
    for table in ["checkpoints", "events", "head"] {
        assert!(tables.contains(&table.to_string()), "{table} in {tables:?}");
    }
}

#[tokio::test]
async fn a_bad_configuration_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = roadback(dir.path())
        .args(["serve", "--listen", "not-an-address"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--listen"));

    let output = roadback(dir.path())
        .args(["migrate", "--db-timeout", "1"])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot open the event store on PostgreSQL")
            && stderr.contains("Connection refused"),
        "the cause, not a pool timing out: {stderr}"
    );

    let output = roadback(dir.path())
        .args(["migrate"])
        .env("DATABASE_URL", "postgres//nobody@127.0.0.1/none")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not a PostgreSQL URL") && !stderr.contains("try again"),
        "{stderr}"
    );
}

#[tokio::test]
async fn cli_commands_on_a_postgresql_database_without_roadback_create_nothing() {
    let db = TestDatabase::postgres().await;
    let url = db.postgres_url().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let output = roadback(dir.path())
        .args([
            "token",
            "issue",
            "--email",
            "nrm@example.org",
            "--name",
            "sync",
        ])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("there is no Roadback store on PostgreSQL"),
        "{stderr}"
    );
    assert!(pg_tables(&url).await.is_empty(), "no tables made");
}

#[tokio::test]
async fn a_locked_sqlite_file_is_told_at_start_and_by_readiness() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]).await;
    assert_eq!(server.get_json("/readyz").await.0, 200);
    // Another program takes the write lock: reads still work, writes would not.
    let file = dir.path().join("data/roadback.db");
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut other)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let (status, body) = server.get_json("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("locked"),
        "{body}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // A second server on the same file is refused at start, saying why.
    let output = roadback(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot take writes") && stderr.contains("locked"),
        "{stderr}"
    );
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    assert_eq!(server.get_json("/readyz").await.0, 200);
    assert!(server.terminate().success());
}

#[tokio::test]
async fn cli_commands_but_serve_migrate_and_demo_load_never_create_a_store() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &[
            "token",
            "issue",
            "--email",
            "nrm@example.org",
            "--name",
            "sync",
            "--scopes",
            "read",
        ][..],
        &[
            "user",
            "create",
            "--organisation",
            "Atina",
            "--email",
            "a@example.org",
            "--name",
            "A",
            "--role",
            "caseworker",
        ],
        &[
            "organisation",
            "create",
            "--name",
            "Atina",
            "--country",
            "RS",
        ],
        &["rebuild"],
    ] {
        let output = roadback(dir.path()).args(args).output().unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("there is no Roadback store on SQLite at")
                && stderr.contains("roadback.db"),
            "{args:?}: {stderr}"
        );
        assert!(
            !dir.path().join("data/roadback.db").exists(),
            "{args:?} made a store"
        );
    }
}

#[tokio::test]
async fn a_half_sent_request_does_not_keep_the_server_alive_after_sigterm() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]).await;
    let address = server.url.trim_start_matches("http://").to_string();
    // Headers begun and never finished, on a few connections.
    let mut stuck = Vec::new();
    for _ in 0..3 {
        let mut connection = tokio::net::TcpStream::connect(&address).await.unwrap();
        connection
            .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")
            .await
            .unwrap();
        stuck.push(connection);
    }
    let started = std::time::Instant::now();
    // `terminate` fails the test if the server is still running 20 s after SIGTERM.
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    drop(stuck);
}

#[tokio::test]
async fn the_web_client_is_served_compressed_with_cache_headers_under_the_csp() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("bundle");
    std::fs::create_dir_all(web.join("assets")).unwrap();
    std::fs::write(
        web.join("index.html"),
        "<!doctype html><title>Roadback</title>",
    )
    .unwrap();
    std::fs::write(web.join("assets/app-1a2b3c.js"), "console.log('roadback')").unwrap();
    std::fs::write(web.join("assets/app-1a2b3c.js.br"), b"brotli bytes").unwrap();
    let server = Server::start(dir.path(), &[("ROADBACK_WEB_DIR", web.to_str().unwrap())]).await;
    let get = |path: &str, encoding: &str| {
        server
            .http
            .get(format!("{}{path}", server.url))
            .header("accept-encoding", encoding)
            .send()
    };

    // The page, at its own address and at any of the client's routes: revalidated each time.
    for path in [
        "/",
        "/cases/0b7e0f2c-4d2a-4c55-9b1e-8f7f8f3f1a00",
        "/graphiql",
    ] {
        let page = get(path, "identity").await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(page.headers()["cache-control"], "no-cache", "{path}");
        assert!(
            page.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .starts_with("default-src 'self'"),
            "{path}"
        );
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("<title>Roadback</title>")
        );
    }
    // A hashed asset: kept a year, sent in the encoding the browser takes.
    let asset = get("/assets/app-1a2b3c.js", "br, gzip").await.unwrap();
    assert_eq!(asset.status(), 200);
    assert_eq!(asset.headers()["content-encoding"], "br");
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(asset.bytes().await.unwrap().as_ref(), b"brotli bytes");
    let plain = get("/assets/app-1a2b3c.js", "identity").await.unwrap();
    assert_eq!(plain.text().await.unwrap(), "console.log('roadback')");
    // A missing asset is missing, not the page.
    assert_eq!(get("/assets/gone.js", "br").await.unwrap().status(), 404);
    // The API is still the API.
    assert_eq!(server.get_json("/healthz").await.0, 200);
    assert!(server.terminate().success());
}

#[tokio::test]
async fn without_a_built_client_the_root_says_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("ROADBACK_WEB_DIR", "no-such-dir")]).await;
    let page = server.http.get(&server.url).send().await.unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("scripts/run"));
    assert!(server.terminate().success());
}

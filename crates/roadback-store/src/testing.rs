//! Throwaway stores for tests: a fresh PostgreSQL database or SQLite file per test.
//!
//! PostgreSQL tests need `ROADBACK_TEST_PG`, a URL of a server where databases may be created
//! (the test command, `scripts/test`, starts a throwaway cluster and sets it).

use std::path::PathBuf;

use uuid::Uuid;

use crate::{EventStore, StoreConfig, StoreLocation};

/// The environment variable naming the PostgreSQL server for tests.
pub const TEST_PG_ENV: &str = "ROADBACK_TEST_PG";

/// A database created for one test and dropped afterwards.
pub struct TestDatabase {
    /// The connection URL of the test's own database or file.
    pub location: StoreLocation,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A new empty PostgreSQL database on the test server.
    pub async fn postgres() -> Self {
        let admin_url = std::env::var(TEST_PG_ENV).unwrap_or_else(|_| {
            panic!("PostgreSQL tests need {TEST_PG_ENV}=<server url>; run them with scripts/test, which starts a throwaway server")
        });
        let name = format!("roadback_test_{}", Uuid::new_v4().simple());
        let mut admin = sqlx_connect(&admin_url).await;
        sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        let url = with_database(&admin_url, &name);
        Self {
            location: StoreLocation::Postgres(url),
            admin_url: Some(admin_url),
            name,
            _dir: None,
        }
    }

    /// A new SQLite file in a temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path: PathBuf = dir.path().join("roadback.db");
        Self {
            location: StoreLocation::Sqlite(path),
            admin_url: None,
            name: String::new(),
            _dir: Some(dir),
        }
    }

    /// Opens the event store on this database.
    pub async fn open(&self) -> EventStore {
        EventStore::open(&StoreConfig::new(self.location.clone()))
            .await
            .expect("open test store")
    }

    /// The PostgreSQL URL of this database (None for SQLite).
    pub fn postgres_url(&self) -> Option<&str> {
        match &self.location {
            StoreLocation::Postgres(url) => Some(url),
            StoreLocation::Sqlite(_) => None,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(admin_url) = self.admin_url.clone() else {
            return;
        };
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop runs inside the test's runtime, which cannot be blocked on; use a runtime of our own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = sqlx_connect(&admin_url).await;
                sqlx::Executor::execute(&mut admin, sql.as_str()).await.ok()
            })
        })
        .join();
    }
}

async fn sqlx_connect(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server at {url}: {e}"))
}

/// Replaces the database name in a PostgreSQL URL (`postgres://user@host:port/db?params`).
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let authority = &base[..path_start.unwrap_or(base.len())];
    match query {
        Some(q) => format!("{authority}/{database}?{q}"),
        None => format!("{authority}/{database}"),
    }
}

/// Appends a history (from `roadback_domain::testing::play`) event by event, each with its
/// expected version, as the API would; the context's organisation is `organisation`.
pub async fn append_history(
    store: &EventStore,
    entries: &[roadback_domain::projection::Envelope],
    organisation: Uuid,
) -> Result<(), crate::StoreError> {
    for e in entries {
        let context = crate::EventContext {
            actor: e.actor,
            organisation,
            correlation_id: e.id,
        };
        let event = crate::records::new_event(e.id, &e.event, e.occurred_on, context)?;
        store
            .append(
                &crate::records::beneficiary_stream(e.beneficiary)?,
                crate::ExpectedVersion::Exact(e.version - 1),
                vec![event],
            )
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://u@h:5/postgres", "x"),
            "postgres://u@h:5/x"
        );
        assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
        assert_eq!(
            with_database("postgres://u@localhost/postgres?host=/tmp/d", "x"),
            "postgres://u@localhost/x?host=/tmp/d"
        );
    }
}

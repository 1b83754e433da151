//! The directory: organisations, users, sessions, API tokens, failed sign-ins and the access
//! log. Secrets arrive here already hashed (the API layer hashes passwords with argon2id and
//! session and token secrets with SHA-256).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Utc};
use roadback_domain::access::{Role, Scope};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use crate::EventStore;
use crate::error::StoreError;
use crate::sql::on_pool;

/// An organisation using Roadback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organisation {
    /// Its id.
    pub id: Uuid,
    /// Its name, unique.
    pub name: String,
    /// Its country (ISO 3166-1 alpha-2).
    pub country: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// A user of an organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Their id.
    pub id: Uuid,
    /// Their organisation.
    pub organisation: Uuid,
    /// Their e-mail address (stored in lower case), unique.
    pub email: String,
    /// The name shown to colleagues.
    pub display_name: String,
    /// Their role.
    pub role: Role,
    /// False once deactivated: no sign-in, no token use.
    pub active: bool,
    /// When they were added.
    pub created_at: DateTime<Utc>,
}

/// How long a token's lookup is kept: a token revoked through this server is refused at once;
/// revoked on another instance, within this time.
pub const TOKEN_LOOKUP_KEPT: StdDuration = StdDuration::from_secs(1);
/// Most token lookups kept (past it, the cache starts again).
const TOKEN_LOOKUPS_KEPT: usize = 10_000;

/// Tokens found lately, by hash, with when each was read: every request with a token looks it
/// up, and an integrator sends many at once. Only tokens that were found are kept.
#[derive(Debug, Default)]
pub(crate) struct TokenLookups(Mutex<HashMap<String, (User, ApiToken, Instant)>>);

impl TokenLookups {
    fn get(&self, hash: &str, now: DateTime<Utc>) -> Option<(User, ApiToken)> {
        let lookups = self.0.lock().ok()?;
        let (user, token, read) = lookups.get(hash)?;
        (read.elapsed() < TOKEN_LOOKUP_KEPT && token.expires_at.is_none_or(|at| at > now))
            .then(|| (user.clone(), token.clone()))
    }

    fn keep(&self, hash: &str, user: &User, token: &ApiToken) {
        if let Ok(mut lookups) = self.0.lock() {
            if lookups.len() >= TOKEN_LOOKUPS_KEPT {
                lookups.clear();
            }
            lookups.insert(
                hash.to_string(),
                (user.clone(), token.clone(), Instant::now()),
            );
        }
    }

    fn forget_all(&self) {
        if let Ok(mut lookups) = self.0.lock() {
            lookups.clear();
        }
    }
}

/// An API token (its secret is never stored, only a hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    /// Its id.
    pub id: Uuid,
    /// The user it acts as.
    pub user: Uuid,
    /// A name for people ("referral mechanism sync").
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One line of the access log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessEntry {
    /// Its place in the log (increasing).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub user: Uuid,
    /// For which organisation.
    pub organisation: Uuid,
    /// Whose record, if one.
    pub beneficiary: Option<Uuid>,
    /// What: `read_record`, `export`...
    pub action: String,
    /// Why, as the user or client stated it.
    pub purpose: String,
}

const USER_COLUMNS: &str =
    "user_id, organisation_id, email, display_name, role, active, created_at";

fn user<R: Row>(row: &R) -> Result<User, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    Uuid: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    DateTime<Utc>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let role: String = row.try_get(4)?;
    Ok(User {
        id: row.try_get(0)?,
        organisation: row.try_get(1)?,
        email: row.try_get(2)?,
        display_name: row.try_get(3)?,
        role: Role::from_code(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?,
        active: row.try_get(5)?,
        created_at: row.try_get(6)?,
    })
}

fn scopes_code(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.code())
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_scopes(code: &str) -> Vec<Scope> {
    code.split_whitespace()
        .filter_map(Scope::from_code)
        .collect()
}

/// A unique-key violation becomes `AlreadyExists`; anything else stays a database error.
fn unique(error: sqlx::Error, what: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::AlreadyExists {
            what: what.to_string(),
        },
        _ => error.into(),
    }
}

/// Runs `INSERT ... VALUES (` + the bound values + `)` on a connection.
macro_rules! insert {
    ($conn:expr, $db:ty, $sql:expr, [$($value:expr),+ $(,)?]) => {{
        let mut q = QueryBuilder::<$db>::new($sql);
        {
            let mut values = q.separated(", ");
            $( values.push_bind($value); )+
        }
        q.push(")");
        q.build().execute($conn).await
    }};
}

/// `u.user_id, u.organisation_id, ...`: the user columns of a join.
fn user_columns_of_u() -> String {
    USER_COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn api_token<R: Row>(row: &R, first: usize, user: Uuid) -> Result<ApiToken, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    Uuid: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    DateTime<Utc>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<DateTime<Utc>>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let scopes: String = row.try_get(first + 2)?;
    Ok(ApiToken {
        id: row.try_get(first)?,
        user,
        name: row.try_get(first + 1)?,
        scopes: parse_scopes(&scopes),
        created_at: row.try_get(first + 3)?,
        expires_at: row.try_get(first + 4)?,
        revoked_at: row.try_get(first + 5)?,
    })
}

impl EventStore {
    /// Adds an organisation; its name must be new.
    pub async fn create_organisation(
        &self,
        name: &str,
        country: &str,
    ) -> Result<Organisation, StoreError> {
        self.create_organisation_with_id(Uuid::now_v7(), name, country)
            .await
    }

    /// Adds an organisation with a given id (the demo program's are fixed by its seed).
    pub async fn create_organisation_with_id(
        &self,
        id: Uuid,
        name: &str,
        country: &str,
    ) -> Result<Organisation, StoreError> {
        let organisation = Organisation {
            id,
            name: name.trim().to_string(),
            country: country.to_string(),
            created_at: Utc::now(),
        };
        on_pool!(self, Db, conn => {
            insert!(conn, Db, "INSERT INTO organisations (organisation_id, name, country, created_at) VALUES (",
                [organisation.id, organisation.name.clone(), organisation.country.clone(), organisation.created_at])
            .map_err(|e| unique(e, &format!("an organisation named {:?}", organisation.name)))?;
        });
        Ok(organisation)
    }

    /// Every organisation, by name.
    pub async fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        let rows: Vec<(Uuid, String, String, DateTime<Utc>)> = on_pool!(self, Db, conn => {
            sqlx::query_as("SELECT organisation_id, name, country, created_at FROM organisations ORDER BY name")
                .fetch_all(conn)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, name, country, created_at)| Organisation {
                id,
                name,
                country,
                created_at,
            })
            .collect())
    }

    /// Adds a user; the e-mail address (compared in lower case) must be new.
    pub async fn create_user(
        &self,
        organisation: Uuid,
        email: &str,
        display_name: &str,
        role: Role,
        password_hash: Option<&str>,
    ) -> Result<User, StoreError> {
        self.create_user_with_id(
            Uuid::now_v7(),
            organisation,
            email,
            display_name,
            role,
            password_hash,
        )
        .await
    }

    /// Adds a user with a given id (the demo program's caseworkers are fixed by its seed).
    pub async fn create_user_with_id(
        &self,
        id: Uuid,
        organisation: Uuid,
        email: &str,
        display_name: &str,
        role: Role,
        password_hash: Option<&str>,
    ) -> Result<User, StoreError> {
        let user = User {
            id,
            organisation,
            email: email.trim().to_lowercase(),
            display_name: display_name.trim().to_string(),
            role,
            active: true,
            created_at: Utc::now(),
        };
        on_pool!(self, Db, conn => {
            insert!(conn, Db,
                "INSERT INTO users (user_id, organisation_id, email, display_name, role, password_hash, active, created_at) VALUES (",
                [user.id, user.organisation, user.email.clone(), user.display_name.clone(), role.code(),
                 password_hash.map(str::to_string), user.active, user.created_at])
            .map_err(|e| unique(e, &format!("a user with the e-mail address {}", user.email)))?;
        });
        Ok(user)
    }

    /// The users of an organisation, by name.
    pub async fn users(&self, organisation: Uuid) -> Result<Vec<User>, StoreError> {
        on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(format!("SELECT {USER_COLUMNS} FROM users WHERE organisation_id = "));
            q.push_bind(organisation).push(" ORDER BY display_name, user_id");
            q.build().fetch_all(conn).await?.iter().map(user).collect()
        })
    }

    /// The users with these ids (unknown ones skipped).
    pub async fn users_by_ids(&self, ids: &[Uuid]) -> Result<Vec<User>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let users: Vec<User> = on_pool!(self, Db, conn => {
                let mut q = QueryBuilder::<Db>::new(format!("SELECT {USER_COLUMNS} FROM users WHERE user_id IN ("));
                {
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                }
                q.push(")");
                q.build().fetch_all(conn).await?.iter().map(user).collect::<Result<_, _>>()?
            });
            found.extend(users);
        }
        Ok(found)
    }

    /// A user and their password hash, by e-mail address (any case).
    pub async fn user_credentials(
        &self,
        email: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError> {
        on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = "));
            q.push_bind(email.trim().to_lowercase());
            match q.build().fetch_optional(conn).await? {
                Some(row) => Ok(Some((user(&row)?, row.try_get(7)?))),
                None => Ok(None),
            }
        })
    }

    /// Starts a session for a user, known by the hash of its secret.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, Db, conn => {
            insert!(conn, Db, "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (",
                [token_hash.to_string(), user, Utc::now(), expires_at])?;
        });
        Ok(())
    }

    /// The active user of a session that has not expired at `now`.
    pub async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(format!(
                "SELECT {} FROM sessions s JOIN users u ON u.user_id = s.user_id WHERE u.active AND s.token_hash = ",
                user_columns_of_u()
            ));
            q.push_bind(token_hash.to_string()).push(" AND s.expires_at > ").push_bind(now);
            q.build().fetch_optional(conn).await?.as_ref().map(user).transpose()
        })
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new("DELETE FROM sessions WHERE token_hash = ");
            q.push_bind(token_hash.to_string());
            q.build().execute(conn).await?;
        });
        Ok(())
    }

    /// Issues an API token for a user, known by the hash of its secret.
    pub async fn create_api_token(
        &self,
        user: Uuid,
        name: &str,
        scopes: &[Scope],
        token_hash: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ApiToken, StoreError> {
        let token = ApiToken {
            id: Uuid::now_v7(),
            user,
            name: name.trim().to_string(),
            scopes: scopes.to_vec(),
            created_at: Utc::now(),
            expires_at,
            revoked_at: None,
        };
        on_pool!(self, Db, conn => {
            insert!(conn, Db,
                "INSERT INTO api_tokens (token_id, token_hash, user_id, name, scopes, created_at, expires_at) VALUES (",
                [token.id, token_hash.to_string(), user, token.name.clone(), scopes_code(scopes), token.created_at, expires_at])?;
        });
        Ok(token)
    }

    /// The active user and the token of a secret's hash, unless revoked or expired at `now`
    /// (a token found is kept for [`TOKEN_LOOKUP_KEPT`]).
    pub async fn api_token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(User, ApiToken)>, StoreError> {
        if let Some(found) = self.inner.tokens.get(token_hash, now) {
            return Ok(Some(found));
        }
        on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(format!(
                "SELECT {}, t.token_id, t.name, t.scopes, t.created_at, t.expires_at, t.revoked_at FROM api_tokens t \
                 JOIN users u ON u.user_id = t.user_id WHERE u.active AND t.revoked_at IS NULL AND t.token_hash = ",
                user_columns_of_u()
            ));
            q.push_bind(token_hash.to_string())
                .push(" AND (t.expires_at IS NULL OR t.expires_at > ")
                .push_bind(now)
                .push(")");
            match q.build().fetch_optional(conn).await? {
                None => Ok(None),
                Some(row) => {
                    let user = user(&row)?;
                    let token = api_token(&row, 7, user.id)?;
                    self.inner.tokens.keep(token_hash, &user, &token);
                    Ok(Some((user, token)))
                }
            }
        })
    }

    /// The tokens of an organisation's users, newest first.
    pub async fn api_tokens(&self, organisation: Uuid) -> Result<Vec<ApiToken>, StoreError> {
        on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(
                "SELECT t.user_id, t.token_id, t.name, t.scopes, t.created_at, t.expires_at, t.revoked_at \
                 FROM api_tokens t JOIN users u ON u.user_id = t.user_id WHERE u.organisation_id = ",
            );
            q.push_bind(organisation).push(" ORDER BY t.created_at DESC");
            q.build()
                .fetch_all(conn)
                .await?
                .iter()
                .map(|row| api_token(row, 1, row.try_get(0)?))
                .collect()
        })
    }

    /// Revokes a token of an organisation (refused by this instance at once, by others within
    /// [`TOKEN_LOOKUP_KEPT`]); false when it has no such (unrevoked) token.
    pub async fn revoke_api_token(
        &self,
        organisation: Uuid,
        token: Uuid,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new("UPDATE api_tokens SET revoked_at = ");
            q.push_bind(Utc::now())
                .push(" WHERE revoked_at IS NULL AND token_id = ")
                .push_bind(token)
                .push(" AND user_id IN (SELECT user_id FROM users WHERE organisation_id = ")
                .push_bind(organisation)
                .push(")");
            q.build().execute(conn).await?.rows_affected()
        });
        self.inner.tokens.forget_all();
        Ok(done == 1)
    }

    /// Notes a failed sign-in for an address.
    pub async fn record_sign_in_failure(
        &self,
        email: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, Db, conn => {
            insert!(conn, Db, "INSERT INTO sign_in_failures (email, at) VALUES (",
                [email.trim().to_lowercase(), at])?;
        });
        Ok(())
    }

    /// Failed sign-ins for an address since a moment.
    pub async fn sign_in_failures_since(
        &self,
        email: &str,
        since: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let count: i64 = on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new("SELECT count(*) FROM sign_in_failures WHERE email = ");
            q.push_bind(email.trim().to_lowercase()).push(" AND at > ").push_bind(since);
            q.build_query_scalar().fetch_one(conn).await?
        });
        Ok(count as u64)
    }

    /// Forgets the failed sign-ins of an address (after a successful one).
    pub async fn clear_sign_in_failures(&self, email: &str) -> Result<(), StoreError> {
        on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new("DELETE FROM sign_in_failures WHERE email = ");
            q.push_bind(email.trim().to_lowercase());
            q.build().execute(conn).await?;
        });
        Ok(())
    }

    /// Appends to the access log; returns once the entry is committed (with the entries of
    /// other requests waiting at the same moment, see `access_log.rs`).
    pub async fn log_access(
        &self,
        user: Uuid,
        organisation: Uuid,
        beneficiary: Option<Uuid>,
        action: &str,
        purpose: &str,
    ) -> Result<(), StoreError> {
        self.inner
            .access
            .write(crate::access_log::AccessRow {
                at: Utc::now(),
                user,
                organisation,
                beneficiary,
                action: action.to_string(),
                purpose: purpose.to_string(),
            })
            .await
    }

    /// An organisation's access log, newest first, before entry `before` (all when `None`),
    /// optionally for one beneficiary.
    pub async fn access_log(
        &self,
        organisation: Uuid,
        beneficiary: Option<Uuid>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AccessEntry>, StoreError> {
        on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(
                "SELECT entry_id, at, user_id, organisation_id, beneficiary_id, action, purpose FROM access_log WHERE organisation_id = ",
            );
            q.push_bind(organisation);
            if let Some(b) = beneficiary {
                q.push(" AND beneficiary_id = ").push_bind(b);
            }
            if let Some(before) = before {
                q.push(" AND entry_id < ").push_bind(before);
            }
            q.push(" ORDER BY entry_id DESC LIMIT ").push_bind(limit as i64);
            q.build()
                .fetch_all(conn)
                .await?
                .iter()
                .map(|row| {
                    Ok(AccessEntry {
                        id: row.try_get(0)?,
                        at: row.try_get(1)?,
                        user: row.try_get(2)?,
                        organisation: row.try_get(3)?,
                        beneficiary: row.try_get(4)?,
                        action: row.try_get(5)?,
                        purpose: row.try_get(6)?,
                    })
                })
                .collect()
        })
    }
}

/// A data lock: a named evaluation result at fixed cut-offs, with the query that made it and
/// its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvaluationLock {
    /// Its name, unique in the deployment.
    pub name: String,
    /// The organisation of who made it (who may read it).
    pub organisation: Uuid,
    /// Who made it.
    pub created_by: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The valid-time cut-off.
    pub valid_on: chrono::NaiveDate,
    /// The recorded-time cut-off.
    pub recorded_at: DateTime<Utc>,
    /// The selection of `evaluation` it answers (GraphQL).
    pub selection: String,
    /// The result (canonical JSON).
    pub result: String,
    /// SHA-256 of the result, hexadecimal.
    pub digest: String,
}

type LockRow = (
    String,
    Uuid,
    Uuid,
    DateTime<Utc>,
    chrono::NaiveDate,
    DateTime<Utc>,
    String,
    String,
    String,
);

const LOCK_COLUMNS: &str = "name, organisation_id, created_by, created_at, valid_on, recorded_at, selection, result, digest";

fn lock_of(row: LockRow) -> EvaluationLock {
    let (
        name,
        organisation,
        created_by,
        created_at,
        valid_on,
        recorded_at,
        selection,
        result,
        digest,
    ) = row;
    EvaluationLock {
        name,
        organisation,
        created_by,
        created_at,
        valid_on,
        recorded_at,
        selection,
        result,
        digest,
    }
}

impl EventStore {
    /// Stores a data lock; `AlreadyExists` when the name is taken.
    pub async fn create_evaluation_lock(&self, lock: &EvaluationLock) -> Result<(), StoreError> {
        on_pool!(self, Db, conn => {
            insert!(conn, Db, &format!("INSERT INTO evaluation_locks ({LOCK_COLUMNS}) VALUES ("),
                [lock.name.clone(), lock.organisation, lock.created_by, lock.created_at, lock.valid_on,
                 lock.recorded_at, lock.selection.clone(), lock.result.clone(), lock.digest.clone()])
            .map_err(|e| unique(e, &format!("a data lock named {:?}", lock.name)))?;
        });
        Ok(())
    }

    /// A data lock of an organisation, by name.
    pub async fn evaluation_lock(
        &self,
        organisation: Uuid,
        name: &str,
    ) -> Result<Option<EvaluationLock>, StoreError> {
        let row: Option<LockRow> = on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(format!("SELECT {LOCK_COLUMNS} FROM evaluation_locks WHERE name = "));
            q.push_bind(name.to_string()).push(" AND organisation_id = ").push_bind(organisation);
            q.build_query_as().fetch_optional(conn).await?
        });
        Ok(row.map(lock_of))
    }

    /// An organisation's data locks, newest first.
    pub async fn evaluation_locks(
        &self,
        organisation: Uuid,
    ) -> Result<Vec<EvaluationLock>, StoreError> {
        let rows: Vec<LockRow> = on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(format!("SELECT {LOCK_COLUMNS} FROM evaluation_locks WHERE organisation_id = "));
            q.push_bind(organisation).push(" ORDER BY created_at DESC, name");
            q.build_query_as().fetch_all(conn).await?
        });
        Ok(rows.into_iter().map(lock_of).collect())
    }
}

//! Credentials: argon2id password hashes, random session and token secrets (only their SHA-256
//! is stored), sign-in with throttling of failed attempts, and resolving a request's session
//! cookie or bearer token to a principal.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use roadback_domain::access::{Principal, Role, Scope};
use roadback_store::EventStore;
use roadback_store::directory::{ApiToken, User};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "roadback_session";
/// The prefix of API token secrets, so they are recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "rbk_";
/// Failed sign-ins per address within [`THROTTLE_WINDOW_MINUTES`] before sign-in is refused.
pub const MAX_FAILED_SIGN_INS: u64 = 5;
/// The window failed sign-ins are counted in.
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
/// Shortest password accepted.
pub const MIN_PASSWORD_LENGTH: usize = 12;

/// Hashes a password with argon2id (a fresh random salt, the crate's default cost).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(ApiError::invalid(
            "password",
            format!("a password needs at least {MIN_PASSWORD_LENGTH} characters"),
        ));
    }
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|e| ApiError::Internal(format!("cannot make a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("cannot hash the password: {e}")))
}

/// True when `password` matches the stored argon2 hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// `N` random bytes from the operating system (through UUID v4, which reads getrandom).
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(16) {
        let random = Uuid::new_v4().into_bytes();
        chunk.copy_from_slice(&random[..chunk.len()]);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random secret (64 hex characters, about 240 bits of randomness).
pub fn new_secret() -> String {
    hex(&random_bytes::<32>())
}

/// The SHA-256 of a text, hexadecimal (a stored secret, an export's or a lock's digest).
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// The SHA-256 of a secret, as stored.
pub fn secret_hash(secret: &str) -> String {
    sha256_hex(secret)
}

/// The principal of a signed-in user.
pub fn session_principal(user: &User) -> Principal {
    Principal {
        user: user.id,
        organisation: user.organisation,
        role: user.role,
        scopes: None,
    }
}

/// The principal of an API token.
pub fn token_principal(user: &User, token: &ApiToken) -> Principal {
    Principal {
        user: user.id,
        organisation: user.organisation,
        role: user.role,
        scopes: Some(token.scopes.clone()),
    }
}

/// Who a request acts for, with the user's record.
#[derive(Clone, Debug)]
pub struct Session {
    /// The principal the policy sees.
    pub principal: Principal,
    /// The user.
    pub user: User,
    /// How the caller proved who they are, when it can lapse (a cookie session, a token); None
    /// for callers made in-process (tests, the CLI).
    pub credential: Option<Credential>,
}

/// The hash of the secret a caller signed in with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// A session cookie's secret (sign-out deletes the session).
    Session(String),
    /// An API token's secret (revocation and expiry end it).
    Token(String),
}

impl Session {
    /// True while the caller's sign-in still holds: the session not ended or expired, the
    /// token not revoked or expired, the account active. Long-lived work (a subscription)
    /// asks this again before each delivery.
    pub async fn still_valid(&self, store: &EventStore) -> Result<bool, ApiError> {
        let now = Utc::now();
        Ok(match &self.credential {
            None => true,
            Some(Credential::Session(hash)) => store
                .session_user(hash, now)
                .await?
                .is_some_and(|user| user.id == self.user.id),
            Some(Credential::Token(hash)) => store
                .api_token_user(hash, now)
                .await?
                .is_some_and(|(user, _)| user.id == self.user.id),
        })
    }
}

/// Resolves a session cookie's secret.
pub async fn from_cookie(store: &EventStore, secret: &str) -> Result<Option<Session>, ApiError> {
    let hash = secret_hash(secret);
    Ok(store
        .session_user(&hash, Utc::now())
        .await?
        .map(|user| Session {
            principal: session_principal(&user),
            user,
            credential: Some(Credential::Session(hash)),
        }))
}

/// Resolves a bearer token.
pub async fn from_bearer(store: &EventStore, token: &str) -> Result<Option<Session>, ApiError> {
    let Some(secret) = token.strip_prefix(TOKEN_PREFIX) else {
        return Ok(None);
    };
    let hash = secret_hash(secret);
    Ok(store
        .api_token_user(&hash, Utc::now())
        .await?
        .map(|(user, token)| Session {
            principal: token_principal(&user, &token),
            user,
            credential: Some(Credential::Token(hash)),
        }))
}

/// Sign-in attempts one client address may make within [`THROTTLE_WINDOW_MINUTES`] minutes,
/// whatever the addresses it tries.
pub const MAX_SIGN_INS_PER_CLIENT: u64 = 100;

/// The network address a request came from (set by the HTTP server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);

/// Checks a password and opens a session; returns the user and the cookie's secret.
///
/// Every attempt is counted before it is checked, per e-mail address and per client address,
/// so a burst of concurrent attempts cannot slip past the count: after
/// [`MAX_FAILED_SIGN_INS`] failures for an address, or [`MAX_SIGN_INS_PER_CLIENT`] attempts from
/// a client, within [`THROTTLE_WINDOW_MINUTES`] minutes, sign-in is refused (`RATE_LIMITED`),
/// right password or not. A success clears its address's count. A wrong address, a wrong
/// password, an inactive account and one without a password get the same answer in the same
/// time.
pub async fn sign_in(
    store: &EventStore,
    email: &str,
    password: &str,
    session_hours: i64,
    client: Option<ClientAddress>,
) -> Result<(User, String, DateTime<Utc>), ApiError> {
    let now = Utc::now();
    let window = now - Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let client = client.map(|ClientAddress(ip)| format!("client:{ip}"));
    store.record_sign_in_failure(email, now).await?;
    if let Some(client) = &client {
        store.record_sign_in_failure(client, now).await?;
    }
    let too_many = store.sign_in_failures_since(email, window).await? > MAX_FAILED_SIGN_INS;
    let from_client = match &client {
        Some(client) => store.sign_in_failures_since(client, window).await?,
        None => 0,
    };
    if too_many || from_client > MAX_SIGN_INS_PER_CLIENT {
        return Err(ApiError::RateLimited(format!(
            "too many sign-in attempts; try again in {THROTTLE_WINDOW_MINUTES} minutes"
        )));
    }
    let credentials = store.user_credentials(email).await?;
    let user = match credentials {
        Some((user, Some(hash))) => {
            let right = verify_password(password, &hash);
            if !(right && user.active) {
                return Err(bad_credentials());
            }
            user
        }
        _ => {
            // As slow as a wrong password, so the answer time does not tell which addresses
            // exist or which accounts have a password.
            verify_password(password, dummy_hash());
            return Err(bad_credentials());
        }
    };
    store.clear_sign_in_failures(email).await?;
    if user.role == Role::Integrator {
        // Told only to whoever knows the password: the answer does not reveal roles.
        return Err(ApiError::Validation {
            message: "an integrator account acts through API tokens and does not sign in; ask an administrator for a token".into(),
            field: Some("email".into()),
            reason: Some("TOKENS_ONLY"),
            contradicts: None,
        });
    }
    let secret = new_secret();
    let expires = now + Duration::hours(session_hours);
    store
        .create_session(&secret_hash(&secret), user.id, expires)
        .await?;
    Ok((user, secret, expires))
}

fn bad_credentials() -> ApiError {
    ApiError::Validation {
        message: "the e-mail address or the password is wrong".into(),
        field: Some("password".into()),
        reason: Some("BAD_CREDENTIALS"),
        contradicts: None,
    }
}

/// A hash to verify against when the address is unknown.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no such user, no such password").unwrap_or_default())
}

/// The longest a token may live, in days.
pub const MAX_TOKEN_DAYS: u32 = 3_650;

/// Issues an API token; returns its record and the secret, shown once. It expires after
/// `expires_in_days` (1 to [`MAX_TOKEN_DAYS`]), or when revoked.
pub async fn issue_token(
    store: &EventStore,
    user: Uuid,
    name: &str,
    scopes: &[Scope],
    expires_in_days: Option<u32>,
) -> Result<(ApiToken, String), ApiError> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid(
            "name",
            "give the token a name of 1 to 200 characters",
        ));
    }
    let expires_at = match expires_in_days {
        None => None,
        Some(days @ 1..=MAX_TOKEN_DAYS) => Some(Utc::now() + Duration::days(i64::from(days))),
        Some(_) => {
            return Err(ApiError::invalid(
                "expiresInDays",
                format!("a token lives 1 to {MAX_TOKEN_DAYS} days (or until revoked)"),
            ));
        }
    };
    if scopes.is_empty() {
        return Err(ApiError::invalid(
            "scopes",
            "a token needs at least one scope",
        ));
    }
    let secret = new_secret();
    let token = store
        .create_api_token(user, name, scopes, &secret_hash(&secret), expires_at)
        .await?;
    Ok((token, format!("{TOKEN_PREFIX}{secret}")))
}

/// Creates a user after checking the input.
pub async fn create_user(
    store: &EventStore,
    organisation: Uuid,
    email: &str,
    display_name: &str,
    role: Role,
    password: Option<&str>,
) -> Result<User, ApiError> {
    let email = email.trim();
    if !email.contains('@') || email.len() > 200 || email.contains(char::is_whitespace) {
        return Err(ApiError::invalid("email", "enter a valid e-mail address"));
    }
    if display_name.trim().is_empty() || display_name.len() > 200 {
        return Err(ApiError::invalid(
            "displayName",
            "enter a name of 1 to 200 characters",
        ));
    }
    if role == Role::Integrator && password.is_some() {
        return Err(ApiError::invalid(
            "password",
            "an integrator account has no password: it acts through API tokens, limited by their scopes",
        ));
    }
    let hash = password.map(hash_password).transpose()?;
    Ok(store
        .create_user(organisation, email, display_name, role, hash.as_deref())
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterx", &hash));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn secrets_are_random_and_stored_hashed() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(secret_hash(&a).len(), 64);
        assert_ne!(secret_hash(&a), a);
    }
}

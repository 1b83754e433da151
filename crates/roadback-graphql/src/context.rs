//! What resolvers share: the server's state, the request's session, and the one place where
//! access is decided.

use std::sync::Arc;

use async_graphql::Context;
use chrono::{Duration, NaiveDate, Utc};
use roadback_domain::access::{Access, Action, RecordOwner, authorize};
use roadback_domain::indicators::{Framework, default_framework};
use roadback_store::EventStore;
use roadback_store::vault::{DeploymentSecret, Vault};
use uuid::Uuid;

use crate::auth::Session;
use crate::error::ApiError;
use crate::histories::{HISTORIES_KEPT, HistoryCache};

/// Heavy requests (evaluation) that run at once; more wait.
pub const HEAVY_AT_ONCE: usize = 2;
/// How long a query or mutation may run by default.
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

/// The API's configuration and store, shared by every request.
#[derive(Clone)]
pub struct ApiState {
    /// The event store (and directory, and read models).
    pub store: EventStore,
    /// The personal-data vault.
    pub vault: Vault,
    /// How long a sign-in lasts.
    pub session_hours: i64,
    /// True to mark cookies `Secure` (served over HTTPS).
    pub secure_cookies: bool,
    /// The indicator framework versions the program uses.
    pub frameworks: Arc<Vec<Framework>>,
    /// The deployment secret (pseudonyms, cursors), read from the vault on first use.
    secret: Arc<tokio::sync::OnceCell<DeploymentSecret>>,
    /// Heavy work (evaluation) runs a few requests at a time, so it cannot take every
    /// database connection from everyone else; the others wait their turn.
    pub heavy: Arc<tokio::sync::Semaphore>,
    /// How long a query or mutation may run before it is answered `TIMEOUT`.
    pub deadline: std::time::Duration,
    /// True once the server is stopping: subscriptions end.
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
    /// The schema itself, for requests made on a caller's behalf (a data lock runs its query).
    pub(crate) schema: Arc<std::sync::OnceLock<crate::Api>>,
    /// Histories as last read, extended by what was appended since.
    pub histories: Arc<HistoryCache>,
    /// Users' display names as read (a user is never renamed).
    pub(crate) names: Arc<crate::loaders::NameCache>,
}

impl ApiState {
    /// The state for a store and its vault with defaults: 12-hour sessions, the default
    /// framework.
    pub fn new(store: EventStore, vault: Vault) -> Self {
        Self {
            store,
            vault,
            session_hours: 12,
            secure_cookies: false,
            frameworks: Arc::new(vec![default_framework()]),
            secret: Arc::default(),
            heavy: Arc::new(tokio::sync::Semaphore::new(HEAVY_AT_ONCE)),
            deadline: DEADLINE,
            stopping: Arc::new(tokio::sync::watch::channel(false).0),
            schema: Arc::default(),
            histories: Arc::new(HistoryCache::new(HISTORIES_KEPT)),
            names: Arc::default(),
        }
    }

    /// Tells subscriptions the server is stopping: each ends (the client gets `complete`).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// True once the server is stopping.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Resolves once the server is stopping.
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + use<> {
        let mut stopping = self.stopping.subscribe();
        async move {
            let _ = stopping.wait_for(|stopping| *stopping).await;
        }
    }

    /// The deployment secret.
    pub async fn secret(&self) -> Result<&DeploymentSecret, ApiError> {
        Ok(self
            .secret
            .get_or_try_init(|| self.vault.deployment_secret())
            .await?)
    }

    /// A framework version, if the program has it.
    pub fn framework(&self, version: u32) -> Option<&Framework> {
        self.frameworks.iter().find(|f| f.version == version)
    }
}

/// The API state of a request.
pub fn state<'a>(ctx: &Context<'a>) -> &'a ApiState {
    ctx.data_unchecked::<ApiState>()
}

/// The request's session, or `UNAUTHENTICATED`.
pub fn session<'a>(ctx: &Context<'a>) -> Result<&'a Session, ApiError> {
    ctx.data_opt::<Session>().ok_or(ApiError::Unauthenticated)
}

/// The one access check of every resolver: signed in, and the policy allows `action` (on
/// `record`, for a beneficiary's record).
pub fn guard<'a>(
    ctx: &Context<'a>,
    action: Action,
    record: Option<&RecordOwner>,
) -> Result<&'a Session, ApiError> {
    let session = session(ctx)?;
    match authorize(&session.principal, action, record) {
        Access::Allowed => Ok(session),
        Access::Forbidden => Err(ApiError::Forbidden),
        Access::NotFound => Err(ApiError::NotFound("this beneficiary".into())),
    }
}

/// What one request has written to the access log already: a record read a thousand times
/// through aliases is one row, not a thousand.
#[derive(Default)]
pub struct Logged(std::sync::Mutex<std::collections::HashSet<(Uuid, String)>>);

/// Gives every request its own [`Logged`].
pub struct PerRequest;

impl async_graphql::extensions::ExtensionFactory for PerRequest {
    fn create(&self) -> Arc<dyn async_graphql::extensions::Extension> {
        Arc::new(PerRequest)
    }
}

#[async_graphql::async_trait::async_trait]
impl async_graphql::extensions::Extension for PerRequest {
    async fn prepare_request(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        request: async_graphql::Request,
        next: async_graphql::extensions::NextPrepareRequest<'_>,
    ) -> async_graphql::ServerResult<async_graphql::Request> {
        next.run(ctx, request.data(Logged::default())).await
    }
}

/// Writes to the access log that the signed-in user did `action` on a beneficiary's record,
/// and why; once per record and action in a request.
pub async fn log_access(
    ctx: &Context<'_>,
    beneficiary: Uuid,
    action: &str,
    purpose: &str,
) -> Result<(), ApiError> {
    let session = session(ctx)?;
    if let Some(Logged(logged)) = ctx.data_opt::<Logged>() {
        let first = logged
            .lock()
            .map(|mut seen| seen.insert((beneficiary, action.to_string())))
            .unwrap_or(true);
        if !first {
            return Ok(());
        }
    }
    Ok(state(ctx)
        .store
        .log_access(
            session.user.id,
            session.user.organisation,
            Some(beneficiary),
            action,
            purpose,
        )
        .await?)
}

/// Today for the rules: the date in the earliest time zone (UTC+14), so a fact recorded late in
/// the evening anywhere is never "in the future".
pub fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(14)).date_naive()
}

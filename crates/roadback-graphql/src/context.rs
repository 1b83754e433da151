//! What resolvers share: the server's state, the request's session, and the one place where
//! access is decided.

use std::sync::Arc;

use async_graphql::Context;
use chrono::{Duration, NaiveDate, Utc};
use roadback_domain::access::{Access, Action, RecordOwner, authorize};
use roadback_domain::indicators::{Framework, default_framework};
use roadback_domain::projection::{Envelope, History};
use roadback_store::EventStore;
use roadback_store::records::{beneficiary_stream, envelope};
use roadback_store::vault::{DeploymentSecret, Vault};
use uuid::Uuid;

use crate::auth::Session;
use crate::error::ApiError;

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
    pub(crate) schema: Arc<std::sync::OnceLock<crate::ApiSchema>>,
    /// Histories as last read, extended by what was appended since.
    pub histories: Arc<HistoryCache>,
}

/// How many beneficiaries' histories a server keeps between requests (a few MB).
pub const HISTORIES_KEPT: usize = 2_048;

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

/// A beneficiary's whole history, read from the log; `None` when there is no such record.
pub async fn load_history(
    store: &EventStore,
    beneficiary: Uuid,
) -> Result<Option<History>, ApiError> {
    let mut entries = Vec::new();
    read_tail(store, beneficiary, &mut entries, 0).await?;
    Ok((!entries.is_empty()).then(|| History::new(entries)))
}

/// Appends to `entries` the stream's events after `read_to`; the last version read.
async fn read_tail(
    store: &EventStore,
    beneficiary: Uuid,
    entries: &mut Vec<Envelope>,
    mut read_to: u64,
) -> Result<u64, ApiError> {
    const PAGE: usize = 10_000;
    let stream = beneficiary_stream(beneficiary)?;
    loop {
        let page = store.read_stream(&stream, read_to + 1, PAGE).await?;
        for event in &page {
            if let Some(e) = envelope(event)? {
                entries.push(e);
            }
            read_to = event.version;
        }
        if page.len() < PAGE {
            return Ok(read_to);
        }
    }
}

/// Beneficiaries' histories as last read. A read fetches from the log only what was appended
/// since (by any server instance), so a long history is not read whole for every command and
/// view. Events never change once appended, so a cached history extended by its stream's tail
/// *is* the stream: a cached entry cannot decide a command on an old case, and the append's
/// expected version still refuses a command whose case moved on between the read and the
/// append. Bounded: past `capacity` histories, the least recently used leaves.
pub struct HistoryCache {
    capacity: usize,
    histories: std::sync::Mutex<HistoryMap>,
}

#[derive(Default)]
struct HistoryMap {
    by_beneficiary: std::collections::HashMap<Uuid, CachedHistory>,
    clock: u64,
}

struct CachedHistory {
    history: Arc<History>,
    read_to: u64,
    used: u64,
}

impl HistoryCache {
    /// A cache of at most `capacity` histories.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            histories: std::sync::Mutex::default(),
        }
    }

    /// How many histories it holds.
    pub fn len(&self) -> usize {
        self.lock().by_beneficiary.len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HistoryMap> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.histories.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The beneficiary's history as the log holds it now; `None` when there is no such record.
    pub async fn load(
        &self,
        store: &EventStore,
        beneficiary: Uuid,
    ) -> Result<Option<Arc<History>>, ApiError> {
        let cached = {
            let mut map = self.lock();
            map.clock += 1;
            let now = map.clock;
            map.by_beneficiary.get_mut(&beneficiary).map(|c| {
                c.used = now;
                (c.history.clone(), c.read_to)
            })
        };
        let (history, read_to) = cached.unwrap_or_default();
        let mut tail = Vec::new();
        let read_now = read_tail(store, beneficiary, &mut tail, read_to).await?;
        if tail.is_empty() {
            return Ok((!history.entries().is_empty()).then_some(history));
        }
        let mut entries = history.entries().to_vec();
        entries.extend(tail);
        let history = Arc::new(History::new(entries));
        self.keep(beneficiary, history.clone(), read_now);
        Ok(Some(history))
    }

    fn keep(&self, beneficiary: Uuid, history: Arc<History>, read_to: u64) {
        let mut map = self.lock();
        map.clock += 1;
        let used = map.clock;
        // Another request may have read further meanwhile: the longer history stays.
        if map
            .by_beneficiary
            .get(&beneficiary)
            .is_some_and(|c| c.read_to >= read_to)
        {
            return;
        }
        if map.by_beneficiary.len() >= self.capacity
            && !map.by_beneficiary.contains_key(&beneficiary)
            && let Some(oldest) = map
                .by_beneficiary
                .iter()
                .min_by_key(|(_, c)| c.used)
                .map(|(id, _)| *id)
        {
            map.by_beneficiary.remove(&oldest);
        }
        map.by_beneficiary.insert(
            beneficiary,
            CachedHistory {
                history,
                read_to,
                used,
            },
        );
    }
}

//! The API's errors: every failure has a stable `extensions.code` and a sentence a caseworker
//! understands. Mapped once here from the store's and the domain's errors.

use async_graphql::ErrorExtensions;
use roadback_domain::{Contradiction, Rejection};
use roadback_store::StoreError;

/// A failure of an API call.
/// Deliberately not `Display`: async-graphql's blanket conversion from displayable errors would
/// drop the code, so the only way into a GraphQL error is [`ErrorExtensions::extend`].
/// Resolvers (objects, complex objects and subscriptions alike) return `Result<T, ApiError>`,
/// spelled out: async-graphql recognises a resolver's error by the type's name `Result` and
/// converts it with `Into<async_graphql::Error>`, which is [`ErrorExtensions::extend`].
#[derive(Clone, Debug)]
pub enum ApiError {
    /// No valid session or token.
    Unauthenticated,
    /// Signed in, but the role or token may not do this.
    Forbidden,
    /// No such thing (or none this user may know about).
    NotFound(String),
    /// Input that cannot be accepted; `field` names the input at fault.
    Validation {
        /// A sentence for people.
        message: String,
        /// The input field at fault.
        field: Option<String>,
        /// A finer, stable reason (the domain's rejection code).
        reason: Option<&'static str>,
        /// For `CONTRADICTS_LATER_ENTRY`: the later entry the change would contradict.
        contradicts: Option<Contradiction>,
    },
    /// The record changed since the client read it, or an idempotency key was reused.
    Conflict {
        /// A sentence for people.
        message: String,
        /// The record's version now.
        current_version: u64,
        /// A finer, stable reason (`IDEMPOTENCY_KEY_REUSED`), when not a version conflict.
        reason: Option<&'static str>,
    },
    /// Too many attempts.
    RateLimited(String),
    /// The database cannot be reached right now: try again shortly (HTTP 503, `Retry-After`).
    Unavailable,
    /// The request ran past its deadline and was stopped.
    Timeout(std::time::Duration),
    /// Something failed on our side; details are in the server log.
    Internal(String),
}

impl ApiError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Validation { .. } => "VALIDATION",
            Self::Conflict { .. } => "CONFLICT",
            Self::RateLimited(_) => "RATE_LIMITED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Timeout(_) => "TIMEOUT",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The sentence shown to people.
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated => "sign in to continue".into(),
            Self::Forbidden => "you are not allowed to do this".into(),
            Self::NotFound(what) => format!("{what} was not found"),
            Self::Validation { message, .. } | Self::Conflict { message, .. } => message.clone(),
            Self::RateLimited(message) | Self::Internal(message) => message.clone(),
            Self::Unavailable => {
                "the database is not available right now; please try again in a moment".into()
            }
            Self::Timeout(limit) => format!(
                "this request took longer than {} seconds and was stopped: ask for less at once (a smaller page, fewer fields); a change may have been recorded, so send it again with the same idempotency key",
                limit.as_secs_f64()
            ),
        }
    }

    /// A validation error on one input field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation {
            message: message.into(),
            field: Some(field.to_string()),
            reason: None,
            contradicts: None,
        }
    }

    /// The record is at `current`, not at the version the change was made against.
    pub fn stale(expected: u64, current: u64) -> Self {
        Self::Conflict {
            message: format!(
                "this record is at version {current}, not {expected}: someone changed it since you read it; reload it and try again"
            ),
            current_version: current,
            reason: None,
        }
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        Self::Validation {
            message: r.reason,
            field: r.field.map(str::to_string),
            reason: Some(r.code.as_str()),
            contradicts: r.contradicts,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Conflict { actual, .. } => Self::Conflict {
                message: "this record was changed by someone else since you read it; reload it and try again".into(),
                current_version: *actual,
                reason: None,
            },
            StoreError::Unavailable(_) | StoreError::Closed => {
                tracing::warn!(error = %e, cause = e.cause(), "store unavailable");
                Self::Unavailable
            }
            StoreError::Migration(_) | StoreError::Corrupt(_) | StoreError::Database(_) => {
                tracing::error!(error = %e, cause = e.cause(), "store failure");
                Self::Internal("something went wrong on our side; it has been logged".into())
            }
            // Every variant by name, so a new one does not compile until it is mapped.
            StoreError::EmptyAppend
            | StoreError::TooManyEvents { .. }
            | StoreError::InvalidStreamId { .. }
            | StoreError::InvalidEventType { .. }
            | StoreError::InvalidPayload { .. }
            | StoreError::PayloadTooLarge { .. }
            | StoreError::DuplicateEventId { .. }
            | StoreError::IdempotencyMismatch { .. }
            | StoreError::AlreadyExists { .. }
            | StoreError::Erased { .. } => Self::Validation {
                message: e.to_string(),
                field: None,
                reason: None,
                contradicts: None,
            },
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.message()).extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                Self::Validation {
                    field,
                    reason,
                    contradicts,
                    ..
                } => {
                    if let Some(field) = field {
                        ext.set("field", field.as_str());
                    }
                    if let Some(reason) = reason {
                        ext.set("reason", *reason);
                    }
                    if let Some(c) = contradicts {
                        let mut later = async_graphql::indexmap::IndexMap::new();
                        later.insert(
                            async_graphql::Name::new("eventId"),
                            async_graphql::Value::from(c.event_id.to_string()),
                        );
                        later.insert(
                            async_graphql::Name::new("occurredOn"),
                            async_graphql::Value::from(c.occurred_on.to_string()),
                        );
                        later.insert(
                            async_graphql::Name::new("rule"),
                            async_graphql::Value::from(c.rule.as_str()),
                        );
                        ext.set("contradicts", async_graphql::Value::Object(later));
                    }
                }
                Self::Conflict {
                    current_version,
                    reason,
                    ..
                } => {
                    ext.set("currentVersion", *current_version);
                    if let Some(reason) = reason {
                        ext.set("reason", *reason);
                    }
                }
                _ => {}
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        e.extend()
    }
}

/// Gives every error a code: errors from the GraphQL engine itself (parse, validation, depth,
/// complexity) come without one and get `VALIDATION`. Installed in the schema, so it covers
/// HTTP and WebSocket alike.
pub struct DefaultCode;

impl async_graphql::extensions::ExtensionFactory for DefaultCode {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        std::sync::Arc::new(DefaultCode)
    }
}

pub(crate) fn with_codes(mut response: async_graphql::Response) -> async_graphql::Response {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "VALIDATION");
        }
    }
    response
}

#[async_graphql::async_trait::async_trait]
impl async_graphql::extensions::Extension for DefaultCode {
    async fn request(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        next: async_graphql::extensions::NextRequest<'_>,
    ) -> async_graphql::Response {
        with_codes(next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        stream: futures_util::stream::BoxStream<'s, async_graphql::Response>,
        next: async_graphql::extensions::NextSubscribe<'_>,
    ) -> futures_util::stream::BoxStream<'s, async_graphql::Response> {
        use futures_util::StreamExt;
        next.run(ctx, stream).map(with_codes).boxed()
    }
}

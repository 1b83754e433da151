//! The directory and sessions: the signed-in user, organisations, users, API tokens, the service
//! catalogue and the access log; signing in and out, creating users, issuing and revoking
//! tokens. Credentials themselves are [`crate::auth`]'s.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use roadback_domain::access::Action;
use uuid::Uuid;

use crate::auth::{self, SESSION_COOKIE};
use crate::context::{guard, session, state};
use crate::error::ApiError;
use crate::vocabulary::{Role, Scope, ServiceType, page_size};

/// The signed-in user.
#[derive(SimpleObject)]
pub struct Me {
    /// The user.
    pub user: User,
    /// Their organisation.
    pub organisation: Option<Organisation>,
    /// For an API token, its scopes; empty for a signed-in session.
    pub token_scopes: Vec<Scope>,
}

/// An organisation using Roadback.
#[derive(SimpleObject, Clone, Debug)]
pub struct Organisation {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its country (ISO 3166-1 alpha-2).
    pub country: String,
}

impl From<roadback_store::directory::Organisation> for Organisation {
    fn from(o: roadback_store::directory::Organisation) -> Self {
        Self {
            id: o.id,
            name: o.name,
            country: o.country,
        }
    }
}

/// A user of an organisation.
#[derive(SimpleObject, Clone, Debug)]
pub struct User {
    /// Their id.
    pub id: Uuid,
    /// Their organisation's id.
    pub organisation_id: Uuid,
    /// Their e-mail address.
    pub email: String,
    /// The name shown to colleagues.
    pub display_name: String,
    /// Their role.
    pub role: Role,
    /// False once deactivated.
    pub active: bool,
}

impl From<roadback_store::directory::User> for User {
    fn from(u: roadback_store::directory::User) -> Self {
        Self {
            id: u.id,
            organisation_id: u.organisation,
            email: u.email,
            display_name: u.display_name,
            role: u.role.into(),
            active: u.active,
        }
    }
}

/// An API token (its secret is shown only once, when issued).
#[derive(SimpleObject, Clone, Debug)]
pub struct ApiToken {
    /// Its id.
    pub id: Uuid,
    /// The user it acts as.
    pub user_id: Uuid,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<roadback_store::directory::ApiToken> for ApiToken {
    fn from(t: roadback_store::directory::ApiToken) -> Self {
        Self {
            id: t.id,
            user_id: t.user,
            name: t.name,
            scopes: t.scopes.into_iter().map(Scope::from).collect(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// One line of the access log.
#[derive(SimpleObject, Clone, Debug)]
pub struct AccessLogEntry {
    /// Its place in the log.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (user id).
    pub user_id: Uuid,
    /// Whose record.
    pub beneficiary_id: Option<Uuid>,
    /// What: `READ_RECORD`, `EXPORT`...
    pub action: String,
    /// Why.
    pub purpose: String,
}

impl From<roadback_store::directory::AccessEntry> for AccessLogEntry {
    fn from(e: roadback_store::directory::AccessEntry) -> Self {
        Self {
            id: e.id,
            at: e.at,
            user_id: e.user,
            beneficiary_id: e.beneficiary,
            action: e.action,
            purpose: e.purpose,
        }
    }
}

/// A user to create (administrators).
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Their e-mail address (their sign-in name).
    pub email: String,
    /// The name shown to colleagues.
    pub display_name: String,
    /// Their role.
    pub role: Role,
    /// A password of at least 12 characters; none for an account used only through API tokens.
    #[graphql(secret)]
    pub password: Option<String>,
}

/// An API token to issue (administrators).
#[derive(InputObject)]
pub struct IssueApiTokenInput {
    /// The user the token acts as (an integrator account of the organisation).
    pub user_id: Uuid,
    /// A name for people.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Days until it stops working (none: until revoked).
    pub expires_in_days: Option<u32>,
}

/// An issued token and its secret (shown this once).
#[derive(SimpleObject)]
pub struct IssuedApiToken {
    /// The token.
    pub token: ApiToken,
    /// The secret to send as `Authorization: Bearer <secret>`; not shown again.
    pub secret: String,
}

/// The result of signing in.
#[derive(SimpleObject)]
pub struct SignInResult {
    /// The signed-in user.
    pub user: User,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// The directory and the access log.
#[derive(Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// The signed-in user (or the user an API token acts as).
    async fn me(&self, ctx: &Context<'_>) -> Result<Me, ApiError> {
        let session = guard(ctx, Action::ReadDirectory, None)?;
        let organisation = state(ctx)
            .store
            .organisations()
            .await?
            .into_iter()
            .find(|o| o.id == session.user.organisation)
            .map(Organisation::from);
        Ok(Me {
            user: session.user.clone().into(),
            organisation,
            token_scopes: session
                .principal
                .scopes
                .iter()
                .flatten()
                .map(|s| (*s).into())
                .collect(),
        })
    }

    /// Every organisation using this Roadback (for referrals and data-sharing consent).
    async fn organisations(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>, ApiError> {
        guard(ctx, Action::ReadDirectory, None)?;
        Ok(state(ctx)
            .store
            .organisations()
            .await?
            .into_iter()
            .map(Organisation::from)
            .collect())
    }

    /// The users of the signed-in user's organisation.
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<User>, ApiError> {
        let session = guard(ctx, Action::ReadUsers, None)?;
        Ok(state(ctx)
            .store
            .users(session.user.organisation)
            .await?
            .into_iter()
            .map(User::from)
            .collect())
    }

    /// The API tokens of the organisation's users (secrets are never shown again).
    async fn api_tokens(&self, ctx: &Context<'_>) -> Result<Vec<ApiToken>, ApiError> {
        let session = guard(ctx, Action::ManageUsers, None)?;
        Ok(state(ctx)
            .store
            .api_tokens(session.user.organisation)
            .await?
            .into_iter()
            .map(ApiToken::from)
            .collect())
    }

    /// The service catalogue: the kinds of service a plan can include.
    async fn service_catalogue(&self, ctx: &Context<'_>) -> Result<Vec<ServiceType>, ApiError> {
        guard(ctx, Action::ReadDirectory, None)?;
        Ok(
            <ServiceType as async_graphql::resolver_utils::EnumType>::items()
                .iter()
                .map(|item| item.value)
                .collect(),
        )
    }

    /// The organisation's access log, newest first (administrators and supervisors).
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (1 to 100; 50 when absent).")] first: Option<i32>,
        #[graphql(desc = "Only entries before this one (for the next page).")] before: Option<i64>,
        #[graphql(desc = "Only reads of this beneficiary's record.")] beneficiary_id: Option<Uuid>,
    ) -> Result<Vec<AccessLogEntry>, ApiError> {
        let session = guard(ctx, Action::ReadAccessLog, None)?;
        let limit = page_size(first, 50)?;
        Ok(state(ctx)
            .store
            .access_log(session.user.organisation, beneficiary_id, before, limit)
            .await?
            .into_iter()
            .map(AccessLogEntry::from)
            .collect())
    }
}

/// Sessions, users and API tokens.
#[derive(Default)]
pub struct DirectoryMutation;

#[Object]
impl DirectoryMutation {
    /// Signs in with e-mail and password; sets the session cookie (HttpOnly, SameSite=Strict).
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The e-mail address (any case).")] email: String,
        #[graphql(secret, desc = "The password.")] password: String,
    ) -> Result<SignInResult, ApiError> {
        let state = state(ctx);
        let client = ctx.data_opt::<auth::ClientAddress>().copied();
        let (user, secret, expires_at) =
            auth::sign_in(&state.store, &email, &password, state.session_hours, client).await?;
        let secure = if state.secure_cookies { "; Secure" } else { "" };
        ctx.insert_http_header(
            "set-cookie",
            format!(
                "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                state.session_hours * 3600
            ),
        );
        Ok(SignInResult {
            user: user.into(),
            expires_at,
        })
    }

    /// Signs out: ends the session and clears the cookie.
    async fn sign_out(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        let session = session(ctx)?;
        if let Some(auth::Credential::Session(hash)) = &session.credential {
            state(ctx).store.delete_session(hash).await?;
        }
        // The clearing cookie carries the same attributes as the one it replaces.
        let secure = if state(ctx).secure_cookies {
            "; Secure"
        } else {
            ""
        };
        ctx.insert_http_header(
            "set-cookie",
            format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
        );
        Ok(true)
    }

    /// Creates a user in the administrator's organisation.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: CreateUserInput,
    ) -> Result<User, ApiError> {
        let session = guard(ctx, Action::ManageUsers, None)?;
        Ok(auth::create_user(
            &state(ctx).store,
            session.user.organisation,
            &input.email,
            &input.display_name,
            input.role.into(),
            input.password.as_deref(),
        )
        .await?
        .into())
    }

    /// Issues an API token for a user of the administrator's organisation.
    async fn issue_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: IssueApiTokenInput,
    ) -> Result<IssuedApiToken, ApiError> {
        let session = guard(ctx, Action::ManageUsers, None)?;
        let store = &state(ctx).store;
        let owner = store
            .users_by_ids(&[input.user_id])
            .await?
            .into_iter()
            .find(|u| u.organisation == session.user.organisation)
            .ok_or_else(|| ApiError::NotFound("this user".into()))?;
        // A token acts as its owner: an administrator never mints one to act as a colleague.
        if owner.id != session.user.id && owner.role != roadback_domain::access::Role::Integrator {
            return Err(ApiError::invalid(
                "userId",
                "tokens are issued for yourself or for an integrator account, never to act as a colleague",
            ));
        }
        let scopes: Vec<_> = input.scopes.iter().map(|s| (*s).into()).collect();
        let (token, secret) =
            auth::issue_token(store, owner.id, &input.name, &scopes, input.expires_in_days).await?;
        let purpose = format!("token {} for user {}", token.id, owner.id);
        store
            .log_access(
                session.user.id,
                session.user.organisation,
                None,
                "ISSUE_API_TOKEN",
                &purpose,
            )
            .await?;
        Ok(IssuedApiToken {
            token: token.into(),
            secret,
        })
    }

    /// Revokes an API token of the administrator's organisation; it stops working at once.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token's id.")] id: Uuid,
    ) -> Result<bool, ApiError> {
        let session = guard(ctx, Action::ManageUsers, None)?;
        let store = &state(ctx).store;
        if store
            .revoke_api_token(session.user.organisation, id)
            .await?
        {
            store
                .log_access(
                    session.user.id,
                    session.user.organisation,
                    None,
                    "REVOKE_API_TOKEN",
                    &format!("token {id}"),
                )
                .await?;
            Ok(true)
        } else {
            Err(ApiError::NotFound("this token".into()))
        }
    }
}

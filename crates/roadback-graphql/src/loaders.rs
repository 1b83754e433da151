//! Batched lookups: every user named in one response is read with one query, and kept: the
//! directory never renames a user, so a display name read once stays true.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use roadback_store::EventStore;
use uuid::Uuid;

use crate::error::ApiError;

/// Loads users by id.
pub struct UserLoader(pub EventStore);

impl Loader<Uuid> for UserLoader {
    type Value = roadback_store::directory::User;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let users = self
            .0
            .users_by_ids(keys)
            .await
            .map_err(|e| Arc::new(ApiError::from(e)))?;
        Ok(users.into_iter().map(|u| (u.id, u)).collect())
    }
}

/// The user loader of this request.
pub fn new_user_loader(store: EventStore) -> DataLoader<UserLoader> {
    DataLoader::new(UserLoader(store), tokio::spawn)
}

/// Most display names a server keeps (a few hundred KB); past it, the cache starts again.
const NAMES_KEPT: usize = 10_000;

/// Users' display names as read, by user id.
#[derive(Default)]
pub struct NameCache(Mutex<HashMap<Uuid, String>>);

impl NameCache {
    fn get(&self, user: Uuid) -> Option<String> {
        self.0.lock().ok()?.get(&user).cloned()
    }

    fn keep(&self, user: Uuid, name: &str) {
        if let Ok(mut names) = self.0.lock() {
            if names.len() >= NAMES_KEPT {
                names.clear();
            }
            names.insert(user, name.to_string());
        }
    }
}

/// A user's display name: as kept, else through the request's loader (batched with the
/// response's other names).
pub async fn user_name(ctx: &Context<'_>, user: Uuid) -> Result<Option<String>, ApiError> {
    let names = &crate::context::state(ctx).names;
    if let Some(name) = names.get(user) {
        return Ok(Some(name));
    }
    // No loader is the server's wiring fault: the engine's message with `VALIDATION`, as
    // `DefaultCode` labelled this error when it reached GraphQL unconverted (`Internal` would be
    // truer, but would change what clients see).
    let loader = ctx
        .data::<DataLoader<UserLoader>>()
        .map_err(|e| ApiError::Validation {
            message: e.message,
            field: None,
            reason: None,
            contradicts: None,
        })?;
    let found = loader.load_one(user).await.map_err(|e| (*e).clone())?;
    if let Some(u) = &found {
        names.keep(user, &u.display_name);
    }
    Ok(found.map(|u| u.display_name))
}

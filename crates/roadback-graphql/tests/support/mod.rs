//! What the API's tests share: a schema over a throwaway store, an organisation, signed-in
//! callers of any role and scope, and requests run as them.

#![allow(dead_code)] // each test binary uses its own part

use async_graphql::{Request, Variables};
use roadback_domain::access::{Principal, Role, Scope};
use roadback_graphql::auth::Session;
use roadback_graphql::loaders::new_user_loader;
use roadback_graphql::{Api, ApiState};
use roadback_store::EventStore;
use roadback_store::testing::TestDatabase;
use roadback_store::vault::{Keyring, MasterKey, Vault};
use serde_json::Value;
use uuid::Uuid;

/// A schema over a store, with one organisation ("Ours").
pub struct World {
    pub store: EventStore,
    pub schema: Api,
    pub organisation: Uuid,
}

impl World {
    pub async fn new(db: &TestDatabase) -> Self {
        Self::with(db, |_| {}).await
    }

    /// A world whose API state `configure` changed first.
    pub async fn with(db: &TestDatabase, configure: impl FnOnce(&mut ApiState)) -> Self {
        let store = db.open().await;
        let vault = Vault::new(store.clone(), Keyring::new(MasterKey::generate()));
        let mut state = ApiState::new(store.clone(), vault);
        configure(&mut state);
        let schema = roadback_graphql::schema(state);
        let organisation = store.create_organisation("Ours", "AL").await.unwrap().id;
        Self {
            store,
            schema,
            organisation,
        }
    }

    /// A caller of the world's organisation (`scopes`: a token's, None: a session).
    pub async fn session(&self, role: Role, name: &str, scopes: Option<Vec<Scope>>) -> Session {
        self.session_in(self.organisation, role, name, scopes).await
    }

    /// A caller of `organisation`.
    pub async fn session_in(
        &self,
        organisation: Uuid,
        role: Role,
        name: &str,
        scopes: Option<Vec<Scope>>,
    ) -> Session {
        let user = self
            .store
            .create_user(
                organisation,
                &format!("{name}@example.org"),
                name,
                role,
                None,
            )
            .await
            .unwrap();
        Session {
            principal: Principal {
                user: user.id,
                organisation,
                role,
                scopes,
            },
            user,
            credential: None,
        }
    }

    /// The request with the per-request data the server adds, as `who` (None: signed out).
    pub fn request(&self, who: Option<&Session>, query: &str, variables: Value) -> Request {
        let mut request = Request::new(query)
            .variables(Variables::from_json(variables))
            .data(new_user_loader(self.store.clone()));
        if let Some(who) = who {
            request = request.data(who.clone());
        }
        request
    }

    /// Runs a request as `who`; the response as JSON.
    pub async fn run(&self, who: &Session, query: &str, variables: Value) -> Value {
        self.run_as(Some(who), query, variables).await
    }

    /// Runs a request as `who` or signed out.
    pub async fn run_as(&self, who: Option<&Session>, query: &str, variables: Value) -> Value {
        let response = self
            .schema
            .execute(self.request(who, query, variables))
            .await;
        serde_json::to_value(&response).unwrap()
    }

    /// Runs a request that must succeed; its data.
    pub async fn ok(&self, who: &Session, query: &str, variables: Value) -> Value {
        let response = self.run(who, query, variables).await;
        assert!(response["errors"].is_null(), "{response}");
        response["data"].clone()
    }
}

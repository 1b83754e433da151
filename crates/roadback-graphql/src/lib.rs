//! The Roadback GraphQL API: the contract the web client and integrators use.
//!
//! Resolvers are thin: check access in one place ([`context::guard`], backed by the domain's
//! policy), call the domain or the store, map the result. Errors carry a stable
//! `extensions.code` ([`error::ApiError`]).

pub mod auth;
pub mod command;
pub mod context;
pub mod error;
pub mod loaders;
pub mod mutation;
pub mod personal;
pub mod query;
pub mod subscription;
pub mod types;

use async_graphql::Schema;

pub use context::ApiState;

/// The API's schema type.
pub type ApiSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Deepest query accepted.
pub const MAX_DEPTH: usize = 12;
/// Most complex query accepted (each field counts one, lists by their page size).
pub const MAX_COMPLEXITY: usize = 2_000;

/// Builds the schema with its limits and shared state.
pub fn schema(state: ApiState) -> ApiSchema {
    Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .directive(personal::PersonalDataDirective)
        .extension(error::DefaultCode)
        .data(state)
        .finish()
}

/// The schema in SDL, as `schema.graphql` holds it.
pub fn sdl() -> String {
    Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .directive(personal::PersonalDataDirective)
        .finish()
        .sdl()
}

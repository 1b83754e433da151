//! The Roadback GraphQL API: the contract the web client and integrators use.
//!
//! Resolvers are thin: check access in one place ([`context::guard`], backed by the domain's
//! policy), call the domain or the store, map the result. Errors carry a stable
//! `extensions.code` ([`error::ApiError`]). Each resource is a module with its inputs, its views
//! and its part of [`Query`] and [`Mutation`]; every change to a record goes through
//! [`command`].

pub mod assessments;
pub mod auth;
pub mod beneficiary;
pub mod command;
pub mod consent;
pub mod context;
pub mod corrections;
pub mod directory;
pub mod error;
pub mod evaluation;
pub mod histories;
pub mod inputs;
pub mod lifecycle;
pub mod loaders;
pub mod personal;
pub mod plan;
pub mod referrals;
pub mod services;
pub mod subscription;
pub mod vocabulary;

use async_graphql::{MergedObject, Schema, ValidationMode};

pub use context::ApiState;
pub use inputs::Api;

// A root's doc comment is its description in the schema, and the order of its parts is the
// order of its fields in `schema.graphql`.

/// Reads: the signed-in user, the directory, beneficiaries, the caseload and the access log.
#[derive(MergedObject, Default)]
pub struct Query(
    directory::DirectoryQuery,
    assessments::AssessmentQuery,
    beneficiary::BeneficiaryQuery,
    evaluation::EvaluationQuery,
    evaluation::locks::LockQuery,
);

/// Changes: each command of the domain, sign-in and sign-out, users and tokens.
#[derive(MergedObject, Default)]
pub struct Mutation(
    directory::DirectoryMutation,
    beneficiary::BeneficiaryMutation,
    consent::ConsentMutation,
    plan::PlanMutation,
    services::ServiceMutation,
    assessments::AssessmentMutation,
    lifecycle::LifecycleMutation,
    referrals::ReferralMutation,
    corrections::CorrectionMutation,
    personal::PersonalDataMutation,
    evaluation::locks::LockMutation,
);

/// The API's schema type.
pub type ApiSchema = Schema<Query, Mutation, subscription::Subscription>;

/// Deepest query accepted.
pub const MAX_DEPTH: usize = 12;
/// Most costly query accepted: each field counts one, a field that reads a person's history
/// [`STREAM_READ`] more, lists by their page size.
pub const MAX_COMPLEXITY: usize = 5_000;
/// What reading and replaying one person's history weighs, in fields.
pub const STREAM_READ: usize = 20;

/// Builds the API with its limits and shared state.
pub fn schema(state: ApiState) -> Api {
    let cell = state.schema.clone();
    let checks = inputs::InputChecks::default();
    let deadline = state.deadline;
    let build = || {
        Schema::build(
            Query::default(),
            Mutation::default(),
            subscription::Subscription,
        )
        .directive(personal::PersonalDataDirective)
        .data(state.clone())
    };
    let full = build()
        .extension(error::DefaultCode)
        .extension(checks.clone())
        .extension(context::PerRequest)
        .extension(inputs::Deadline)
        .finish();
    let fast = || {
        build()
            .limit_complexity(MAX_COMPLEXITY)
            .limit_depth(MAX_DEPTH)
    };
    let api = Api {
        fast: fast().finish(),
        trusted: fast().validation_mode(ValidationMode::Fast).finish(),
        full,
        checks,
        deadline,
    };
    let _ = cell.set(api.clone());
    api
}

/// The schema in SDL, as `schema.graphql` holds it.
pub fn sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::Subscription,
    )
    .directive(personal::PersonalDataDirective)
    .finish()
    .sdl()
}

//! Data locks: a named evaluation result stored with its cut-offs, the query that made it and
//! its digest, so a report can cite it and anyone can run the query again. A re-run at the same
//! cut-offs gives the same answer, except where people have since withdrawn their consent to
//! evaluation use: the lock keeps the cited result and says how many did.

use async_graphql::{Context, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use roadback_domain::CutOff;
use roadback_domain::access::Action;
use roadback_domain::vocabulary::ConsentScope;
use roadback_store::directory::EvaluationLock;
use uuid::Uuid;

use super::EVALUATION_LOAD;
use super::analysis::{CutOffInput, CutOffView};
use crate::auth::Session;
use crate::context::{guard, state};
use crate::error::ApiError;

/// Longest selection a lock stores, in characters.
const MAX_SELECTION: usize = 20_000;

/// What to lock.
#[derive(InputObject)]
pub struct LockEvaluationInput {
    /// The lock's name, for citing it: 1 to 80 letters, digits and `-_. `.
    pub name: String,
    /// The cut-offs (default: the records as they stand now).
    pub cut_off: Option<CutOffInput>,
    /// The fields of `evaluation` to compute and keep, as GraphQL, e.g.
    /// `{ results(breakdown: COUNTRY) { total { assisted { value } } } }`.
    pub selection: String,
}

/// A data lock.
pub struct LockView {
    lock: EvaluationLock,
}

/// Running a lock's query again at its cut-offs.
#[derive(SimpleObject)]
pub struct LockRerun {
    /// The result now.
    pub result: Json<serde_json::Value>,
    /// Its SHA-256.
    pub digest: String,
    /// True when it is the locked result, byte for byte.
    pub matches: bool,
    /// People in the research data at the lock's cut-offs who have since withdrawn their
    /// consent to evaluation use (they are never in record-level data again; aggregates cited
    /// from the lock stand).
    pub withdrawn_since: i64,
}

/// A data lock: a cited evaluation result.
#[Object]
impl LockView {
    /// Its name.
    async fn name(&self) -> &str {
        &self.lock.name
    }

    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.lock.created_at
    }

    /// Who made it.
    async fn created_by(&self) -> Uuid {
        self.lock.created_by
    }

    /// Its cut-offs.
    async fn cut_off(&self) -> CutOffView {
        CutOffView {
            valid_on: self.lock.valid_on,
            recorded_at: self.lock.recorded_at,
        }
    }

    /// The selection of `evaluation` it answers.
    async fn selection(&self) -> &str {
        &self.lock.selection
    }

    /// The locked result, as computed when it was made.
    async fn result(&self) -> Result<Json<serde_json::Value>, ApiError> {
        serde_json::from_str(&self.lock.result)
            .map(Json)
            .map_err(|e| ApiError::Internal(format!("a stored lock does not read: {e}")))
    }

    /// SHA-256 of the locked result (its canonical JSON), hexadecimal: cite it.
    async fn digest(&self) -> &str {
        &self.lock.digest
    }

    /// The query run again at the lock's cut-offs, compared with the locked result.
    #[graphql(complexity = "child_complexity + EVALUATION_LOAD")]
    async fn rerun(&self, ctx: &Context<'_>) -> Result<LockRerun, ApiError> {
        let session = guard(ctx, Action::ReadEvaluation, None)?;
        let cut = CutOff {
            valid: Some(self.lock.valid_on),
            recorded: Some(self.lock.recorded_at),
        };
        let (result, digest) = run(ctx, session, cut, &self.lock.selection).await?;
        Ok(LockRerun {
            matches: digest == self.lock.digest,
            result: Json(serde_json::from_str(&result).unwrap_or_default()),
            digest,
            withdrawn_since: withdrawn_since(ctx, session, cut).await? as i64,
        })
    }
}

/// Runs `selection` of `evaluation` at `cut` as the caller; its canonical JSON and digest.
async fn run(
    ctx: &Context<'_>,
    session: &Session,
    cut: CutOff,
    selection: &str,
) -> Result<(String, String), ApiError> {
    let schema = state(ctx)
        .schema
        .get()
        .ok_or_else(|| ApiError::Internal("the schema is not ready".into()))?;
    let query = format!(
        "query Lock($valid: NaiveDate!, $recorded: DateTime!) {{ evaluation(cutOff: {{ validOn: $valid, recordedAt: $recorded }}) {selection} }}"
    );
    let variables = serde_json::json!({
        "valid": cut.valid,
        "recorded": cut.recorded,
    });
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables))
        .data(session.clone())
        .data(crate::loaders::new_user_loader(state(ctx).store.clone()));
    let response = schema.execute(request).await;
    if let Some(error) = response.errors.first() {
        return Err(ApiError::invalid(
            "selection",
            format!("the selection does not run: {}", error.message),
        ));
    }
    let data = response.data.into_json().unwrap_or_default();
    let result = serde_json::to_string(&data["evaluation"]).unwrap_or_default();
    let digest = crate::auth::sha256_hex(&result);
    Ok((result, digest))
}

/// People with consent to evaluation use at `cut` who no longer have it, in the caller's
/// scope.
async fn withdrawn_since(
    ctx: &Context<'_>,
    session: &Session,
    cut: CutOff,
) -> Result<usize, ApiError> {
    let state = state(ctx);
    let _turn = state
        .heavy
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::Unavailable)?;
    let histories = roadback_store::records::histories(&state.store, 10_000, |_, _| {}).await?;
    let organisation = (session.principal.role != roadback_domain::access::Role::Evaluator)
        .then_some(session.user.organisation);
    let today = cut.until(Utc::now().date_naive());
    Ok(histories
        .iter()
        .filter(|h| {
            h.outcome_at(cut, today).is_some_and(|o| {
                o.evaluation_consent && organisation.is_none_or(|org| o.organisation == org)
            }) && !h.now().has_consent(ConsentScope::EvaluationUse)
        })
        .count())
}

/// Reading data locks.
#[derive(Default)]
pub struct LockQuery;

#[Object]
impl LockQuery {
    /// A data lock of your organisation, by name (null when there is none).
    async fn evaluation_lock(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its name.")] name: String,
    ) -> Result<Option<LockView>, ApiError> {
        let session = guard(ctx, Action::ReadEvaluation, None)?;
        Ok(state(ctx)
            .store
            .evaluation_lock(session.user.organisation, &name)
            .await?
            .map(|lock| LockView { lock }))
    }

    /// Your organisation's data locks, newest first.
    async fn evaluation_locks(&self, ctx: &Context<'_>) -> Result<Vec<LockView>, ApiError> {
        let session = guard(ctx, Action::ReadEvaluation, None)?;
        Ok(state(ctx)
            .store
            .evaluation_locks(session.user.organisation)
            .await?
            .into_iter()
            .map(|lock| LockView { lock })
            .collect())
    }
}

/// Making data locks.
#[derive(Default)]
pub struct LockMutation;

#[Object]
impl LockMutation {
    /// Computes a selection of `evaluation` at fixed cut-offs and keeps it under a name, with
    /// its digest, for a report to cite; written to the access log.
    async fn lock_evaluation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to lock.")] input: LockEvaluationInput,
    ) -> Result<LockView, ApiError> {
        let session = guard(ctx, Action::ReadEvaluation, None)?;
        let name = input.name.trim().to_string();
        if name.is_empty()
            || name.chars().count() > 80
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || " -_.".contains(c))
        {
            return Err(ApiError::invalid(
                "name",
                "a lock's name is 1 to 80 letters, digits, spaces and -_.",
            ));
        }
        let selection = input.selection.trim().to_string();
        if !selection.starts_with('{')
            || !selection.ends_with('}')
            || selection.chars().count() > MAX_SELECTION
        {
            return Err(ApiError::invalid(
                "selection",
                format!(
                    "a selection of evaluation's fields in braces, at most {MAX_SELECTION} characters"
                ),
            ));
        }
        let cut = CutOffInput::resolve(input.cut_off, Utc::now())?;
        let (result, digest) = run(ctx, session, cut, &selection).await?;
        let lock = EvaluationLock {
            name,
            organisation: session.user.organisation,
            created_by: session.user.id,
            created_at: Utc::now(),
            valid_on: cut.valid.unwrap_or_default(),
            recorded_at: cut.recorded.unwrap_or_default(),
            selection,
            result,
            digest,
        };
        let store = &state(ctx).store;
        store.create_evaluation_lock(&lock).await?;
        store
            .log_access(
                session.user.id,
                session.user.organisation,
                None,
                "LOCK_EVALUATION",
                &format!("data lock {:?} (SHA-256 {})", lock.name, lock.digest),
            )
            .await?;
        Ok(LockView { lock })
    }
}

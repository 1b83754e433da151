//! Evaluation data: de-identified outcomes of the people whose consent to evaluation use was in
//! force at a cut-off.

pub mod analysis;

use async_graphql::{Context, Object, SimpleObject};
use roadback_domain::access::Action;
use roadback_domain::projection::AsOf;
use roadback_store::read_models::PlanFilter;
use uuid::Uuid;

use crate::STREAM_READ;
use crate::assessments::Outcome;
use crate::context::{guard, load_history, state, today};
use crate::error::ApiError;
use crate::vocabulary::{
    AsOfInput, FormOfExploitation, Gender, MAX_PAGE, PageInfo, cursor, page_size, parse_cursor,
};

/// One beneficiary's outcome, de-identified, for evaluation: only people whose consent to
/// evaluation use was in force at the cut-off appear.
#[derive(SimpleObject)]
pub struct EvaluationRecord {
    /// A stable pseudonym (not the record's id).
    pub pseudonym: String,
    /// The assisting organisation.
    pub organisation_id: Uuid,
    /// Country of assistance.
    pub country_of_assistance: String,
    /// Citizenship.
    pub citizenship: String,
    /// Gender.
    pub gender: Gender,
    /// Age in years when identified, if known.
    pub age_at_identification: Option<i32>,
    /// True for a trafficked person, false for a family member.
    pub primary: bool,
    /// Forms of exploitation.
    pub forms_of_exploitation: Vec<FormOfExploitation>,
    /// The longitudinal outcome as of the cut-off.
    pub outcome: Outcome,
}

/// A page of evaluation records.
#[derive(SimpleObject)]
pub struct EvaluationPage {
    /// The records of this page (people without consent at the cut-off are left out).
    pub records: Vec<EvaluationRecord>,
    /// Whether more follow.
    pub page_info: PageInfo,
}

/// The kind of cursor of evaluation pages.
const EVALUATION: &str = "evaluation";

/// A cut-off in words, for the access log.
fn describe(as_of: AsOf) -> String {
    match as_of {
        AsOf::Now => "now".into(),
        AsOf::ValidTime(day) => format!("valid on {day}"),
        AsOf::RecordedTime(at) => format!("recorded at {}", at.to_rfc3339()),
    }
}

/// What loading everyone's history for the evaluation engine weighs, in fields: at most two
/// such loads in a request.
pub const EVALUATION_LOAD: usize = 2_000;

/// De-identified outcomes for evaluation.
#[derive(Default)]
pub struct EvaluationQuery;

#[Object]
impl EvaluationQuery {
    /// The evaluation engine at explicit cut-offs: program results (everyone assisted, counts
    /// only, small counts withheld) and survival and competing-outcome curves (only people
    /// whose consent to evaluation use was in force at the cut-off). Evaluators see the whole
    /// program, supervisors their organisation. The same cut-offs give the same answer,
    /// whatever is recorded later; each call is written to the access log.
    #[graphql(complexity = "child_complexity + EVALUATION_LOAD")]
    async fn evaluation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cut-offs (default: the records as they stand now).")] cut_off: Option<
            analysis::CutOffInput,
        >,
    ) -> Result<analysis::Evaluation, ApiError> {
        let session = guard(ctx, Action::ReadEvaluation, None)?;
        let state = state(ctx);
        let cut = analysis::CutOffInput::resolve(cut_off, chrono::Utc::now())?;
        // Every history is read and replayed: a few such requests at a time.
        let turn = state
            .heavy
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        let histories = roadback_store::records::histories(&state.store, 10_000).await?;
        let organisation = (session.principal.role != roadback_domain::access::Role::Evaluator)
            .then_some(session.user.organisation);
        let outcomes = analysis::outcomes_at(&histories, cut, organisation);
        let view = analysis::CutOffView {
            valid_on: cut.valid.unwrap_or_default(),
            recorded_at: cut.recorded.unwrap_or_default(),
        };
        state
            .store
            .log_access(
                session.user.id,
                session.user.organisation,
                None,
                "READ_EVALUATION",
                &format!(
                    "evaluation engine: {} people ({} with consent to evaluation use), cut-off valid on {} as recorded at {}",
                    outcomes.len(),
                    outcomes.iter().filter(|o| o.evaluation_consent).count(),
                    view.valid_on,
                    view.recorded_at.to_rfc3339()
                ),
            )
            .await?;
        Ok(analysis::Evaluation {
            cut: view,
            outcomes,
            _turn: Some(turn),
        })
    }

    /// De-identified outcomes for evaluation, as of a cut-off (now when absent): evaluators see
    /// the whole program, supervisors their organisation. Only people whose consent to
    /// evaluation use was in force at the cut-off are included; withdrawing it removes them
    /// from every later cut-off at once.
    #[graphql(
        complexity = "(first.unwrap_or(50).clamp(1, MAX_PAGE) as usize) * (child_complexity + STREAM_READ)"
    )]
    async fn evaluation_records(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cut-off, in valid or recorded time.")] as_of: Option<AsOfInput>,
        #[graphql(desc = "How many people to consider (1 to 100; 50 when absent).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The cursor of the last page.")] after: Option<String>,
    ) -> Result<EvaluationPage, ApiError> {
        let session = guard(ctx, Action::ReadEvaluation, None)?;
        let as_of = AsOfInput::resolve(as_of)?;
        let limit = page_size(first, 50)?;
        let state = state(ctx);
        let secret = state.secret().await?;
        let after = after
            .as_deref()
            .map(|c| parse_cursor(secret, EVALUATION, c))
            .transpose()?;
        let filter = PlanFilter {
            organisation: (session.principal.role != roadback_domain::access::Role::Evaluator)
                .then_some(session.user.organisation),
            ..PlanFilter::default()
        };
        // A page replays up to a hundred histories: a few such requests at a time.
        let _turn = state
            .heavy
            .acquire()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        let store = &state.store;
        let mut plans = store.plans_page(&filter, after, limit + 1).await?;
        let has_next_page = plans.len() > limit;
        plans.truncate(limit);
        let mut records = Vec::new();
        for plan in &plans {
            let Some(history) = load_history(store, plan.beneficiary_id).await? else {
                continue;
            };
            let Some(outcome) = history.outcome(as_of, today()) else {
                continue;
            };
            if !outcome.evaluation_consent {
                continue;
            }
            records.push(EvaluationRecord {
                pseudonym: secret.pseudonym(plan.beneficiary_id),
                organisation_id: outcome.organisation,
                country_of_assistance: outcome.country_of_assistance.to_string(),
                citizenship: outcome.citizenship.to_string(),
                gender: outcome.gender.into(),
                age_at_identification: outcome.age_at_identification,
                primary: outcome.primary,
                forms_of_exploitation: outcome
                    .forms_of_exploitation
                    .iter()
                    .map(|f| (*f).into())
                    .collect(),
                outcome: Outcome::from(&outcome),
            });
        }
        // Who pulled evaluation data, when, and how much: one row per page.
        store
            .log_access(
                session.user.id,
                session.user.organisation,
                None,
                "READ_EVALUATION",
                &format!(
                    "evaluation records: {} people (pseudonymised) of {} considered, cut-off {}",
                    records.len(),
                    plans.len(),
                    describe(as_of)
                ),
            )
            .await?;
        Ok(EvaluationPage {
            records,
            page_info: PageInfo {
                has_next_page,
                end_cursor: plans.last().map(|p| cursor(secret, EVALUATION, p)),
            },
        })
    }
}

//! Queries: the signed-in user, the directory, beneficiaries (a cursor connection and one by
//! one, with plan, timeline, consents, assessments and outcome, each as of a moment), the
//! caseload and the access log.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};
use roadback_domain::access::{Action, RecordOwner};
use roadback_domain::projection::{History, Plan};
use roadback_store::read_models::PlanFilter;
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::context::{guard, load_history, log_access, state, today};
use crate::error::ApiError;
use crate::types::*;

/// Largest page a list returns.
pub const MAX_PAGE: i32 = 100;

/// Checks a page size.
pub fn page_size(first: Option<i32>, default: i32) -> Result<usize, ApiError> {
    match first.unwrap_or(default) {
        n @ 1..=MAX_PAGE => Ok(n as usize),
        _ => Err(ApiError::invalid(
            "first",
            format!("ask for 1 to {MAX_PAGE} items at a time"),
        )),
    }
}

/// A beneficiary's record. Its history is read from the log once per request, when a field
/// needs it, and that read is written to the access log.
pub struct Beneficiary {
    /// The current plan (from the read model in lists, from the log for one record).
    pub plan: Plan,
    /// Why the record is read, for the access log.
    pub purpose: String,
    history: OnceCell<Arc<History>>,
}

impl Beneficiary {
    /// A record whose history is read when needed.
    pub fn new(plan: Plan, purpose: String) -> Self {
        Self {
            plan,
            purpose,
            history: OnceCell::new(),
        }
    }

    /// A record whose history was read already (and logged).
    pub fn with_history(plan: Plan, history: Arc<History>, purpose: String) -> Self {
        Self {
            plan,
            purpose,
            history: OnceCell::from(history),
        }
    }

    async fn history(&self, ctx: &Context<'_>) -> Result<Arc<History>, ApiError> {
        let history = self
            .history
            .get_or_try_init(|| async {
                log_access(ctx, self.plan.beneficiary_id, "READ_RECORD", &self.purpose).await?;
                load_history(&state(ctx).store, self.plan.beneficiary_id)
                    .await?
                    .map(Arc::new)
                    .ok_or_else(|| ApiError::NotFound("this beneficiary".into()))
            })
            .await?;
        Ok(history.clone())
    }
}

/// A beneficiary's record: registration, plan, timeline, consents, assessments and outcome.
#[Object]
impl Beneficiary {
    /// The beneficiary's id.
    async fn id(&self) -> Uuid {
        self.plan.beneficiary_id
    }

    /// The organisation's case code.
    async fn case_code(&self) -> &str {
        &self.plan.case_code
    }

    /// The assisting organisation's id.
    async fn organisation_id(&self) -> Uuid {
        self.plan.organisation
    }

    /// The record's version (send it as `expectedVersion` with the next change).
    async fn version(&self) -> u64 {
        self.plan.version
    }

    /// The reintegration status.
    async fn status(&self) -> Status {
        self.plan.status.into()
    }

    /// True while the case is closed.
    async fn closed(&self) -> bool {
        self.plan.closed
    }

    /// The next plan review.
    async fn next_review_on(&self) -> Option<chrono::NaiveDate> {
        self.plan.next_review_on
    }

    /// True when the review was due before today and the case is open.
    async fn review_overdue(&self) -> bool {
        self.plan.review_overdue(today())
    }

    /// True once the person's personal data was erased (the history stays, de-identified).
    async fn erased(&self) -> bool {
        self.plan.erased
    }

    /// The person's identifying details, from the encrypted vault: for roles allowed to see
    /// personal data (and tokens with the `PERSONAL_DATA` scope); null once erased. Each read
    /// is written to the access log.
    #[graphql(directive = crate::personal::personalData::apply())]
    async fn personal_data(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::personal::PersonalDataView>, ApiError> {
        guard(
            ctx,
            Action::ReadPersonalData,
            Some(&RecordOwner::of(&self.plan)),
        )?;
        log_access(
            ctx,
            self.plan.beneficiary_id,
            "READ_PERSONAL_DATA",
            &self.purpose,
        )
        .await?;
        match state(ctx).vault.get(self.plan.beneficiary_id).await? {
            roadback_store::vault::Personal::Data(data) => Ok(Some(data.into())),
            _ => Ok(None),
        }
    }

    /// The registration facts.
    async fn registration(&self, ctx: &Context<'_>) -> Result<Option<Registration>, ApiError> {
        let history = self.history(ctx).await?;
        Ok(history
            .case(roadback_domain::AsOf::Now)
            .registration
            .as_ref()
            .map(Registration::from))
    }

    /// The individual reintegration plan, now or as of a moment.
    async fn plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A moment in valid or recorded time; now when absent.")] as_of: Option<
            AsOfInput,
        >,
    ) -> Result<Option<PlanView>, ApiError> {
        let as_of = AsOfInput::resolve(as_of)?;
        if as_of == roadback_domain::AsOf::Now {
            return Ok(Some(PlanView::from(&self.plan)));
        }
        Ok(self
            .history(ctx)
            .await?
            .plan(as_of)
            .as_ref()
            .map(PlanView::from))
    }

    /// The timeline in the order things happened, now or as of a moment: the latest `last`
    /// entries (at most 500).
    #[graphql(complexity = "(last.clamp(1, 500) as usize) * child_complexity")]
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A moment in valid or recorded time; now when absent.")] as_of: Option<
            AsOfInput,
        >,
        #[graphql(default = 50, desc = "How many of the latest entries (1 to 500).")] last: i32,
    ) -> Result<Vec<TimelineItem>, ApiError> {
        if !(1..=500).contains(&last) {
            return Err(ApiError::invalid("last", "ask for 1 to 500 entries"));
        }
        let as_of = AsOfInput::resolve(as_of)?;
        let timeline = self.history(ctx).await?.timeline(as_of);
        let skip = timeline.entries.len().saturating_sub(last as usize);
        Ok(timeline.entries[skip..]
            .iter()
            .map(TimelineItem::from)
            .collect())
    }

    /// Consents in force, now or as of a moment.
    async fn consents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A moment in valid or recorded time; now when absent.")] as_of: Option<
            AsOfInput,
        >,
    ) -> Result<Vec<Consent>, ApiError> {
        let as_of = AsOfInput::resolve(as_of)?;
        let case = self.history(ctx).await?.case(as_of);
        Ok(case.consents.values().map(Consent::from).collect())
    }

    /// Monitoring assessments in the order they were made, now or as of a moment.
    async fn assessments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A moment in valid or recorded time; now when absent.")] as_of: Option<
            AsOfInput,
        >,
    ) -> Result<Vec<Assessment>, ApiError> {
        let as_of = AsOfInput::resolve(as_of)?;
        Ok(self
            .history(ctx)
            .await?
            .outcome(as_of, today())
            .map(|o| Outcome::from(&o).assessments)
            .unwrap_or_default())
    }

    /// The longitudinal outcome view, now or as of a moment.
    async fn outcome(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A moment in valid or recorded time; now when absent.")] as_of: Option<
            AsOfInput,
        >,
    ) -> Result<Option<Outcome>, ApiError> {
        let as_of = AsOfInput::resolve(as_of)?;
        Ok(self
            .history(ctx)
            .await?
            .outcome(as_of, today())
            .as_ref()
            .map(Outcome::from))
    }
}

/// An item of a list of beneficiaries.
#[derive(SimpleObject)]
pub struct BeneficiaryEdge {
    /// Where it is in the list, to pass as `after`.
    pub cursor: String,
    /// The beneficiary.
    pub node: Beneficiary,
}

/// A page of beneficiaries.
#[derive(SimpleObject)]
pub struct BeneficiaryConnection {
    /// The items.
    pub edges: Vec<BeneficiaryEdge>,
    /// Whether more follow.
    pub page_info: PageInfo,
    /// How many match the filter in all.
    pub total_count: u64,
}

/// Narrows a list of beneficiaries.
#[derive(async_graphql::InputObject, Default)]
pub struct BeneficiaryFilter {
    /// Only this status.
    pub status: Option<Status>,
    /// Only this caseworker's cases.
    pub caseworker_id: Option<Uuid>,
    /// Only open (false) or only closed (true) cases.
    pub closed: Option<bool>,
    /// Only open cases whose review is overdue.
    pub review_overdue: Option<bool>,
    /// Only case codes containing this text (any case).
    pub case_code: Option<String>,
}

/// The caseload of an organisation.
#[derive(SimpleObject)]
pub struct Caseload {
    /// Counts per caseworker.
    pub caseworkers: Vec<CaseworkerLoad>,
    /// Open cases in all.
    pub open_cases: u32,
    /// Open cases whose review is overdue.
    pub overdue_reviews: u64,
}

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

/// The pseudonym of a beneficiary in evaluation data.
fn pseudonym(id: Uuid) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest([b"roadback evaluation ".as_slice(), id.as_bytes()].concat());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

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

/// The root of queries.
pub struct Query;

fn cursor(plan: &Plan) -> String {
    format!("{}|{}", plan.beneficiary_id, plan.case_code)
}

fn parse_cursor(cursor: &str) -> Result<(String, Uuid), ApiError> {
    cursor
        .split_once('|')
        .and_then(|(id, code)| Uuid::parse_str(id).ok().map(|id| (code.to_string(), id)))
        .ok_or_else(|| ApiError::invalid("after", "this cursor is not one this API gave out"))
}

/// Reads one beneficiary's record after the access check; logs the read.
pub async fn read_beneficiary(
    ctx: &Context<'_>,
    id: Uuid,
    purpose: &str,
) -> Result<Beneficiary, ApiError> {
    let store = &state(ctx).store;
    crate::context::session(ctx)?;
    let history = load_history(store, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("this beneficiary".into()))?;
    let plan = history
        .plan(roadback_domain::AsOf::Now)
        .ok_or_else(|| ApiError::NotFound("this beneficiary".into()))?;
    guard(ctx, Action::ReadRecord, Some(&RecordOwner::of(&plan)))?;
    log_access(ctx, id, "READ_RECORD", purpose).await?;
    Ok(Beneficiary::with_history(
        plan,
        Arc::new(history),
        purpose.to_string(),
    ))
}

/// Reads: the signed-in user, the directory, beneficiaries, the caseload and the access log.
#[Object]
impl Query {
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

    /// A version of the indicator framework (the latest when no version is given).
    async fn indicator_framework(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The version; the latest when absent.")] version: Option<u32>,
    ) -> Result<IndicatorFramework, ApiError> {
        guard(ctx, Action::ReadDirectory, None)?;
        let frameworks = &state(ctx).frameworks;
        let framework = match version {
            Some(v) => frameworks.iter().find(|f| f.version == v),
            None => frameworks.iter().max_by_key(|f| f.version),
        };
        framework
            .map(IndicatorFramework::from)
            .ok_or_else(|| ApiError::NotFound("this indicator framework version".into()))
    }

    /// The organisation's beneficiaries, ordered by case code, a page at a time.
    #[graphql(complexity = "(first.unwrap_or(20).clamp(1, MAX_PAGE) as usize) * child_complexity")]
    async fn beneficiaries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (1 to 100; 20 when absent).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last item of the previous page.")] after: Option<
            String,
        >,
        #[graphql(desc = "Narrows the list.")] filter: Option<BeneficiaryFilter>,
    ) -> Result<BeneficiaryConnection, ApiError> {
        let session = guard(ctx, Action::ReadCaseload, None)?;
        let limit = page_size(first, 20)?;
        let after = after.as_deref().map(parse_cursor).transpose()?;
        let filter = filter.unwrap_or_default();
        let filter = PlanFilter {
            organisation: Some(session.user.organisation),
            status: filter.status.map(Into::into),
            caseworker: filter.caseworker_id,
            closed: filter.closed,
            review_overdue_on: filter.review_overdue.filter(|o| *o).map(|_| today()),
            case_code_contains: filter.case_code.filter(|c| !c.trim().is_empty()),
        };
        let store = &state(ctx).store;
        let mut plans = store.plans_page(&filter, after, limit + 1).await?;
        let has_next_page = plans.len() > limit;
        plans.truncate(limit);
        let total_count = store.count_plans(&filter).await?;
        Ok(BeneficiaryConnection {
            page_info: PageInfo {
                has_next_page,
                end_cursor: plans.last().map(cursor),
            },
            edges: plans
                .into_iter()
                .map(|plan| BeneficiaryEdge {
                    cursor: cursor(&plan),
                    node: Beneficiary::new(plan, "caseload list".into()),
                })
                .collect(),
            total_count,
        })
    }

    /// One beneficiary's record (the read is written to the access log with `purpose`).
    async fn beneficiary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The beneficiary's id.")] id: Uuid,
        #[graphql(
            default = "case work",
            desc = "Why the record is read (kept in the access log)."
        )]
        purpose: String,
    ) -> Result<Beneficiary, ApiError> {
        read_beneficiary(ctx, id, &purpose).await
    }

    /// The organisation's caseload: counts per caseworker and overdue reviews.
    async fn caseload(&self, ctx: &Context<'_>) -> Result<Caseload, ApiError> {
        let session = guard(ctx, Action::ReadCaseload, None)?;
        let store = &state(ctx).store;
        let organisation = session.user.organisation;
        let counts = store.caseload_of(Some(organisation)).await?;
        let caseworkers: Vec<CaseworkerLoad> = counts
            .counts
            .iter()
            .map(|((_, caseworker), c)| CaseworkerLoad {
                caseworker_id: *caseworker,
                open_cases: c.open,
                closed_cases: c.closed,
                by_status: c
                    .by_status
                    .iter()
                    .map(|(s, n)| StatusCount {
                        status: (*s).into(),
                        cases: *n,
                    })
                    .collect(),
            })
            .collect();
        let overdue_reviews = store
            .count_plans(&PlanFilter {
                organisation: Some(organisation),
                review_overdue_on: Some(today()),
                ..PlanFilter::default()
            })
            .await?;
        Ok(Caseload {
            open_cases: caseworkers.iter().map(|c| c.open_cases).sum(),
            caseworkers,
            overdue_reviews,
        })
    }

    /// De-identified outcomes for evaluation, as of a cut-off (now when absent): evaluators see
    /// the whole program, supervisors their organisation. Only people whose consent to
    /// evaluation use was in force at the cut-off are included; withdrawing it removes them
    /// from every later cut-off at once.
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
        let after = after.as_deref().map(parse_cursor).transpose()?;
        let filter = PlanFilter {
            organisation: (session.principal.role != roadback_domain::access::Role::Evaluator)
                .then_some(session.user.organisation),
            ..PlanFilter::default()
        };
        let store = &state(ctx).store;
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
                pseudonym: pseudonym(plan.beneficiary_id),
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
        Ok(EvaluationPage {
            records,
            page_info: PageInfo {
                has_next_page,
                end_cursor: plans.last().map(cursor),
            },
        })
    }

    /// The organisation's access log, newest first (administrators).
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

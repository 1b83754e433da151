//! Beneficiaries: the record (registration, plan, timeline, consents, assessments, outcome and
//! personal data, each as of a moment), the list and one record, the caseload, and registering.

mod registration;

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Object, SimpleObject};
use chrono::NaiveDate;
use roadback_domain::access::{Action, RecordOwner};
use roadback_domain::projection::{CaseloadEntry, History, Plan};
use roadback_store::read_models::PlanFilter;
use tokio::sync::OnceCell;
use uuid::Uuid;

pub use registration::{
    BeneficiaryMutation, RegisterBeneficiaryInput, Registration, RegistrationFields,
};

use crate::STREAM_READ;
use crate::assessments::{Assessment, Outcome};
use crate::consent::Consent;
use crate::context::{guard, log_access, state, today};
use crate::error::ApiError;
use crate::loaders::user_name;
use crate::personal::PersonalDataView;
use crate::plan::PlanView;
use crate::vocabulary::{
    AsOfInput, MAX_PAGE, PageInfo, Status, TimelineItem, cursor, page_size, parse_cursor,
};

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
                let state = state(ctx);
                state
                    .histories
                    .load(&state.store, self.plan.beneficiary_id)
                    .await?
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
    async fn next_review_on(&self) -> Option<NaiveDate> {
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
    async fn personal_data(&self, ctx: &Context<'_>) -> Result<Option<PersonalDataView>, ApiError> {
        crate::personal::read(ctx, &self.plan, &self.purpose).await
    }

    /// The registration facts.
    #[graphql(complexity = "child_complexity + STREAM_READ")]
    async fn registration(&self, ctx: &Context<'_>) -> Result<Option<Registration>, ApiError> {
        let history = self.history(ctx).await?;
        Ok(history.now().registration.as_ref().map(Registration::from))
    }

    /// The individual reintegration plan, now or as of a moment.
    #[graphql(complexity = "child_complexity + STREAM_READ")]
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
    #[graphql(complexity = "(last.clamp(1, 500) as usize) * child_complexity + STREAM_READ")]
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
    #[graphql(complexity = "child_complexity + STREAM_READ")]
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
    #[graphql(complexity = "child_complexity + STREAM_READ")]
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
    #[graphql(complexity = "child_complexity + STREAM_READ")]
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

/// One caseworker's counts.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct CaseworkerLoad {
    /// The caseworker (their id).
    pub caseworker_id: Uuid,
    /// Open cases.
    pub open_cases: u32,
    /// Closed cases.
    pub closed_cases: u32,
    /// Open cases by status.
    pub by_status: Vec<StatusCount>,
}

#[ComplexObject]
impl CaseworkerLoad {
    /// The caseworker's name.
    async fn caseworker_name(&self, ctx: &Context<'_>) -> Result<Option<String>, ApiError> {
        user_name(ctx, self.caseworker_id).await
    }
}

/// Open cases in one status.
#[derive(SimpleObject, Clone, Debug)]
pub struct StatusCount {
    /// The status.
    pub status: Status,
    /// Open cases in it.
    pub cases: u32,
}

/// One case in a caseworker's list.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct CaseloadItem {
    /// The beneficiary.
    pub beneficiary_id: Uuid,
    /// The organisation's case code.
    pub case_code: String,
    /// The caseworker responsible (their id).
    pub caseworker_id: Uuid,
    /// The reintegration status.
    pub status: Status,
    /// True while closed.
    pub closed: bool,
    /// The next plan review.
    pub next_review_on: Option<NaiveDate>,
    /// True when the review was due before today and the case is open.
    pub review_overdue: bool,
    /// The latest day anything happened.
    pub last_activity_on: NaiveDate,
}

#[ComplexObject]
impl CaseloadItem {
    /// The caseworker's name.
    async fn caseworker_name(&self, ctx: &Context<'_>) -> Result<Option<String>, ApiError> {
        user_name(ctx, self.caseworker_id).await
    }
}

impl CaseloadItem {
    /// The item of a caseload entry, with "overdue" judged against `today`.
    pub fn of(e: &CaseloadEntry, today: NaiveDate) -> Self {
        Self {
            beneficiary_id: e.beneficiary_id,
            case_code: e.case_code.clone(),
            caseworker_id: e.caseworker,
            status: e.status.into(),
            closed: e.closed,
            next_review_on: e.next_review_on,
            review_overdue: e.review_overdue(today),
            last_activity_on: e.last_activity_on,
        }
    }
}

/// The longest purpose of a read (it goes to the access log, which keeps everything).
pub const MAX_PURPOSE_CHARS: usize = 200;
/// The longest case-code filter (no case code is longer than 40 characters).
pub const MAX_FILTER_CHARS: usize = 40;

/// Reads one beneficiary's record after the access check; logs the read.
pub async fn read_beneficiary(
    ctx: &Context<'_>,
    id: Uuid,
    purpose: &str,
) -> Result<Beneficiary, ApiError> {
    let store = &state(ctx).store;
    crate::context::session(ctx)?;
    if purpose.chars().count() > MAX_PURPOSE_CHARS {
        return Err(ApiError::invalid(
            "purpose",
            format!("say why in at most {MAX_PURPOSE_CHARS} characters"),
        ));
    }
    let history = state(ctx)
        .histories
        .load(store, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("this beneficiary".into()))?;
    let plan = history
        .plan(roadback_domain::AsOf::Now)
        .ok_or_else(|| ApiError::NotFound("this beneficiary".into()))?;
    guard(ctx, Action::ReadRecord, Some(&RecordOwner::of(&plan)))?;
    log_access(ctx, id, "READ_RECORD", purpose).await?;
    Ok(Beneficiary::with_history(
        plan,
        history,
        purpose.to_string(),
    ))
}

/// The kind of cursor of the beneficiary list.
const CASELOAD: &str = "beneficiaries";

/// Beneficiaries: the list, one record, the caseload.
#[derive(Default)]
pub struct BeneficiaryQuery;

#[Object]
impl BeneficiaryQuery {
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
        let secret = state(ctx).secret().await?;
        let after = after
            .as_deref()
            .map(|c| parse_cursor(secret, CASELOAD, c))
            .transpose()?;
        let filter = filter.unwrap_or_default();
        if filter
            .case_code
            .as_ref()
            .is_some_and(|c| c.chars().count() > MAX_FILTER_CHARS)
        {
            return Err(ApiError::invalid(
                "caseCode",
                format!("a case code has at most {MAX_FILTER_CHARS} characters"),
            ));
        }
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
                end_cursor: plans.last().map(|p| cursor(secret, CASELOAD, p)),
            },
            edges: plans
                .into_iter()
                .map(|plan| BeneficiaryEdge {
                    cursor: cursor(secret, CASELOAD, &plan),
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
}

//! What every resource shares: the domain's vocabularies as remote enums (all of them here, so
//! the domain crate stays free of GraphQL and a change of vocabulary touches one file), the
//! moment a view is computed for, paging, a mutation's result and the timeline's entries.

use std::borrow::Cow;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{
    ContextSelectionSet, Enum, InputObject, Json, OutputType, Positioned, ServerResult,
    SimpleObject, Value,
};
use chrono::{DateTime, NaiveDate, Utc};
use roadback_domain::projection::{self, AsOf, Plan, TimelineEntry};
use roadback_store::vault::DeploymentSecret;
use uuid::Uuid;

use crate::error::ApiError;

/// Where a beneficiary stands in their reintegration.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::status::Status",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum Status {
    /// Identified as a trafficked person; assistance not yet started.
    Identified,
    /// Receiving immediate protection and care.
    InCrisisCare,
    /// Leaving crisis care: stabilising, preparing to live independently or with family.
    InTransition,
    /// Living in the community with services towards the plan's goals.
    Reintegrating,
    /// Reintegration achieved.
    Reintegrated,
    /// Left the program by their own decision.
    DroppedOut,
    /// No contact for the program's defined period (censored, not failed).
    LostContact,
    /// Trafficked again.
    ReTrafficked,
    /// Moved to another country, outside the program's reach.
    MovedAbroad,
    /// Died.
    Deceased,
}

/// Gender (HTCDS).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::vocabulary::Gender",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum Gender {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Transgender or gender non-conforming.
    TransgenderNonConforming,
    /// Not known or not disclosed.
    Unknown,
}

/// A form of exploitation suffered while trafficked.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::vocabulary::FormOfExploitation",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum FormOfExploitation {
    /// Sexual exploitation.
    SexualExploitation,
    /// Forced labour.
    LabourExploitation,
    /// Forced begging.
    Begging,
    /// Forced criminality.
    ForcedCriminality,
    /// Forced or servile marriage.
    ForcedMarriage,
    /// Another form.
    Other,
}

/// How a person came to the program.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::vocabulary::IdentificationRoute",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum IdentificationRoute {
    /// Police or another law enforcement body.
    LawEnforcement,
    /// The organisation's own outreach.
    Outreach,
    /// Came forward on their own.
    SelfReferral,
    /// Another NGO or a service.
    Ngo,
    /// A government agency or the national referral mechanism.
    Government,
    /// Returned from abroad through an international organisation.
    InternationalOrganisation,
    /// Family or friends.
    FamilyOrFriends,
    /// Other.
    Other,
}

/// A secondary beneficiary's relation to the primary beneficiary.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::vocabulary::Relationship",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum Relationship {
    /// Their child.
    Child,
    /// Their parent.
    Parent,
    /// Their brother or sister.
    Sibling,
    /// Their spouse or partner.
    Partner,
    /// Another family member.
    OtherFamily,
}

/// A reintegration domain of the plan and the monitoring framework.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::vocabulary::ReintegrationDomain",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum ReintegrationDomain {
    /// Physical safety and security.
    Safety,
    /// Legal status, documents, court proceedings.
    LegalStatus,
    /// Housing and standard of living.
    Housing,
    /// Income, work and economic situation.
    EconomicSituation,
    /// Education, training and skills.
    EducationAndSkills,
    /// Physical health.
    PhysicalHealth,
    /// Mental well-being.
    MentalWellbeing,
    /// Family and social relations.
    FamilyAndSocialRelations,
}

/// Who gave or withdrew consent.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::vocabulary::ConsentGiver",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum ConsentGiver {
    /// The beneficiary themself.
    Beneficiary,
    /// A parent or legal guardian, for a child.
    Guardian,
}

/// How consent was evidenced.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::events::ConsentEvidence",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum ConsentEvidence {
    /// A signed consent form, kept on file.
    SignedForm,
    /// Given orally in front of a witness, and noted.
    WitnessedVerbal,
    /// Given electronically.
    Electronic,
}

/// A kind of service from the program's service catalogue.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::events::ServiceType",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum ServiceType {
    /// Shelter or other accommodation.
    Accommodation,
    /// Medical care.
    Medical,
    /// Psychological support or counselling.
    Psychological,
    /// Legal assistance and representation.
    Legal,
    /// Help with administration and identity documents.
    AdministrativeDocuments,
    /// Schooling or education.
    Education,
    /// Vocational training.
    VocationalTraining,
    /// Help finding and keeping a job.
    JobPlacement,
    /// A grant to start a small business.
    BusinessStartUpGrant,
    /// Work in a social enterprise.
    SocialEnterpriseWork,
    /// Mediation with the family.
    FamilyMediation,
    /// Cash or in-kind financial support.
    FinancialSupport,
    /// Child care.
    ChildCare,
    /// Case management.
    CaseManagement,
    /// Anything else.
    Other,
}

/// Where a plan goal stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::case::GoalState",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum GoalState {
    /// Agreed and being worked on.
    Open,
    /// Reached.
    Achieved,
    /// Given up.
    Abandoned,
}

/// Where a service stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::case::ServiceState",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum ServiceState {
    /// Planned, nothing delivered yet.
    Planned,
    /// Delivered at least once and not stopped.
    Delivered,
    /// Stopped.
    Discontinued,
}

/// A user's role.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::access::Role",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum Role {
    /// Manages users, tokens and settings; reads the access log; does not read case records.
    Administrator,
    /// Oversees the organisation's caseload: reads, records, reassigns and closes cases.
    Supervisor,
    /// Records and reads the organisation's cases.
    Caseworker,
    /// Works with de-identified evaluation data only.
    Evaluator,
    /// A system using API tokens.
    Integrator,
}

/// What an API token may do.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::access::Scope",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum Scope {
    /// Read beneficiaries' records and the caseload.
    Read,
    /// Record events on beneficiaries' records.
    Write,
    /// With read or write: see or record personal data (names, contacts, notes).
    PersonalData,
}

/// A moment to compute a view for: valid time (what was true on a day) or recorded time (what
/// the records said at a moment). Give at most one; neither means now.
#[derive(InputObject, Clone, Copy, Debug, Default)]
pub struct AsOfInput {
    /// What was true at the end of this day, as known now (corrections included).
    pub valid_on: Option<NaiveDate>,
    /// What the records said at this moment (later entries ignored, even backdated ones).
    pub recorded_at: Option<DateTime<Utc>>,
}

impl AsOfInput {
    /// The domain's `AsOf`.
    pub fn resolve(input: Option<AsOfInput>) -> Result<AsOf, ApiError> {
        match input.unwrap_or_default() {
            AsOfInput {
                valid_on: Some(_),
                recorded_at: Some(_),
            } => Err(ApiError::invalid(
                "asOf",
                "give either validOn or recordedAt, not both",
            )),
            AsOfInput {
                valid_on: Some(day),
                ..
            } => Ok(AsOf::ValidTime(day)),
            AsOfInput {
                recorded_at: Some(at),
                ..
            } => Ok(AsOf::RecordedTime(at)),
            _ => Ok(AsOf::Now),
        }
    }
}

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

/// Pagination of a list.
#[derive(SimpleObject, Clone, Debug)]
pub struct PageInfo {
    /// True when more items follow.
    pub has_next_page: bool,
    /// The cursor of the last item, to pass as `after`.
    pub end_cursor: Option<String>,
}

/// The cursor of a beneficiary in a `list` ordered by case code: its place sealed with the
/// deployment secret, so it reveals nothing (no id, no case code) and cannot be forged.
pub fn cursor(secret: &DeploymentSecret, list: &str, plan: &Plan) -> String {
    secret.seal_cursor(
        list,
        format!("{}|{}", plan.beneficiary_id, plan.case_code).as_bytes(),
    )
}

/// The case code and id a cursor of `list` points after.
pub fn parse_cursor(
    secret: &DeploymentSecret,
    list: &str,
    cursor: &str,
) -> Result<(String, Uuid), ApiError> {
    secret
        .open_cursor(list, cursor)
        .and_then(|plain| String::from_utf8(plain).ok())
        .and_then(|plain| {
            let (id, code) = plain.split_once('|')?;
            Some((code.to_string(), Uuid::parse_str(id).ok()?))
        })
        .ok_or_else(|| ApiError::invalid("after", "this cursor is not one this list gave out"))
}

/// An event appended by a mutation.
#[derive(SimpleObject, Clone, Debug)]
pub struct AppendedEvent {
    /// The event's id.
    pub id: Uuid,
    /// Its version in the record.
    pub version: u64,
    /// Its place in the global log.
    pub position: u64,
    /// The event type.
    pub event_type: String,
    /// The day it happened.
    pub occurred_on: NaiveDate,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// What was recorded, in a sentence.
    pub summary: String,
    /// The payload.
    pub payload: Payload,
}

impl From<&projection::Envelope> for AppendedEvent {
    fn from(e: &projection::Envelope) -> Self {
        Self {
            id: e.id,
            version: e.version,
            position: e.position,
            event_type: e.event.type_name().to_string(),
            occurred_on: e.occurred_on,
            recorded_at: e.recorded_at,
            summary: projection::describe(&e.event),
            payload: Payload(e.event.clone()),
        }
    }
}

/// What a mutation recorded.
#[derive(SimpleObject, Clone, Debug)]
pub struct RecordResult {
    /// The beneficiary.
    pub beneficiary_id: Uuid,
    /// The record's version after the change (send it as `expectedVersion` next time).
    pub version: u64,
    /// The events appended (on a retry with the same idempotency key, the ones first appended).
    pub events: Vec<AppendedEvent>,
}

/// A correction or void of a timeline entry.
#[derive(SimpleObject, Clone, Debug)]
pub struct TimelineNote {
    /// The correcting or voiding event's id.
    pub id: Uuid,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it (user id).
    pub actor_id: Uuid,
    /// What it says.
    pub summary: String,
    /// The replacement (type and payload), for a correction.
    pub replacement: Option<Json<serde_json::Value>>,
}

/// One entry of a beneficiary's timeline.
#[derive(SimpleObject, Clone, Debug)]
pub struct TimelineItem {
    /// The event's id.
    pub id: Uuid,
    /// Its version in the record.
    pub version: u64,
    /// The day it happened.
    pub occurred_on: NaiveDate,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it (user id).
    pub actor_id: Uuid,
    /// The event type, e.g. `ServiceDelivered`.
    pub event_type: String,
    /// What was recorded, in a sentence (English; clients translate from `payload`).
    pub summary: String,
    /// The payload as first recorded.
    pub payload: Payload,
    /// True once corrected or voided.
    pub amended: bool,
    /// False once voided.
    pub counts: bool,
    /// Days between the day it happened and the day it was recorded.
    pub recorded_days_later: i64,
    /// Its corrections and voids, in the order recorded.
    pub notes: Vec<TimelineNote>,
}

/// An event's payload, as the `JSON` scalar; made into JSON only when a request asks for it
/// (a caseworker's page does not, and each entry's made a map of every field).
#[derive(Clone, Debug)]
pub struct Payload(pub(crate) roadback_domain::Event);

impl OutputType for Payload {
    fn type_name() -> Cow<'static, str> {
        <Json<serde_json::Value> as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Json<serde_json::Value> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        OutputType::resolve(&Json(self.0.payload()), ctx, field).await
    }
}

fn typed(event: &roadback_domain::Event) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "type": event.type_name(), "payload": event.payload() }))
}

impl From<&TimelineEntry> for TimelineItem {
    fn from(e: &TimelineEntry) -> Self {
        Self {
            id: e.id,
            version: e.version,
            occurred_on: e.occurred_on,
            recorded_at: e.recorded_at,
            actor_id: e.actor,
            event_type: e.event.type_name().to_string(),
            summary: e.summary.clone(),
            payload: Payload(e.event.clone()),
            amended: e.amended(),
            counts: e.current.is_some(),
            recorded_days_later: e.recorded_days_later(),
            notes: e
                .notes
                .iter()
                .map(|n| TimelineNote {
                    id: n.id,
                    recorded_at: n.recorded_at,
                    actor_id: n.actor,
                    summary: n.summary.clone(),
                    replacement: n.replacement.as_ref().map(typed),
                })
                .collect(),
        }
    }
}

//! The GraphQL types: the domain's vocabularies as enums, and views of plans, timelines,
//! outcomes, caseloads and the directory. Each type and field carries its description.

use async_graphql::{ComplexObject, Context, Enum, InputObject, Json, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use roadback_domain::events::BeneficiaryRole;
use roadback_domain::projection::{self, AsOf, CaseloadEntry, Plan, TimelineEntry};
use uuid::Uuid;

use crate::error::ApiError;
use crate::loaders::user_name;

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

/// What a consent covers (a data-sharing consent also names the organisation).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ConsentKind {
    /// Being assisted and having a case file.
    Assistance,
    /// Sharing the case with one named organisation.
    DataSharing,
    /// De-identified use in evaluation and research.
    EvaluationUse,
    /// Being contacted for follow-up after the case is closed.
    FollowUpContact,
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

/// A consent in force.
#[derive(SimpleObject, Clone, Debug)]
pub struct Consent {
    /// What it covers.
    pub kind: ConsentKind,
    /// For data sharing, the organisation it may be shared with.
    pub organisation_id: Option<Uuid>,
    /// The day it was given.
    pub since: NaiveDate,
    /// Who gave it.
    pub given_by: ConsentGiver,
}

impl From<&roadback_domain::case::ConsentInForce> for Consent {
    fn from(c: &roadback_domain::case::ConsentInForce) -> Self {
        let (kind, organisation_id) = consent_kind(&c.scope);
        Self {
            kind,
            organisation_id,
            since: c.since,
            given_by: c.given_by.into(),
        }
    }
}

/// The GraphQL kind and organisation of a consent scope.
pub fn consent_kind(
    scope: &roadback_domain::vocabulary::ConsentScope,
) -> (ConsentKind, Option<Uuid>) {
    use roadback_domain::vocabulary::ConsentScope as S;
    match scope {
        S::Assistance => (ConsentKind::Assistance, None),
        S::DataSharing { organisation } => (ConsentKind::DataSharing, Some(*organisation)),
        S::EvaluationUse => (ConsentKind::EvaluationUse, None),
        S::FollowUpContact => (ConsentKind::FollowUpContact, None),
    }
}

/// A goal of the individual reintegration plan.
#[derive(SimpleObject, Clone, Debug)]
pub struct Goal {
    /// The goal's id.
    pub id: Uuid,
    /// The domain it serves.
    pub domain: ReintegrationDomain,
    /// When it should be reached.
    pub target_on: Option<NaiveDate>,
    /// Where it stands.
    pub state: GoalState,
    /// The day it was agreed.
    pub set_on: NaiveDate,
    /// The day it was achieved or abandoned.
    pub closed_on: Option<NaiveDate>,
}

/// A service planned or delivered.
#[derive(SimpleObject, Clone, Debug)]
pub struct Service {
    /// The service's id in this case.
    pub id: Uuid,
    /// What kind of service.
    pub service: ServiceType,
    /// The providing organisation (none: an external provider).
    pub provider_id: Option<Uuid>,
    /// The goal it serves.
    pub goal_id: Option<Uuid>,
    /// Where it stands.
    pub state: ServiceState,
    /// The day it was planned.
    pub planned_on: Option<NaiveDate>,
    /// First day delivered.
    pub first_delivered_on: Option<NaiveDate>,
    /// Last day delivered.
    pub last_delivered_on: Option<NaiveDate>,
    /// Deliveries recorded.
    pub deliveries: u32,
}

/// A referral to another organisation.
#[derive(SimpleObject, Clone, Debug)]
pub struct Referral {
    /// The referral's id.
    pub id: Uuid,
    /// The receiving organisation.
    pub to_organisation_id: Uuid,
    /// The day it was made.
    pub referred_on: NaiveDate,
    /// True once accepted.
    pub accepted: bool,
}

/// The current individual reintegration plan of a beneficiary.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct PlanView {
    /// The record's version this plan reflects.
    pub version: u64,
    /// The reintegration status.
    pub status: Status,
    /// The day the status began.
    pub status_since: NaiveDate,
    /// True while the case is closed.
    pub closed: bool,
    /// The caseworker responsible (their id).
    pub caseworker_id: Uuid,
    /// Consents in force.
    pub consents: Vec<Consent>,
    /// Goals by domain.
    pub goals: Vec<Goal>,
    /// Services planned and delivered.
    pub services: Vec<Service>,
    /// Referrals to other organisations.
    pub referrals: Vec<Referral>,
    /// The next plan review.
    pub next_review_on: Option<NaiveDate>,
    /// The latest day anything happened.
    pub last_activity_on: NaiveDate,
}

#[ComplexObject]
impl PlanView {
    /// The caseworker's name.
    async fn caseworker_name(&self, ctx: &Context<'_>) -> Result<Option<String>, ApiError> {
        user_name(ctx, self.caseworker_id).await
    }
}

impl From<&Plan> for PlanView {
    fn from(p: &Plan) -> Self {
        Self {
            version: p.version,
            status: p.status.into(),
            status_since: p.status_since,
            closed: p.closed,
            caseworker_id: p.caseworker,
            consents: p.consents.iter().map(Consent::from).collect(),
            goals: p
                .goals
                .iter()
                .map(|g| Goal {
                    id: g.goal_id,
                    domain: g.goal.domain.into(),
                    target_on: g.goal.target_on,
                    state: g.goal.state.into(),
                    set_on: g.goal.set_on,
                    closed_on: g.goal.closed_on,
                })
                .collect(),
            services: p
                .services
                .iter()
                .map(|s| Service {
                    id: s.service_id,
                    service: s.service.service.into(),
                    provider_id: s.service.provider,
                    goal_id: s.service.goal_id,
                    state: s.service.state.into(),
                    planned_on: s.service.planned_on,
                    first_delivered_on: s.service.first_delivered_on,
                    last_delivered_on: s.service.last_delivered_on,
                    deliveries: s.service.deliveries,
                })
                .collect(),
            referrals: p
                .referrals
                .iter()
                .map(|r| Referral {
                    id: r.referral_id,
                    to_organisation_id: r.referral.to_organisation,
                    referred_on: r.referral.referred_on,
                    accepted: r.referral.accepted,
                })
                .collect(),
            next_review_on: p.next_review_on,
            last_activity_on: p.last_activity_on,
        }
    }
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
    pub payload: Json<serde_json::Value>,
    /// True once corrected or voided.
    pub amended: bool,
    /// False once voided.
    pub counts: bool,
    /// Days between the day it happened and the day it was recorded.
    pub recorded_days_later: i64,
    /// Its corrections and voids, in the order recorded.
    pub notes: Vec<TimelineNote>,
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
            payload: Json(e.event.payload()),
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
    pub payload: Json<serde_json::Value>,
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
            payload: Json(e.event.payload()),
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

/// One domain's score in an assessment.
#[derive(SimpleObject, Clone, Debug)]
pub struct DomainScore {
    /// The domain.
    pub domain: ReintegrationDomain,
    /// The score on the framework's scale.
    pub score: u8,
}

/// A monitoring assessment.
#[derive(SimpleObject, Clone, Debug)]
pub struct Assessment {
    /// The day it was made.
    pub on: NaiveDate,
    /// The indicator framework version scored against.
    pub framework_version: u32,
    /// The scores.
    pub scores: Vec<DomainScore>,
}

/// A status transition.
#[derive(SimpleObject, Clone, Debug)]
pub struct Transition {
    /// The day it happened.
    pub on: NaiveDate,
    /// The status before.
    pub from: Status,
    /// The status after.
    pub to: Status,
}

/// Days spent in one status.
#[derive(SimpleObject, Clone, Debug)]
pub struct StageTime {
    /// The status.
    pub status: Status,
    /// Days in it.
    pub days: i64,
}

/// Deliveries of one kind of service.
#[derive(SimpleObject, Clone, Debug)]
pub struct ServiceCount {
    /// The kind.
    pub service: ServiceType,
    /// Deliveries.
    pub deliveries: u32,
}

/// The longitudinal outcome view of a beneficiary.
#[derive(SimpleObject, Clone, Debug)]
pub struct Outcome {
    /// The day they were identified.
    pub identified_on: NaiveDate,
    /// The day they were taken into the program.
    pub intake_on: NaiveDate,
    /// The first day a service was delivered.
    pub first_service_on: Option<NaiveDate>,
    /// Every status transition, in the order they happened.
    pub transitions: Vec<Transition>,
    /// The first day they were reintegrated.
    pub reintegrated_on: Option<NaiveDate>,
    /// The first exit other than reintegration.
    pub exit_status: Option<Status>,
    /// The day of that exit.
    pub exit_on: Option<NaiveDate>,
    /// The status as of the view's day.
    pub status: Status,
    /// The day the case was closed, if it is.
    pub closed_on: Option<NaiveDate>,
    /// Days in each status.
    pub time_in_stage: Vec<StageTime>,
    /// Assessments over time.
    pub assessments: Vec<Assessment>,
    /// Deliveries by kind of service.
    pub services: Vec<ServiceCount>,
    /// Calendar months with at least one service delivered.
    pub months_of_support: u32,
    /// The day durations run to.
    pub until: NaiveDate,
}

impl From<&projection::Outcome> for Outcome {
    fn from(o: &projection::Outcome) -> Self {
        Self {
            identified_on: o.identified_on,
            intake_on: o.intake_on,
            first_service_on: o.first_service_on,
            transitions: o
                .transitions
                .iter()
                .map(|t| Transition {
                    on: t.on,
                    from: t.from.into(),
                    to: t.to.into(),
                })
                .collect(),
            reintegrated_on: o.reintegrated_on,
            exit_status: o.exit.map(|e| e.status.into()),
            exit_on: o.exit.map(|e| e.on),
            status: o.status.into(),
            closed_on: o.closed_on,
            time_in_stage: o
                .time_in_stage
                .iter()
                .map(|s| StageTime {
                    status: s.status.into(),
                    days: s.days,
                })
                .collect(),
            assessments: o
                .assessments
                .iter()
                .map(|a| Assessment {
                    on: a.on,
                    framework_version: a.framework_version,
                    scores: a
                        .scores
                        .iter()
                        .map(|s| DomainScore {
                            domain: s.domain.into(),
                            score: s.score,
                        })
                        .collect(),
                })
                .collect(),
            services: o
                .services
                .by_kind
                .iter()
                .map(|(k, n)| ServiceCount {
                    service: (*k).into(),
                    deliveries: *n,
                })
                .collect(),
            months_of_support: o.services.months_of_support,
            until: o.until,
        }
    }
}

/// The registration facts of a beneficiary (no personal data: names live in the vault).
#[derive(SimpleObject, Clone, Debug)]
pub struct Registration {
    /// The organisation's case code.
    pub case_code: String,
    /// True for a trafficked person, false for a family member.
    pub primary: bool,
    /// For a family member, the primary beneficiary.
    pub primary_beneficiary_id: Option<Uuid>,
    /// For a family member, how they are related.
    pub relationship: Option<Relationship>,
    /// Gender.
    pub gender: Gender,
    /// Year of birth, when known.
    pub birth_year: Option<i32>,
    /// Month of birth, when known.
    pub birth_month: Option<u32>,
    /// Citizenship (ISO 3166-1 alpha-2).
    pub citizenship: String,
    /// Country of assistance (ISO 3166-1 alpha-2).
    pub country_of_assistance: String,
    /// The day they were identified.
    pub identified_on: NaiveDate,
    /// How they came to the program.
    pub identification_route: IdentificationRoute,
    /// Forms of exploitation suffered.
    pub forms_of_exploitation: Vec<FormOfExploitation>,
}

impl From<&roadback_domain::events::BeneficiaryRegistered> for Registration {
    fn from(r: &roadback_domain::events::BeneficiaryRegistered) -> Self {
        let (primary_beneficiary_id, relationship) = match r.role {
            BeneficiaryRole::Primary => (None, None),
            BeneficiaryRole::Secondary {
                primary,
                relationship,
            } => (Some(primary), Some(relationship.into())),
        };
        Self {
            case_code: r.case_code.clone(),
            primary: primary_beneficiary_id.is_none(),
            primary_beneficiary_id,
            relationship,
            gender: r.gender.into(),
            birth_year: r.birth.map(|b| b.year),
            birth_month: r.birth.map(|b| b.month),
            citizenship: r.citizenship.to_string(),
            country_of_assistance: r.country_of_assistance.to_string(),
            identified_on: r.identified_on,
            identification_route: r.identification_route.into(),
            forms_of_exploitation: r
                .forms_of_exploitation
                .iter()
                .map(|f| (*f).into())
                .collect(),
        }
    }
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

/// Open cases in one status.
#[derive(SimpleObject, Clone, Debug)]
pub struct StatusCount {
    /// The status.
    pub status: Status,
    /// Open cases in it.
    pub cases: u32,
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

/// One indicator of the framework.
#[derive(SimpleObject, Clone, Debug)]
pub struct Indicator {
    /// The domain scored.
    pub domain: ReintegrationDomain,
    /// What is observed.
    pub question: String,
    /// The scale's labels from score 1 upwards.
    pub scale: Vec<String>,
    /// How the score is verified.
    pub means_of_verification: String,
}

/// A version of the indicator framework.
#[derive(SimpleObject, Clone, Debug)]
pub struct IndicatorFramework {
    /// The version.
    pub version: u32,
    /// Its name.
    pub name: String,
    /// One indicator per domain.
    pub indicators: Vec<Indicator>,
}

impl From<&roadback_domain::indicators::Framework> for IndicatorFramework {
    fn from(f: &roadback_domain::indicators::Framework) -> Self {
        Self {
            version: f.version,
            name: f.name.clone(),
            indicators: f
                .indicators
                .iter()
                .map(|i| Indicator {
                    domain: i.domain.into(),
                    question: i.question.clone(),
                    scale: i.scale.clone(),
                    means_of_verification: i.means_of_verification.clone(),
                })
                .collect(),
        }
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

//! The event catalogue: every fact that can be recorded about a beneficiary, as a past-tense
//! event with a documented meaning and a schema version.
//!
//! An event is stored as its type name, its schema version and a JSON payload; [`Event::decode`]
//! turns a stored event back into the current shape, upcasting older versions first.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::status::Status;
use crate::vocabulary::{
    Birth, ConsentGiver, ConsentScope, CountryCode, Currency, FormOfExploitation, Gender,
    IdentificationRoute, ReintegrationDomain, Relationship,
};

/// Whether the person is the trafficked person or a family member assisted with them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BeneficiaryRole {
    /// A trafficking victim assisted by the program.
    Primary,
    /// A family member assisted because of a primary beneficiary.
    Secondary {
        /// The primary beneficiary they are linked to.
        primary: Uuid,
        /// How they are related.
        relationship: Relationship,
    },
}

/// A beneficiary was registered with an organisation: the first event of every stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BeneficiaryRegistered {
    /// The beneficiary's id (the stream is `beneficiary-<id>`).
    pub beneficiary_id: Uuid,
    /// The organisation that registered and assists them.
    pub organisation: Uuid,
    /// The caseworker responsible.
    pub caseworker: Uuid,
    /// The organisation's case code (not a name: no personal data).
    pub case_code: String,
    /// Gender (HTCDS).
    pub gender: Gender,
    /// Year of birth, and month when known.
    pub birth: Option<Birth>,
    /// Citizenship (ISO 3166-1).
    pub citizenship: CountryCode,
    /// Country where assistance is given (ISO 3166-1).
    pub country_of_assistance: CountryCode,
    /// The day they were identified as trafficked.
    pub identified_on: NaiveDate,
    /// How they came to the program.
    pub identification_route: IdentificationRoute,
    /// Forms of exploitation suffered (empty for a secondary beneficiary).
    pub forms_of_exploitation: Vec<FormOfExploitation>,
    /// Primary, or secondary and linked to whom.
    pub role: BeneficiaryRole,
}

/// How consent was evidenced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentEvidence {
    /// A signed consent form, kept on file.
    SignedForm,
    /// Given orally, in front of a witness, and noted.
    WitnessedVerbal,
    /// Given electronically.
    Electronic,
}

/// Consent was given for a scope.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentGiven {
    /// What it covers.
    pub scope: ConsentScope,
    /// The person, or a guardian for a child.
    pub given_by: ConsentGiver,
    /// How it was evidenced.
    pub evidence: ConsentEvidence,
}

/// Consent for a scope was withdrawn; it stops applying at once.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentWithdrawn {
    /// What no longer is covered.
    pub scope: ConsentScope,
    /// Who withdrew it.
    pub withdrawn_by: ConsentGiver,
}

/// A goal of the individual reintegration plan was agreed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanGoalSet {
    /// The goal's id within the plan.
    pub goal_id: Uuid,
    /// The reintegration domain it serves.
    pub domain: ReintegrationDomain,
    /// When it should be reached, if agreed.
    pub target_on: Option<NaiveDate>,
}

/// A goal was revised: its domain or target date changed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanGoalRevised {
    /// The goal.
    pub goal_id: Uuid,
    /// Its domain now.
    pub domain: ReintegrationDomain,
    /// Its target date now.
    pub target_on: Option<NaiveDate>,
}

/// A goal was achieved.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanGoalAchieved {
    /// The goal.
    pub goal_id: Uuid,
}

/// A goal was given up.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanGoalAbandoned {
    /// The goal.
    pub goal_id: Uuid,
}

/// A plan review was scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewScheduled {
    /// The day it is due.
    pub due_on: NaiveDate,
}

/// The plan was reviewed with the beneficiary.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanReviewed {
    /// The next review, if one was set.
    pub next_review_on: Option<NaiveDate>,
}

/// A kind of service, from the program's service catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl ServiceType {
    /// The service in words, for summaries and messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Accommodation => "accommodation",
            Self::Medical => "medical care",
            Self::Psychological => "psychological support",
            Self::Legal => "legal assistance",
            Self::AdministrativeDocuments => "administrative and document help",
            Self::Education => "education",
            Self::VocationalTraining => "vocational training",
            Self::JobPlacement => "job placement",
            Self::BusinessStartUpGrant => "business start-up grant",
            Self::SocialEnterpriseWork => "social enterprise work",
            Self::FamilyMediation => "family mediation",
            Self::FinancialSupport => "financial support",
            Self::ChildCare => "child care",
            Self::CaseManagement => "case management",
            Self::Other => "other service",
        }
    }
}

/// An amount of money, in minor units of a currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Amount in minor units (cents), not negative.
    pub minor_units: i64,
    /// The currency.
    pub currency: Currency,
}

/// A service was planned for the beneficiary.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServicePlanned {
    /// The service's id in this case.
    pub service_id: Uuid,
    /// What kind of service.
    pub service: ServiceType,
    /// The organisation providing it (None: an external provider).
    pub provider: Option<Uuid>,
    /// The goal it serves, if any.
    pub goal_id: Option<Uuid>,
}

/// A service was delivered (over a day or a period).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceDelivered {
    /// The service's id in this case (a planned one, or new).
    pub service_id: Uuid,
    /// What kind of service.
    pub service: ServiceType,
    /// The organisation providing it (None: an external provider).
    pub provider: Option<Uuid>,
    /// First day of delivery.
    pub from: NaiveDate,
    /// Last day of delivery (None: a single day).
    pub to: Option<NaiveDate>,
    /// What it cost, if recorded.
    pub amount: Option<Money>,
    /// True for a service from before the person's identification (e.g. earlier schooling),
    /// which is then dated before the identification date and needs no consent to assistance.
    #[serde(default)]
    pub pre_program: bool,
}

/// A planned or running service was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceDiscontinued {
    /// The service.
    pub service_id: Uuid,
}

/// One domain's score in an assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainScore {
    /// The domain.
    pub domain: ReintegrationDomain,
    /// The score on the framework's scale for that domain.
    pub score: u8,
}

/// A monitoring assessment scored the reintegration domains against the indicator framework.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssessmentRecorded {
    /// The assessment's id.
    pub assessment_id: Uuid,
    /// The version of the indicator framework used.
    pub framework_version: u32,
    /// One score per assessed domain.
    pub scores: Vec<DomainScore>,
}

/// The reintegration status changed. The status before is not stored: it is whatever the
/// history, in the order things happened, says it was on that day.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusChanged {
    /// The status from that day.
    pub to: Status,
}

/// The case was referred to another organisation (which needs consent to share data with it).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferredToOrganisation {
    /// The referral's id.
    pub referral_id: Uuid,
    /// The receiving organisation.
    pub to_organisation: Uuid,
}

/// The receiving organisation accepted a referral.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferralAccepted {
    /// The referral.
    pub referral_id: Uuid,
}

/// The case was handed to another caseworker.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseTransferred {
    /// The new caseworker.
    pub to_caseworker: Uuid,
}

/// The case was closed with an outcome (the last status explains it).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseClosed {
    /// The status at closure.
    pub outcome: Status,
}

/// A closed case was opened again.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseReopened {}

/// The organisation was in contact with the person after the case was closed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FollowUpContactMade {
    /// The status observed at follow-up, if assessed.
    pub observed_status: Option<Status>,
}

/// The person's personal data was recorded or changed in the vault; the event names the fields
/// that hold a value now, never the values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonalDataRecorded {
    /// The fields holding a value after the change.
    pub fields: Vec<crate::personal::PersonalField>,
}

/// The person's personal data was erased: the vault destroyed their data key. The history
/// stays, de-identified; nothing personal can be recorded again.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonalDataErased {
    /// Why.
    pub reason: crate::personal::ErasureReason,
}

/// An earlier event of the same stream was corrected: `replacement` states what should have
/// been recorded, and `occurred_on` the day it should have been dated.
///
/// Stored as `{corrects, occurred_on, event_type, schema_version, payload}`, so a replacement
/// written in an older shape is upcast like any other event when read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "StoredCorrection", try_from = "StoredCorrection")]
pub struct EventCorrected {
    /// The corrected event's id.
    pub corrects: Uuid,
    /// The day the corrected fact happened (None, in corrections recorded before version 2:
    /// the original's day).
    pub occurred_on: Option<NaiveDate>,
    /// The corrected fact, of the same type as the original.
    pub replacement: Box<Event>,
}

#[derive(Serialize, Deserialize)]
struct StoredCorrection {
    corrects: Uuid,
    #[serde(default)]
    occurred_on: Option<NaiveDate>,
    event_type: String,
    schema_version: u32,
    payload: serde_json::Value,
}

impl From<EventCorrected> for StoredCorrection {
    fn from(c: EventCorrected) -> Self {
        Self {
            corrects: c.corrects,
            occurred_on: c.occurred_on,
            event_type: c.replacement.type_name().to_string(),
            schema_version: c.replacement.schema_version(),
            payload: c.replacement.payload(),
        }
    }
}

impl TryFrom<StoredCorrection> for EventCorrected {
    type Error = DecodeError;
    fn try_from(s: StoredCorrection) -> Result<Self, Self::Error> {
        let replacement = Event::decode_value(&s.event_type, s.schema_version, s.payload)?;
        Ok(Self {
            corrects: s.corrects,
            occurred_on: s.occurred_on,
            replacement: Box::new(replacement),
        })
    }
}

/// An earlier event of the same stream was recorded in error and no longer counts.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventVoided {
    /// The voided event's id.
    pub voids: Uuid,
}

/// Declares the catalogue once: the enum, the type names and the current schema versions.
macro_rules! catalogue {
    ($( $(#[$doc:meta])* $name:ident = $version:literal ),* $(,)?) => {
        /// Every fact Roadback records, in its current shape.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", content = "payload")]
        pub enum Event {
            $( $(#[$doc])* $name($name), )*
        }

        impl Event {
            /// Type names and current schema versions of the whole catalogue.
            pub const CATALOGUE: &'static [(&'static str, u32)] = &[$( (stringify!($name), $version), )*];

            /// The stored type name.
            pub fn type_name(&self) -> &'static str {
                match self { $( Event::$name(_) => stringify!($name), )* }
            }

            /// The current schema version of this event's type.
            pub fn schema_version(&self) -> u32 {
                match self { $( Event::$name(_) => $version, )* }
            }

            /// The payload as JSON, for storing.
            pub fn payload(&self) -> serde_json::Value {
                match self { $( Event::$name(p) => serde_json::to_value(p).unwrap_or(serde_json::Value::Null), )* }
            }

            /// Parses a payload already in the current shape.
            fn from_current_str(type_name: &str, payload: &str) -> Result<Self, DecodeError> {
                match type_name {
                    $( stringify!($name) => serde_json::from_str(payload).map(Event::$name)
                        .map_err(|e| DecodeError::Payload { event_type: type_name.to_string(), reason: e.to_string() }), )*
                    _ => Err(DecodeError::UnknownType(type_name.to_string())),
                }
            }

            /// Reads a payload already in the current shape.
            fn from_current(type_name: &str, payload: serde_json::Value) -> Result<Self, DecodeError> {
                match type_name {
                    $( stringify!($name) => serde_json::from_value(payload).map(Event::$name)
                        .map_err(|e| DecodeError::Payload { event_type: type_name.to_string(), reason: e.to_string() }), )*
                    _ => Err(DecodeError::UnknownType(type_name.to_string())),
                }
            }
        }
    };
}

catalogue! {
    /// See [`BeneficiaryRegistered`].
    BeneficiaryRegistered = 2,
    /// See [`ConsentGiven`].
    ConsentGiven = 1,
    /// See [`ConsentWithdrawn`].
    ConsentWithdrawn = 1,
    /// See [`PlanGoalSet`].
    PlanGoalSet = 1,
    /// See [`PlanGoalRevised`].
    PlanGoalRevised = 1,
    /// See [`PlanGoalAchieved`].
    PlanGoalAchieved = 1,
    /// See [`PlanGoalAbandoned`].
    PlanGoalAbandoned = 1,
    /// See [`ReviewScheduled`].
    ReviewScheduled = 1,
    /// See [`PlanReviewed`].
    PlanReviewed = 1,
    /// See [`ServicePlanned`].
    ServicePlanned = 1,
    /// See [`ServiceDelivered`].
    ServiceDelivered = 2,
    /// See [`ServiceDiscontinued`].
    ServiceDiscontinued = 1,
    /// See [`AssessmentRecorded`].
    AssessmentRecorded = 1,
    /// See [`StatusChanged`].
    StatusChanged = 2,
    /// See [`ReferredToOrganisation`].
    ReferredToOrganisation = 1,
    /// See [`ReferralAccepted`].
    ReferralAccepted = 1,
    /// See [`CaseTransferred`].
    CaseTransferred = 1,
    /// See [`CaseClosed`].
    CaseClosed = 1,
    /// See [`CaseReopened`].
    CaseReopened = 1,
    /// See [`FollowUpContactMade`].
    FollowUpContactMade = 1,
    /// See [`PersonalDataRecorded`].
    PersonalDataRecorded = 1,
    /// See [`PersonalDataErased`].
    PersonalDataErased = 1,
    /// See [`EventCorrected`].
    EventCorrected = 2,
    /// See [`EventVoided`].
    EventVoided = 1,
}

/// Why a stored event could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// No event of this type exists in the catalogue.
    UnknownType(String),
    /// A schema version newer than this program knows, or one without an upcaster.
    UnknownVersion {
        /// The type.
        event_type: String,
        /// The stored version.
        version: u32,
    },
    /// The payload does not fit the type's shape.
    Payload {
        /// The type.
        event_type: String,
        /// What did not fit.
        reason: String,
    },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownType(t) => write!(f, "unknown event type {t}"),
            Self::UnknownVersion {
                event_type,
                version,
            } => {
                write!(
                    f,
                    "{event_type} version {version} cannot be read by this version of Roadback"
                )
            }
            Self::Payload { event_type, reason } => write!(
                f,
                "a {event_type} event does not have the expected shape: {reason}"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

impl Event {
    /// Reads a stored event, upcasting an older schema version to the current shape first.
    pub fn decode(
        type_name: &str,
        schema_version: u32,
        payload: &str,
    ) -> Result<Self, DecodeError> {
        if Self::CATALOGUE.contains(&(type_name, schema_version)) {
            // Already in the current shape: straight into the type, without an intermediate tree.
            return Self::from_current_str(type_name, payload);
        }
        let value: serde_json::Value =
            serde_json::from_str(payload).map_err(|e| DecodeError::Payload {
                event_type: type_name.to_string(),
                reason: e.to_string(),
            })?;
        Self::decode_value(type_name, schema_version, value)
    }

    fn decode_value(
        type_name: &str,
        schema_version: u32,
        mut value: serde_json::Value,
    ) -> Result<Self, DecodeError> {
        let current = Self::CATALOGUE
            .iter()
            .find(|(name, _)| *name == type_name)
            .map(|(_, v)| *v)
            .ok_or_else(|| DecodeError::UnknownType(type_name.to_string()))?;
        let mut version = schema_version;
        while version < current {
            value = crate::upcast::upcast(type_name, version, value)?;
            version += 1;
        }
        if version != current {
            return Err(DecodeError::UnknownVersion {
                event_type: type_name.to_string(),
                version: schema_version,
            });
        }
        Self::from_current(type_name, value)
    }
}

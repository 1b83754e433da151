//! Registering a beneficiary, and the registration facts of a record.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use roadback_domain::access::{Action, RecordOwner};
use roadback_domain::command::{Registration as DomainRegistration, RegistrationDetails};
use roadback_domain::events::BeneficiaryRole;
use roadback_domain::vocabulary::{Birth, CountryCode};
use roadback_domain::{AsOf, Command, Request};
use uuid::Uuid;

use crate::command::NewRecord;
use crate::context::{guard, session, state};
use crate::error::ApiError;
use crate::personal::PersonalDataInput;
use crate::vocabulary::{
    FormOfExploitation, Gender, IdentificationRoute, RecordResult, Relationship,
};

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
            birth_month: r.birth.and_then(|b| b.month),
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

/// What a registration says about the person (the part a correction may restate).
#[derive(InputObject)]
pub struct RegistrationFields {
    /// The organisation's case code: 1 to 40 letters, digits, `-`, `_`, `.` or `/` (a code,
    /// never a name).
    pub case_code: String,
    /// Gender.
    pub gender: Gender,
    /// Year of birth, when known.
    pub birth_year: Option<i32>,
    /// Month of birth (1–12), when known; with the year (left out, it stays unknown).
    pub birth_month: Option<u32>,
    /// Citizenship (ISO 3166-1 alpha-2, e.g. `AL`; `XK` for Kosovo).
    pub citizenship: String,
    /// Country of assistance (ISO 3166-1 alpha-2).
    pub country_of_assistance: String,
    /// The day they were identified as trafficked.
    pub identified_on: NaiveDate,
    /// How they came to the program.
    pub identification_route: IdentificationRoute,
    /// Forms of exploitation suffered (empty for a family member).
    #[graphql(default)]
    pub forms_of_exploitation: Vec<FormOfExploitation>,
}

impl RegistrationFields {
    /// The domain's registration details (countries and birth checked for their form; the
    /// domain checks the rest).
    pub fn details(&self) -> Result<RegistrationDetails, ApiError> {
        let birth = match (self.birth_year, self.birth_month) {
            (Some(year), month) => Some(Birth { year, month }),
            (None, None) => None,
            (None, Some(_)) => {
                return Err(ApiError::invalid(
                    "birthYear",
                    "a birth month needs a birth year",
                ));
            }
        };
        Ok(RegistrationDetails {
            case_code: self.case_code.trim().to_string(),
            gender: self.gender.into(),
            birth,
            citizenship: country("citizenship", &self.citizenship)?,
            country_of_assistance: country("countryOfAssistance", &self.country_of_assistance)?,
            identified_on: self.identified_on,
            identification_route: self.identification_route.into(),
            forms_of_exploitation: self
                .forms_of_exploitation
                .iter()
                .map(|f| (*f).into())
                .collect(),
        })
    }
}

/// Registers a beneficiary.
#[derive(InputObject)]
pub struct RegisterBeneficiaryInput {
    /// A key unique to this registration (a retry returns the same beneficiary).
    pub idempotency_key: String,
    /// The day of registration (intake).
    pub occurred_on: NaiveDate,
    /// What is recorded about the person.
    #[graphql(flatten)]
    pub fields: RegistrationFields,
    /// The caseworker responsible, a caseworker or supervisor of the organisation (default:
    /// the signed-in user).
    pub caseworker_id: Option<Uuid>,
    /// For a family member: the primary beneficiary they are linked to.
    pub primary_beneficiary_id: Option<Uuid>,
    /// For a family member: how they are related.
    pub relationship: Option<Relationship>,
    /// The person's identifying details, kept in the encrypted vault (needs the right to
    /// record personal data).
    pub personal_data: Option<PersonalDataInput>,
}

/// A checked country code; `field` names the input at fault.
fn country(field: &str, code: &str) -> Result<CountryCode, ApiError> {
    CountryCode::new(code).ok_or_else(|| {
        ApiError::invalid(
            field,
            "use a two-letter ISO 3166 country code, e.g. AL or XK",
        )
    })
}

/// Registering beneficiaries.
#[derive(Default)]
pub struct BeneficiaryMutation;

#[Object]
impl BeneficiaryMutation {
    /// Registers a beneficiary with the signed-in user's organisation.
    async fn register_beneficiary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: RegisterBeneficiaryInput,
    ) -> Result<RecordResult, ApiError> {
        let session = session(ctx)?;
        let organisation = session.user.organisation;
        // Registering is writing a record of one's own organisation.
        let own = RecordOwner {
            organisation,
            shared_with: vec![],
        };
        guard(ctx, Action::WriteRecord, Some(&own))?;
        let new = NewRecord::new(session.user.id, &input.idempotency_key)?;
        let state = state(ctx);
        let role = match (input.primary_beneficiary_id, input.relationship) {
            (None, None) => BeneficiaryRole::Primary,
            (Some(primary), Some(relationship)) => BeneficiaryRole::Secondary {
                primary,
                relationship: relationship.into(),
            },
            (None, Some(_)) => {
                return Err(ApiError::invalid(
                    "primaryBeneficiaryId",
                    "a family member needs both the primary beneficiary and the relationship",
                ));
            }
            (Some(_), None) => {
                return Err(ApiError::invalid(
                    "relationship",
                    "a family member needs both the primary beneficiary and the relationship",
                ));
            }
        };
        // A family member links to a primary beneficiary this user may see.
        let mut primary = None;
        if let BeneficiaryRole::Secondary { primary: id, .. } = role
            && let Some(history) = state.histories.load(&state.store, id).await?
            && let Some(plan) = history.plan(AsOf::Now)
            && plan.role == BeneficiaryRole::Primary
            && roadback_domain::access::authorize(
                &session.principal,
                Action::ReadRecord,
                Some(&RecordOwner::of(&plan)),
            ) == roadback_domain::access::Access::Allowed
        {
            primary = Some(id);
        }
        let command = Command::RegisterBeneficiary(DomainRegistration {
            beneficiary_id: new.beneficiary,
            organisation,
            caseworker: input.caseworker_id.unwrap_or(session.user.id),
            role,
            details: input.fields.details()?,
        });
        let personal = input
            .personal_data
            .map(PersonalDataInput::into_data)
            .transpose()?;
        let mut requests = vec![Request::new(input.occurred_on, command)];
        if let Some(data) = &personal {
            guard(ctx, Action::WritePersonalData, Some(&own))?;
            requests.push(Request::new(
                input.occurred_on,
                Command::RecordPersonalData {
                    fields: data.fields(),
                },
            ));
        }
        new.append(ctx, &requests, primary, personal.as_ref()).await
    }
}

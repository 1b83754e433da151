//! Personal data in the API: the `@personalData` marker, the view and the input, reading it for
//! a record, recording and erasing it. Personal data lives in the vault; resolvers reach it only
//! through `Action::ReadPersonalData` or `Action::WritePersonalData`, so evaluators and tokens
//! without the `PERSONAL_DATA` scope never get it.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use roadback_domain::Command;
use roadback_domain::access::{Action, RecordOwner};
use roadback_domain::personal::PersonalData;
use roadback_domain::projection::Plan;
use roadback_store::vault::Personal;

use crate::command::{Change, record, record_with};
use crate::context::{guard, log_access, state};
use crate::error::ApiError;
use crate::vocabulary::RecordResult;

#[allow(missing_docs, non_snake_case)]
mod directive {
    /// Marks a field that holds personal data: resolved only for roles and tokens allowed to
    /// see personal data, kept only in the encrypted vault, erased with the person's data key.
    #[async_graphql::TypeDirective(location = "FieldDefinition", location = "InputFieldDefinition")]
    pub fn personalData() {}
}

pub use directive::personalData;

/// Registers `@personalData` in the schema, so `schema.graphql` declares it. It marks schema
/// fields; a query that uses it is refused.
pub struct PersonalDataDirective;

impl async_graphql::CustomDirectiveFactory for PersonalDataDirective {
    fn name(&self) -> std::borrow::Cow<'static, str> {
        "personalData".into()
    }

    fn register(&self, registry: &mut async_graphql::registry::Registry) {
        async_graphql::TypeDirective::register(&personalData, registry);
    }

    fn create(
        &self,
        _: &async_graphql::ContextDirective<'_>,
        _: &async_graphql::parser::types::Directive,
    ) -> async_graphql::ServerResult<Box<dyn async_graphql::CustomDirective>> {
        Err(async_graphql::ServerError::new(
            "@personalData marks fields of the schema; it cannot be used in a query",
            None,
        ))
    }
}

/// Why personal data is erased.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(
    remote = "roadback_domain::personal::ErasureReason",
    rename_items = "SCREAMING_SNAKE_CASE"
)]
pub enum ErasureReason {
    /// The person asked for it (right to erasure).
    PersonRequested,
    /// The retention period ended.
    RetentionEnded,
    /// It was recorded about the wrong person or in error.
    RecordedInError,
    /// Keeping it puts the person at risk.
    SafetyRisk,
}

/// A person's identifying details, kept in the encrypted vault. As input, the whole set: fields
/// left out are removed.
#[derive(SimpleObject, InputObject, Clone, Debug, Default)]
#[graphql(name = "PersonalDataView", input_name = "PersonalDataInput")]
pub struct PersonalDataView {
    /// Given name(s).
    #[graphql(directive = personalData::apply())]
    pub given_name: Option<String>,
    /// Family name.
    #[graphql(directive = personalData::apply())]
    pub family_name: Option<String>,
    /// The name the person wants to be called by.
    #[graphql(directive = personalData::apply())]
    pub known_as: Option<String>,
    /// Full date of birth.
    #[graphql(directive = personalData::apply())]
    pub date_of_birth: Option<NaiveDate>,
    /// Telephone number.
    #[graphql(directive = personalData::apply())]
    pub phone: Option<String>,
    /// E-mail address.
    #[graphql(directive = personalData::apply())]
    pub email: Option<String>,
    /// Postal address or whereabouts.
    #[graphql(directive = personalData::apply())]
    pub address: Option<String>,
    /// Number of an identity or travel document.
    #[graphql(directive = personalData::apply())]
    pub document_number: Option<String>,
    /// Free-text notes.
    #[graphql(directive = personalData::apply())]
    pub notes: Option<String>,
}

/// The same details as input.
pub type PersonalDataInput = PersonalDataView;

impl From<PersonalData> for PersonalDataView {
    fn from(p: PersonalData) -> Self {
        Self {
            given_name: p.given_name,
            family_name: p.family_name,
            known_as: p.known_as,
            date_of_birth: p.date_of_birth,
            phone: p.phone,
            email: p.email,
            address: p.address,
            document_number: p.document_number,
            notes: p.notes,
        }
    }
}

impl PersonalDataView {
    /// The checked personal data.
    pub fn into_data(self) -> Result<PersonalData, ApiError> {
        let data = PersonalData {
            given_name: self.given_name,
            family_name: self.family_name,
            known_as: self.known_as,
            date_of_birth: self.date_of_birth,
            phone: self.phone,
            email: self.email,
            address: self.address,
            document_number: self.document_number,
            notes: self.notes,
        };
        data.check()
            .map_err(|(field, message)| ApiError::invalid(field, message))?;
        Ok(data)
    }
}

/// The person's identifying details to keep.
#[derive(InputObject)]
pub struct RecordPersonalDataInput {
    #[graphql(flatten)]
    change: Change,
    /// The whole set of details (fields left out are removed).
    pub personal_data: PersonalDataInput,
}

/// An erasure of personal data.
#[derive(InputObject)]
pub struct ErasePersonalDataInput {
    #[graphql(flatten)]
    change: Change,
    /// Why (a code: the reason must not itself carry personal data).
    pub reason: ErasureReason,
}

/// The person's identifying details from the vault, for the record's `personalData` field:
/// checked against `Action::ReadPersonalData` and written to the access log with `purpose`;
/// `None` once erased.
pub async fn read(
    ctx: &Context<'_>,
    plan: &Plan,
    purpose: &str,
) -> Result<Option<PersonalDataView>, ApiError> {
    guard(ctx, Action::ReadPersonalData, Some(&RecordOwner::of(plan)))?;
    log_access(ctx, plan.beneficiary_id, "READ_PERSONAL_DATA", purpose).await?;
    match state(ctx).vault.get(plan.beneficiary_id).await? {
        Personal::Data(data) => Ok(Some(data.into())),
        _ => Ok(None),
    }
}

/// Personal data recorded and erased.
#[derive(Default)]
pub struct PersonalDataMutation;

#[Object]
impl PersonalDataMutation {
    /// Records (replaces) the person's identifying details in the encrypted vault; the event
    /// names only the fields that hold a value.
    async fn record_personal_data(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: RecordPersonalDataInput,
    ) -> Result<RecordResult, ApiError> {
        let data = input.personal_data.into_data()?;
        let command = Command::RecordPersonalData {
            fields: data.fields(),
        };
        record_with(ctx, &input.change, command, Some(data)).await
    }

    /// Erases the person's personal data for good (supervisors and administrators): the
    /// vault destroys their data key; the history stays, de-identified. The erasure is an event
    /// and is written to the access log.
    async fn erase_personal_data(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record or create.")] input: ErasePersonalDataInput,
    ) -> Result<RecordResult, ApiError> {
        let command = Command::ErasePersonalData {
            reason: input.reason.into(),
        };
        let result = record(ctx, &input.change, command).await?;
        state(ctx).vault.erase(input.change.beneficiary_id).await?;
        log_access(
            ctx,
            input.change.beneficiary_id,
            "ERASE_PERSONAL_DATA",
            &format!("{:?}", input.reason),
        )
        .await?;
        Ok(result)
    }
}

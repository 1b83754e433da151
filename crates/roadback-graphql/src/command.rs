//! The command pipeline every change to a beneficiary's record goes through; resource modules
//! build the fact and call [`record`], [`record_with`] or, to register, [`NewRecord`].
//!
//! A command is decided against the record as stored (read from the log), then appended with
//! the version it was decided against, so a concurrent change is a `CONFLICT`, never a silent
//! overwrite. Event ids derive from the user and the idempotency key: a retry finds the events
//! it appended the first time and returns them, storing nothing.

use async_graphql::{Context, InputObject};
use chrono::NaiveDate;
use roadback_domain::access::{Action, RecordOwner};
use roadback_domain::indicators::Framework;
use roadback_domain::personal::PersonalData;
use roadback_domain::projection::Envelope;
use roadback_domain::{AsOf, Case, Directory, Event, Request, decide};
use roadback_store::records::{beneficiary_stream, envelope, new_event};
use roadback_store::{EventContext, ExpectedVersion};
use uuid::Uuid;

use crate::context::{ApiState, guard, load_history, session, state, today};
use crate::error::ApiError;
use crate::vocabulary::{AppendedEvent, RecordResult};

/// Ids of events derived from idempotency keys live under this namespace.
const KEY_NAMESPACE: Uuid = Uuid::from_u128(0x6b0b_6a3c_59d4_4e0e_9f0c_5b1d_7a6e_2c31);
/// Most events one command appends.
const MAX_EVENTS_PER_COMMAND: usize = 4;

/// What every change to a record carries.
#[derive(InputObject, Clone, Debug)]
pub struct Change {
    /// The beneficiary.
    pub beneficiary_id: Uuid,
    /// The record's version the change was made against (from the last read).
    pub expected_version: u64,
    /// A key unique to this change, chosen by the client; sending the change again with the
    /// same key returns the first result and stores nothing new.
    pub idempotency_key: String,
    /// The day it happened (not in the future).
    pub occurred_on: NaiveDate,
    /// Set for a fact from before the person's identification (e.g. earlier schooling).
    #[graphql(default)]
    pub pre_program: bool,
}

/// What decisions may look up beyond the record: primary beneficiaries checked beforehand,
/// and the program's frameworks.
struct Lookup<'a> {
    primary: Option<Uuid>,
    state: &'a ApiState,
}

impl Directory for Lookup<'_> {
    fn is_primary_beneficiary(&self, beneficiary: Uuid) -> bool {
        self.primary == Some(beneficiary)
    }
    fn framework(&self, version: u32) -> Option<&Framework> {
        self.state.framework(version)
    }
}

/// The ids of the events a command appends, derived from the user and the idempotency key.
fn event_ids(user: Uuid, key: &str) -> Vec<Uuid> {
    (0..MAX_EVENTS_PER_COMMAND)
        .map(|i| Uuid::new_v5(&KEY_NAMESPACE, format!("{user}/{key}/{i}").as_bytes()))
        .collect()
}

/// The id of a new goal, service, assessment or referral: derived from the user, the record
/// and the idempotency key, so a retry names the same thing.
pub fn new_id(ctx: &Context<'_>, change: &Change) -> Result<Uuid, ApiError> {
    let user = session(ctx)?.user.id;
    Ok(Uuid::new_v5(
        &KEY_NAMESPACE,
        format!(
            "{user}/{}/{}/new",
            change.beneficiary_id, change.idempotency_key
        )
        .as_bytes(),
    ))
}

/// The idempotency key's one rule: 1 to 200 characters.
fn check_key(key: &str) -> Result<(), ApiError> {
    if key.trim().is_empty() || key.len() > 200 {
        return Err(ApiError::invalid(
            "idempotencyKey",
            "the idempotency key must have 1 to 200 characters",
        ));
    }
    Ok(())
}

/// The events a key appended earlier, if it was used: a retry's answer.
async fn earlier_result(
    state: &ApiState,
    ids: &[Uuid],
    beneficiary: Uuid,
) -> Result<Option<RecordResult>, ApiError> {
    let stored = state.store.read_by_ids(ids).await?;
    if stored.is_empty() {
        return Ok(None);
    }
    let entries: Vec<Envelope> = stored
        .iter()
        .filter_map(|e| envelope(e).transpose())
        .collect::<Result<_, _>>()?;
    if entries.iter().any(|e| e.beneficiary != beneficiary) || entries.is_empty() {
        return Err(ApiError::invalid(
            "idempotencyKey",
            "this idempotency key was already used for a different change",
        ));
    }
    Ok(Some(RecordResult {
        beneficiary_id: beneficiary,
        version: entries.iter().map(|e| e.version).max().unwrap_or(0),
        events: entries.iter().map(AppendedEvent::from).collect(),
    }))
}

/// What a fact needs beyond writing the record.
fn action_for(fact: &Event) -> Action {
    match fact {
        Event::CaseTransferred(_) | Event::CaseClosed(_) | Event::CaseReopened(_) => {
            Action::SuperviseRecord
        }
        Event::PersonalDataRecorded(_) => Action::WritePersonalData,
        Event::PersonalDataErased(_) => Action::EraseRecord,
        _ => Action::WriteRecord,
    }
}

/// Decides and appends a fact on a beneficiary's record.
pub async fn record(
    ctx: &Context<'_>,
    change: &Change,
    fact: Event,
) -> Result<RecordResult, ApiError> {
    let action = action_for(&fact);
    record_with(ctx, change, action, None, move |_| Ok(fact)).await
}

/// Like [`record`], with the access `action` checked first and the fact built from the case
/// afterwards; `personal` goes to the vault once the fact is decided.
pub async fn record_with(
    ctx: &Context<'_>,
    change: &Change,
    action: Action,
    personal: Option<PersonalData>,
    fact: impl FnOnce(&Case) -> Result<Event, ApiError>,
) -> Result<RecordResult, ApiError> {
    let session = session(ctx)?;
    let state = state(ctx);
    check_key(&change.idempotency_key)?;
    let ids = event_ids(session.user.id, &change.idempotency_key);
    let history = load_history(&state.store, change.beneficiary_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("this beneficiary".into()))?;
    let case = history.case(AsOf::Now);
    let plan = roadback_domain::Plan::of(&case, history.version(AsOf::Now))
        .ok_or_else(|| ApiError::NotFound("this beneficiary".into()))?;
    guard(ctx, action, Some(&RecordOwner::of(&plan)))?;
    if let Some(result) = earlier_result(state, &ids, change.beneficiary_id).await? {
        return Ok(result);
    }
    let version = plan.version;
    if change.expected_version != version {
        return Err(ApiError::Conflict {
            message: format!(
                "this record is at version {version}, not {}: someone changed it since you read it; reload it and try again",
                change.expected_version
            ),
            current_version: version,
        });
    }
    let request = Request {
        occurred_on: change.occurred_on,
        pre_program: change.pre_program,
        fact: fact(&case)?,
    };
    let target = Target {
        beneficiary: change.beneficiary_id,
        version,
        ids: &ids,
        primary: None,
    };
    append(ctx, &case, &[request], &target, personal.as_ref()).await
}

/// Where decided events go.
struct Target<'a> {
    beneficiary: Uuid,
    version: u64,
    ids: &'a [Uuid],
    primary: Option<Uuid>,
}

/// Decides each request against the case as the previous ones leave it, stores `personal` in
/// the vault, then appends all the events with the ids of the key, in one command.
async fn append(
    ctx: &Context<'_>,
    case: &Case,
    requests: &[Request],
    target: &Target<'_>,
    personal: Option<&PersonalData>,
) -> Result<RecordResult, ApiError> {
    let session = session(ctx)?;
    let state = state(ctx);
    let lookup = Lookup {
        primary: target.primary,
        state,
    };
    let mut case = case.clone();
    let mut decided: Vec<(Event, NaiveDate)> = Vec::new();
    for request in requests {
        for event in decide(&case, request, today(), &lookup)? {
            case.apply(Uuid::nil(), request.occurred_on, &event);
            decided.push((event, request.occurred_on));
        }
    }
    if decided.len() > target.ids.len() {
        return Err(ApiError::Internal(
            "a command decided more events than it has ids for".into(),
        ));
    }
    if let Some(data) = personal {
        state.vault.put(target.beneficiary, data).await?;
    }
    let context = EventContext {
        actor: session.user.id,
        organisation: session.user.organisation,
        correlation_id: target.ids[0],
    };
    let new: Vec<_> = decided
        .iter()
        .zip(target.ids)
        .map(|((event, on), id)| new_event(*id, event, *on, context))
        .collect::<Result<_, _>>()?;
    let expected = if target.version == 0 {
        ExpectedVersion::NoStream
    } else {
        ExpectedVersion::Exact(target.version)
    };
    let stream = beneficiary_stream(target.beneficiary)?;
    let appended = state.store.append(&stream, expected, new).await?;
    let stored = state
        .store
        .read_stream(&stream, target.version + 1, decided.len())
        .await?;
    let entries: Vec<Envelope> = stored
        .iter()
        .filter_map(|e| envelope(e).transpose())
        .collect::<Result<_, _>>()?;
    Ok(RecordResult {
        beneficiary_id: target.beneficiary,
        version: appended.stream_version,
        events: entries.iter().map(AppendedEvent::from).collect(),
    })
}

/// The record a registration creates: its id and its events' ids derive from the user and the
/// idempotency key, so a retry finds what the first attempt stored.
pub struct NewRecord {
    /// The new beneficiary's id.
    pub beneficiary: Uuid,
    ids: Vec<Uuid>,
}

impl NewRecord {
    /// The record of `user`'s registration with idempotency key `key` (checked).
    pub fn new(user: Uuid, key: &str) -> Result<Self, ApiError> {
        check_key(key)?;
        Ok(Self {
            beneficiary: Uuid::new_v5(
                &KEY_NAMESPACE,
                format!("{user}/{key}/beneficiary").as_bytes(),
            ),
            ids: event_ids(user, key),
        })
    }

    /// What the key registered earlier, if it was used: a retry's answer.
    pub async fn earlier_result(&self, state: &ApiState) -> Result<Option<RecordResult>, ApiError> {
        earlier_result(state, &self.ids, self.beneficiary).await
    }

    /// Decides the requests against an empty record and appends them as its first events;
    /// `primary` is the primary beneficiary a family member may link to (checked beforehand),
    /// `personal` goes to the vault.
    pub async fn append(
        &self,
        ctx: &Context<'_>,
        requests: &[Request],
        primary: Option<Uuid>,
        personal: Option<&PersonalData>,
    ) -> Result<RecordResult, ApiError> {
        let target = Target {
            beneficiary: self.beneficiary,
            version: 0,
            ids: &self.ids,
            primary,
        };
        append(ctx, &Case::default(), requests, &target, personal).await
    }
}

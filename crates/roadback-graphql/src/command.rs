//! The command pipeline every change to a beneficiary's record goes through: resource modules
//! turn their input into a domain [`Command`] and call [`record`] (or, to register,
//! [`NewRecord`]); this module loads the record, guards it, answers a retry, checks the version,
//! decides, writes the vault and appends.
//!
//! A command is decided against the record as the server holds it (the history cache, see
//! [`crate::histories`]), then appended with the version it was decided against, so a change
//! made meanwhile, here or on another server instance, is caught by the store, never silently
//! overwritten: the command is decided again on the record read afresh. Event ids derive from the user and the idempotency key: a retry finds the events
//! it appended the first time and returns them, storing nothing. The events' correlation id
//! names the command's content too, so the same key with other content is refused.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::{Context, InputObject};
use chrono::NaiveDate;
use roadback_domain::access::{RecordOwner, Role, action_for};
use roadback_domain::indicators::Framework;
use roadback_domain::personal::PersonalData;
use roadback_domain::projection::{Envelope, History};
use roadback_domain::{AsOf, Case, Command, Directory, Event, Request, decide};
use roadback_store::directory::User;
use roadback_store::records::{beneficiary_stream, envelope, new_event};
use roadback_store::{EventContext, ExpectedVersion, StoreError};
use uuid::Uuid;

use crate::context::{ApiState, guard, session, state, today};
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
    /// same key returns the first result and stores nothing new (other content with the same
    /// key is a `CONFLICT`).
    pub idempotency_key: String,
    /// The day it happened (not in the future).
    pub occurred_on: NaiveDate,
    /// To correct an earlier entry: its event id. The change then states what should have been
    /// recorded instead (an entry of the same kind, on `occurredOn`), and is decided like a new
    /// one against the record as it stood on that day.
    pub corrects: Option<Uuid>,
}

impl Change {
    /// The domain's request for `command` with this change's day and correction.
    pub fn request(&self, command: Command) -> Request {
        Request {
            occurred_on: self.occurred_on,
            corrects: self.corrects,
            command,
        }
    }
}

/// What decisions may look up beyond the record, loaded for the command beforehand: the
/// primary beneficiary a family member may link to, the users and organisations it names, the
/// program's frameworks.
struct Lookup<'a> {
    state: &'a ApiState,
    primary: Option<Uuid>,
    members: HashMap<Uuid, (Uuid, Role)>,
    organisations: HashSet<Uuid>,
}

impl<'a> Lookup<'a> {
    /// What `requests` name, looked up; the acting user and their organisation are known from
    /// the session (read for this request), so a command naming only them (a registration by
    /// its own caseworker) looks nothing up.
    async fn load(
        state: &'a ApiState,
        actor: &User,
        requests: &[Request],
        primary: Option<Uuid>,
    ) -> Result<Self, ApiError> {
        let mut members = HashMap::from([(actor.id, (actor.organisation, actor.role))]);
        let users: Vec<Uuid> = requests
            .iter()
            .flat_map(|r| r.command.named_users())
            .filter(|u| *u != actor.id)
            .collect();
        if !users.is_empty() {
            members.extend(
                state
                    .store
                    .users_by_ids(&users)
                    .await?
                    .into_iter()
                    .map(|u| (u.id, (u.organisation, u.role))),
            );
        }
        let mut organisations = HashSet::from([actor.organisation]);
        let others = requests.iter().any(|r| {
            r.command
                .named_organisations()
                .iter()
                .any(|o| *o != actor.organisation)
        });
        if others {
            organisations.extend(state.store.organisations().await?.into_iter().map(|o| o.id));
        }
        Ok(Self {
            state,
            primary,
            members,
            organisations,
        })
    }
}

impl Directory for Lookup<'_> {
    fn is_primary_beneficiary(&self, beneficiary: Uuid) -> bool {
        self.primary == Some(beneficiary)
    }
    fn framework(&self, version: u32) -> Option<&Framework> {
        self.state.framework(version)
    }
    fn is_organisation(&self, organisation: Uuid) -> bool {
        self.organisations.contains(&organisation)
    }
    fn is_caseworker_of(&self, user: Uuid, organisation: Uuid) -> bool {
        self.members.get(&user).is_some_and(|(org, role)| {
            *org == organisation && matches!(role, Role::Caseworker | Role::Supervisor)
        })
    }
}

/// A command's idempotency: the ids its events get and the correlation id naming its content.
struct Key {
    ids: Vec<Uuid>,
    correlation: Uuid,
}

impl Key {
    /// The key `key` of `user` for these requests on `beneficiary` (checked: 1 to 200
    /// characters).
    fn new(
        user: Uuid,
        key: &str,
        beneficiary: Uuid,
        requests: &[Request],
    ) -> Result<Self, ApiError> {
        check_key(key)?;
        // The content is the domain's requests: personal values are not in them (only which
        // fields are set), so nothing personal outlives an erasure in a correlation id.
        let content = serde_json::to_string(requests)
            .map_err(|e| ApiError::Internal(format!("a command could not be serialised: {e}")))?;
        Ok(Self {
            ids: event_ids(user, key),
            correlation: Uuid::new_v5(
                &KEY_NAMESPACE,
                format!("{user}/{key}/{beneficiary}/{content}").as_bytes(),
            ),
        })
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

/// The events a key appended earlier, if it was used: a retry's answer when the content is
/// the same, a `CONFLICT` when it is not.
async fn earlier_result(
    state: &ApiState,
    key: &Key,
    beneficiary: Uuid,
) -> Result<Option<RecordResult>, ApiError> {
    let stored = state.store.read_by_ids(&key.ids).await?;
    let Some(first) = stored.first() else {
        return Ok(None);
    };
    let entries: Vec<Envelope> = stored
        .iter()
        .filter_map(|e| envelope(e).transpose())
        .collect::<Result<_, _>>()?;
    let version = entries.iter().map(|e| e.version).max().unwrap_or(0);
    let same = first.context.correlation_id == key.correlation
        && entries.len() == stored.len()
        && entries.iter().all(|e| e.beneficiary == beneficiary);
    if !same {
        return Err(ApiError::Conflict {
            message: "this idempotency key was already used for a different change; send a new change with a new key".into(),
            current_version: if entries.iter().all(|e| e.beneficiary == beneficiary) {
                version
            } else {
                0
            },
            reason: Some("IDEMPOTENCY_KEY_REUSED"),
        });
    }
    Ok(Some(RecordResult {
        beneficiary_id: beneficiary,
        version,
        events: entries.iter().map(AppendedEvent::from).collect(),
    }))
}

/// Decides and appends a command on a beneficiary's record.
pub async fn record(
    ctx: &Context<'_>,
    change: &Change,
    command: Command,
) -> Result<RecordResult, ApiError> {
    record_with(ctx, change, command, None).await
}

/// Like [`record`]; `personal` goes to the vault once the command is decided.
///
/// When nothing conflicts this is one round trip to the store: the command is decided on the
/// history this server holds (when the client's expected version is the version it was read
/// to), and its append answers for the idempotency check and the read-back too. The append's
/// expected version is what makes that safe: if another instance has moved the record on, the
/// store refuses the append. Any answer but success that was decided on the held history is
/// checked against the record read afresh: if the record moved on, the command is decided once
/// more, so the client gets the answer the current record gives (`CONFLICT` for its stale
/// version, a refusal of access, a retry's first result).
pub async fn record_with(
    ctx: &Context<'_>,
    change: &Change,
    command: Command,
    personal: Option<PersonalData>,
) -> Result<RecordResult, ApiError> {
    let session = session(ctx)?;
    let state = state(ctx);
    check_key(&change.idempotency_key)?;
    let requests = [change.request(command)];
    let cached = state
        .histories
        .cached(change.beneficiary_id)
        .filter(|(_, read_to)| *read_to == change.expected_version);
    let mut fresh = cached.is_none();
    let mut history = match cached {
        Some((history, _)) => history,
        None => load(state, change.beneficiary_id).await?,
    };
    let key = Key::new(
        session.user.id,
        &change.idempotency_key,
        change.beneficiary_id,
        &requests,
    )?;
    loop {
        let failure = match attempt(ctx, &history, change, &requests, &key, personal.as_ref()).await
        {
            Ok((result, version, entries)) => {
                // The cache extends the history in place only when nobody else holds it.
                drop(history);
                state
                    .histories
                    .appended(change.beneficiary_id, version, entries);
                return Ok(result);
            }
            // The key's events are stored with other content: a retry, or a reused key.
            Err(Failure::KeyUsed(error)) => {
                return earlier_result(state, &key, change.beneficiary_id)
                    .await?
                    .ok_or(error);
            }
            Err(failure) => failure,
        };
        if fresh {
            return Err(failure.error());
        }
        // Decided on the history this server held: read the record afresh, and decide once more
        // if it moved on (another instance appended).
        fresh = true;
        let held = history.version(AsOf::Now);
        history = load(state, change.beneficiary_id).await?;
        if history.version(AsOf::Now) == held && !matches!(failure, Failure::Conflict(_)) {
            return Err(failure.error());
        }
    }
}

/// One decision of [`record_with`] on `history`: the answer, the version it was decided on and
/// the entries it stored.
async fn attempt(
    ctx: &Context<'_>,
    history: &History,
    change: &Change,
    requests: &[Request],
    key: &Key,
    personal: Option<&PersonalData>,
) -> Result<(RecordResult, u64, Vec<Envelope>), Failure> {
    let state = state(ctx);
    let case = history.now();
    let version = history.version(AsOf::Now);
    let owner =
        RecordOwner::of_case(case).ok_or_else(|| ApiError::NotFound("this beneficiary".into()))?;
    // The access the command needs: the one its entry needs, or for a void, the voided one's.
    guard(ctx, action_for(&requests[0].command, case), Some(&owner))?;
    // A retry answers what the key stored, whatever the record's version now. Personal data
    // goes to the vault before the append, so a retry carrying it is found first; any other
    // retry is found by its append (its event ids are stored already).
    if (change.expected_version != version || personal.is_some())
        && let Some(result) = earlier_result(state, key, change.beneficiary_id).await?
    {
        return Ok((result, version, Vec::new()));
    }
    if change.expected_version != version {
        return Err(ApiError::stale(change.expected_version, version).into());
    }
    let target = Target {
        beneficiary: change.beneficiary_id,
        version,
        key,
        primary: None,
    };
    let (result, entries) = append(ctx, case, requests, &target, personal).await?;
    Ok((result, version, entries))
}

/// The beneficiary's history as the log holds it now, or `NOT_FOUND`.
async fn load(state: &ApiState, beneficiary: Uuid) -> Result<Arc<History>, ApiError> {
    state
        .histories
        .load(&state.store, beneficiary)
        .await?
        .ok_or_else(|| ApiError::NotFound("this beneficiary".into()))
}

/// Where decided events go.
struct Target<'a> {
    beneficiary: Uuid,
    version: u64,
    key: &'a Key,
    primary: Option<Uuid>,
}

/// Why an append did not store a command.
enum Failure {
    /// The record is not at the version the command was decided on.
    Conflict(ApiError),
    /// The command's event ids are stored already, with other content.
    KeyUsed(ApiError),
    /// Refused by the rules, or the store failed.
    Other(ApiError),
}

impl<E: Into<ApiError>> From<E> for Failure {
    fn from(error: E) -> Self {
        Self::Other(error.into())
    }
}

impl Failure {
    fn error(self) -> ApiError {
        match self {
            Self::Conflict(error) | Self::KeyUsed(error) | Self::Other(error) => error,
        }
    }
}

/// Decides each request against the case as the previous ones leave it, stores `personal` in
/// the vault, then appends all the events with the ids of the key, in one command. The answer
/// is built from what the append stored (no read-back), with the entries it stored, for the
/// server's cached history.
async fn append(
    ctx: &Context<'_>,
    case: &Case,
    requests: &[Request],
    target: &Target<'_>,
    personal: Option<&PersonalData>,
) -> Result<(RecordResult, Vec<Envelope>), Failure> {
    let session = session(ctx)?;
    let state = state(ctx);
    let lookup = Lookup::load(state, &session.user, requests, target.primary).await?;
    let mut case = Cow::Borrowed(case);
    let mut decided: Vec<(Event, NaiveDate)> = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        for event in decide(&case, request, today(), &lookup)? {
            // A case is copied only when another request is decided after this one.
            if i + 1 < requests.len() {
                case.to_mut()
                    .apply(Uuid::nil(), request.occurred_on, &event);
            }
            decided.push((event, request.occurred_on));
        }
    }
    if decided.len() > target.key.ids.len() {
        return Err(Failure::Other(ApiError::Internal(
            "a command decided more events than it has ids for".into(),
        )));
    }
    if let Some(data) = personal {
        state.vault.put(target.beneficiary, data).await?;
    }
    let context = EventContext {
        actor: session.user.id,
        organisation: session.user.organisation,
        correlation_id: target.key.correlation,
    };
    let new: Vec<_> = decided
        .iter()
        .zip(&target.key.ids)
        .map(|((event, on), id)| new_event(*id, event, *on, context))
        .collect::<Result<_, _>>()?;
    let expected = if target.version == 0 {
        ExpectedVersion::NoStream
    } else {
        ExpectedVersion::Exact(target.version)
    };
    let stream = beneficiary_stream(target.beneficiary)?;
    let stored = match state.store.append_recorded(&stream, expected, new).await {
        Ok(stored) => stored,
        Err(error @ StoreError::Conflict { .. }) => return Err(Failure::Conflict(error.into())),
        Err(error @ StoreError::IdempotencyMismatch { .. }) => {
            return Err(Failure::KeyUsed(error.into()));
        }
        Err(error) => return Err(error.into()),
    };
    let entries: Vec<Envelope> = stored
        .iter()
        .filter_map(|e| envelope(e).transpose())
        .collect::<Result<_, _>>()?;
    let result = RecordResult {
        beneficiary_id: target.beneficiary,
        version: stored.last().map_or(target.version, |e| e.version),
        events: entries.iter().map(AppendedEvent::from).collect(),
    };
    Ok((result, entries))
}

/// The record a registration creates: its id and its events' ids derive from the user and the
/// idempotency key, so a retry finds what the first attempt stored.
pub struct NewRecord {
    /// The new beneficiary's id.
    pub beneficiary: Uuid,
    user: Uuid,
    key: String,
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
            user,
            key: key.to_string(),
        })
    }

    /// Decides the requests against an empty record and appends them as its first events, or
    /// answers what the key registered earlier (a retry); `primary` is the primary beneficiary a
    /// family member may link to (checked beforehand), `personal` goes to the vault.
    pub async fn append(
        &self,
        ctx: &Context<'_>,
        requests: &[Request],
        primary: Option<Uuid>,
        personal: Option<&PersonalData>,
    ) -> Result<RecordResult, ApiError> {
        let key = Key::new(self.user, &self.key, self.beneficiary, requests)?;
        // As for a change: a retry carrying personal data is found before the vault is
        // written, any other by its append.
        if personal.is_some()
            && let Some(result) = earlier_result(state(ctx), &key, self.beneficiary).await?
        {
            return Ok(result);
        }
        let target = Target {
            beneficiary: self.beneficiary,
            version: 0,
            key: &key,
            primary,
        };
        match append(ctx, &Case::default(), requests, &target, personal).await {
            Ok((result, entries)) => {
                state(ctx).histories.appended(self.beneficiary, 0, entries);
                Ok(result)
            }
            // The key registered this record already (a retry): the first answer.
            Err(Failure::Conflict(error) | Failure::KeyUsed(error)) => {
                earlier_result(state(ctx), &key, self.beneficiary)
                    .await?
                    .ok_or(error)
            }
            Err(Failure::Other(error)) => Err(error),
        }
    }
}

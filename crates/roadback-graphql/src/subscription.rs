//! Subscriptions, driven by the store's subscription (so appends on other server instances
//! arrive too): a beneficiary's new timeline entries, and an organisation's caseload changes.
//!
//! Access is checked again before every delivery, not only when the subscription starts: when
//! the caller's sign-in lapses (sign-out, a revoked or expired token) or the record is no longer
//! theirs to read (a data-sharing consent withdrawn), the subscription delivers one coded error
//! (`UNAUTHENTICATED`, `NOT_FOUND`) and ends.

use async_graphql::{Context, Subscription};
use futures_util::{Stream, StreamExt};
use roadback_domain::AsOf;
use roadback_domain::access::{Access, Action, RecordOwner, authorize};
use roadback_domain::projection::{CaseloadEntry, Envelope, Timeline};
use roadback_store::records::envelope;
use uuid::Uuid;

use crate::auth::Session;
use crate::beneficiary::CaseloadItem;
use crate::context::{guard, session, state, today};
use crate::error::ApiError;
use crate::histories::{HistoryCache, load_history};
use crate::vocabulary::TimelineItem;

/// One appended event as a timeline item (a correction or void appears as itself: the entry it
/// amends is not part of a one-event view).
fn timeline_item(e: &Envelope) -> TimelineItem {
    Timeline::of(std::slice::from_ref(e), AsOf::Now)
        .entries
        .first()
        .map(TimelineItem::from)
        .unwrap_or_else(|| TimelineItem {
            id: e.id,
            version: e.version,
            occurred_on: e.occurred_on,
            recorded_at: e.recorded_at,
            actor_id: e.actor,
            event_type: e.event.type_name().to_string(),
            summary: roadback_domain::projection::describe(&e.event),
            payload: crate::vocabulary::Payload(e.event.clone()),
            amended: false,
            counts: true,
            recorded_days_later: (e.recorded_at.date_naive() - e.occurred_on).num_days(),
            notes: vec![],
        })
}

/// Whether `session` may still receive entries of `beneficiary`: signed in still, and allowed
/// to read the record as it stands now.
async fn still_allowed(
    store: &roadback_store::EventStore,
    histories: &HistoryCache,
    session: &Session,
    beneficiary: Uuid,
) -> Result<(), ApiError> {
    if !session.still_valid(store).await? {
        return Err(ApiError::Unauthenticated);
    }
    // The cached history with its tail read, not the whole stream per entry: a record no
    // longer the caller's ends the subscription even for entries made before it changed hands.
    let allowed = histories
        .load(store, beneficiary)
        .await?
        .and_then(|history| history.plan(AsOf::Now))
        .is_some_and(|plan| {
            authorize(
                &session.principal,
                Action::ReadRecord,
                Some(&RecordOwner::of(&plan)),
            ) == Access::Allowed
        });
    if allowed {
        Ok(())
    } else {
        Err(ApiError::NotFound("this beneficiary".into()))
    }
}

/// A stream that ends right after its first error (which is delivered), without waiting for
/// another item, or when the server stops.
fn until_refused<T>(
    items: impl Stream<Item = Result<T, ApiError>> + Send + 'static,
    stopped: impl Future<Output = ()> + Send + 'static,
) -> impl Stream<Item = Result<T, ApiError>> + Send + 'static {
    futures_util::stream::unfold((Box::pin(items), false), |(mut items, ended)| async move {
        if ended {
            return None;
        }
        let item = items.next().await?;
        let ended = item.is_err();
        Some((item, (items, ended)))
    })
    .take_until(stopped)
}

/// The root of subscriptions.
pub struct Subscription;

/// Live updates, within a second of an append on any server instance.
#[Subscription]
impl Subscription {
    /// Each new entry of a beneficiary's timeline, as it is appended. With `afterVersion` (the
    /// version the client last read), entries recorded since then come first, so nothing falls
    /// between the read and the subscription.
    async fn beneficiary_timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The beneficiary.")] beneficiary_id: Uuid,
        #[graphql(desc = "Start after this version of the record (default: from now).")]
        after_version: Option<u64>,
    ) -> Result<impl Stream<Item = Result<TimelineItem, ApiError>> + use<>, ApiError> {
        let caller = session(ctx)?.clone();
        let store = state(ctx).store.clone();
        let head = store.head().await?;
        let history = load_history(&store, beneficiary_id)
            .await?
            .ok_or_else(|| ApiError::NotFound("this beneficiary".into()))?;
        let plan = history
            .plan(AsOf::Now)
            .ok_or_else(|| ApiError::NotFound("this beneficiary".into()))?;
        guard(ctx, Action::ReadRecord, Some(&RecordOwner::of(&plan)))?;
        // Entries after the client's version up to the head; the live part starts after the head.
        let backlog: Vec<Envelope> = history
            .entries()
            .iter()
            .filter(|e| after_version.is_some_and(|v| e.version > v) && e.position <= head)
            .cloned()
            .collect();
        let live = store.subscribe(head).filter_map(move |event| {
            let entry = event
                .ok()
                .and_then(|e| envelope(&e).ok().flatten())
                .filter(|e| e.beneficiary == beneficiary_id);
            async move { entry }
        });
        let (checks, histories) = (store.clone(), state(ctx).histories.clone());
        Ok(until_refused(
            futures_util::stream::iter(backlog)
                .chain(live)
                .then(move |e| {
                    let (store, histories, caller) =
                        (checks.clone(), histories.clone(), caller.clone());
                    async move {
                        still_allowed(&store, &histories, &caller, e.beneficiary).await?;
                        Ok(timeline_item(&e))
                    }
                }),
            state(ctx).stopped(),
        ))
    }

    /// The caseload line of each of the organisation's cases that changes, as it changes.
    async fn caseload(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<CaseloadItem, ApiError>> + use<>, ApiError> {
        let caller = guard(ctx, Action::ReadCaseload, None)?.clone();
        let organisation = caller.user.organisation;
        let store = state(ctx).store.clone();
        let head = store.head().await?;
        let (reader, histories) = (store.clone(), state(ctx).histories.clone());
        Ok(until_refused(
            store.subscribe(head).filter_map(move |event| {
                let (store, histories, caller) =
                    (reader.clone(), histories.clone(), caller.clone());
                async move {
                    let e = envelope(&event.ok()?).ok().flatten()?;
                    // Another organisation's record, known without reading it.
                    if histories
                        .organisation(e.beneficiary)
                        .is_some_and(|o| o != organisation)
                    {
                        return None;
                    }
                    // The record as it stands now: its tail read, not the whole stream.
                    let history = histories.load(&store, e.beneficiary).await.ok()??;
                    let entry = CaseloadEntry::of(history.now())?;
                    if entry.organisation != organisation {
                        return None;
                    }
                    Some(match caller.still_valid(&store).await {
                        Ok(true) => Ok(CaseloadItem::of(&entry, today())),
                        Ok(false) => Err(ApiError::Unauthenticated),
                        Err(e) => Err(e),
                    })
                }
            }),
            state(ctx).stopped(),
        ))
    }
}

//! The projector: keeps the persisted read models (plans and caseload) up to date from the log.
//!
//! Each batch of events is folded with the domain's pure projections and written together with
//! the checkpoint in one transaction, so a crash between events neither loses nor repeats an
//! update: after a restart the projector goes on from the last committed checkpoint. The
//! checkpoint is read and locked inside the transaction; if another projector (another server
//! instance, or a rebuild) moved it, the batch is dropped and reading resumes from there.
//!
//! [`rebuild`] recomputes both read models from the log in one transaction, one stream at a
//! time (each stream is read, decoded and folded once; memory holds one stream and a batch of
//! plans), and leaves the old read models in place until it commits.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use roadback_domain::projection::{Caseload, CaseloadEntry, Envelope, STREAM_PREFIX};
use roadback_domain::{Case, Plan};
use uuid::Uuid;

use crate::error::StoreError;
use crate::event::RecordedEvent;
use crate::records::{by_stream, envelope, load_case};
use crate::{EventStore, read_models};

/// The checkpoint name of the read models.
pub const CHECKPOINT: &str = "read-models";

/// Folded cases kept between batches; beyond this the cache starts afresh.
const CACHE_LIMIT: usize = 50_000;
/// Events per page when rebuilding.
const REBUILD_PAGE: usize = 10_000;
/// Plans per write when rebuilding.
const REBUILD_BATCH: usize = 2_000;

/// What a batch did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Read models and checkpoint were written up to this position.
    Committed(u64),
    /// Another projector had moved the checkpoint; reading goes on from there.
    Moved(u64),
}

type FailPoint = Box<dyn FnMut(u64) -> bool + Send>;

/// Keeps the read models up to date: [`catch_up`](Self::catch_up) once, or [`run`](Self::run)
/// live until shut down.
pub struct Projector {
    store: EventStore,
    position: Option<u64>,
    batch: usize,
    cache: HashMap<Uuid, (u64, Case)>,
    fail_before_commit: Option<FailPoint>,
}

impl Projector {
    /// A projector on a store, committing at most `batch` events per transaction.
    pub fn new(store: EventStore, batch: usize) -> Self {
        Self {
            store,
            position: None,
            batch: batch.max(1),
            cache: HashMap::new(),
            fail_before_commit: None,
        }
    }

    /// For tests: `fail(position)` is asked after each batch's read models and checkpoint are
    /// written and before the commit; `true` makes the batch fail there, as a crash would.
    pub fn fail_before_commit(mut self, fail: impl FnMut(u64) -> bool + Send + 'static) -> Self {
        self.fail_before_commit = Some(Box::new(fail));
        self
    }

    /// The committed position the projector goes on from.
    pub async fn position(&mut self) -> Result<u64, StoreError> {
        match self.position {
            Some(p) => Ok(p),
            None => {
                let p = self.store.checkpoint(CHECKPOINT).await?.unwrap_or(0);
                self.position = Some(p);
                Ok(p)
            }
        }
    }

    /// Processes everything up to the head of the log; returns the position reached.
    pub async fn catch_up(&mut self) -> Result<u64, StoreError> {
        loop {
            let after = self.position().await?;
            let events = self.store.read_all(after, self.batch).await?;
            if events.is_empty() {
                return Ok(after);
            }
            self.apply(&events).await?;
        }
    }

    /// Follows the log live until `shutdown` completes. Failures are logged and retried from
    /// the last committed checkpoint.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let after = match self.position().await {
                Ok(p) => p,
                Err(error) => {
                    tracing::warn!(%error, "projector cannot read its checkpoint; retrying");
                    tokio::select! {
                        _ = &mut shutdown => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            let mut batches = self.store.subscribe(after).ready_chunks(self.batch);
            loop {
                let chunk = tokio::select! {
                    _ = &mut shutdown => return,
                    chunk = batches.next() => chunk,
                };
                let Some(chunk) = chunk else { return };
                let result = match chunk.into_iter().collect::<Result<Vec<_>, _>>() {
                    Ok(events) => self.apply(&events).await,
                    Err(error) => Err(error),
                };
                match result {
                    Ok(BatchOutcome::Committed(_)) => {}
                    Ok(BatchOutcome::Moved(_)) => break,
                    Err(error) => {
                        tracing::warn!(%error, "projector batch failed; going on from the last checkpoint");
                        self.position = None;
                        self.cache.clear();
                        tokio::select! {
                            _ = &mut shutdown => return,
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                        break;
                    }
                }
            }
        }
    }

    /// Folds a batch of consecutive events (the first right after the checkpoint) and writes the
    /// read models and the checkpoint in one transaction.
    pub async fn apply(&mut self, events: &[RecordedEvent]) -> Result<BatchOutcome, StoreError> {
        let Some(last) = events.last().map(|e| e.position) else {
            return Ok(BatchOutcome::Committed(self.position().await?));
        };
        let expected = self.position().await?;
        let mut touched: Vec<(Uuid, u64, Case)> = Vec::new();
        let mut index: HashMap<Uuid, usize> = HashMap::new();
        for event in events {
            let Some(e) = envelope(event)? else { continue };
            let i = match index.get(&e.beneficiary) {
                Some(i) => *i,
                None => {
                    let before = e.version - 1;
                    let case = match self.cache.remove(&e.beneficiary) {
                        Some((version, case)) if version == before => case,
                        _ => load_case(&self.store, e.beneficiary, before).await?,
                    };
                    touched.push((e.beneficiary, before, case));
                    index.insert(e.beneficiary, touched.len() - 1);
                    touched.len() - 1
                }
            };
            let (_, version, case) = &mut touched[i];
            case.apply(e.id, e.occurred_on, &e.event);
            *version = e.version;
        }

        let mut tx = self.store.begin().await?;
        let current = tx.checkpoint(CHECKPOINT).await?.unwrap_or(0);
        if current != expected {
            tx.rollback().await?;
            self.cache.clear();
            self.position = Some(current);
            return Ok(BatchOutcome::Moved(current));
        }
        let ids: Vec<Uuid> = touched.iter().map(|(id, _, _)| *id).collect();
        let before = read_models::entries(&mut tx, &ids).await?;
        let after: Vec<Option<CaseloadEntry>> = touched
            .iter()
            .map(|(_, _, case)| CaseloadEntry::of(case))
            .collect();
        let keys: BTreeSet<(Uuid, Uuid)> = before
            .values()
            .chain(after.iter().flatten())
            .map(|e| (e.organisation, e.caseworker))
            .collect();
        let mut caseload = read_models::counts(&mut tx, &keys).await?;
        for ((id, _, _), new) in touched.iter().zip(&after) {
            caseload.replace(before.get(id), new.as_ref());
        }
        read_models::write_counts(&mut tx, &keys, &caseload).await?;
        let plans: Vec<Plan> = touched
            .iter()
            .filter_map(|(_, version, case)| Plan::of(case, *version))
            .collect();
        read_models::write_plans(&mut tx, &plans).await?;
        tx.save_checkpoint(CHECKPOINT, last).await?;
        if let Some(fail) = &mut self.fail_before_commit
            && fail(last)
        {
            tx.rollback().await?;
            return Err(StoreError::Corrupt(format!(
                "injected failure before committing up to position {last}"
            )));
        }
        tx.commit().await?;

        self.position = Some(last);
        if self.cache.len() + touched.len() > CACHE_LIMIT {
            self.cache.clear();
        }
        for (id, version, case) in touched {
            self.cache.insert(id, (version, case));
        }
        Ok(BatchOutcome::Committed(last))
    }
}

/// What a rebuild did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RebuildReport {
    /// Events read and folded.
    pub events: u64,
    /// Beneficiaries whose plans were written.
    pub beneficiaries: u64,
    /// The log position the read models now reflect.
    pub position: u64,
    /// How long it took.
    pub elapsed: Duration,
}

/// Rebuilds the read models from the log in one transaction; `progress(events_done, total)` is
/// called after each page. Until it commits, readers see the old read models; on SQLite, appends
/// wait for it.
///
/// The streams are cut into [`rebuild_parts`] ranges of about as many events each
/// ([`EventStore::stream_splits`]), each read and folded by a task of its own on a connection of
/// its own; a writer task owns the transaction and writes the plans the parts send while they
/// fold on, and hands the transaction back when they are done. Memory holds, per part, the pages
/// in flight and the stream being folded.
pub async fn rebuild(
    store: &EventStore,
    progress: impl FnMut(u64, u64),
) -> Result<RebuildReport, StoreError> {
    rebuild_in_parts(store, rebuild_parts(), progress).await
}

/// [`rebuild`] with the streams cut into this many parts (at least one).
pub async fn rebuild_in_parts(
    store: &EventStore,
    parts: usize,
    mut progress: impl FnMut(u64, u64),
) -> Result<RebuildReport, StoreError> {
    let started = Instant::now();
    // The log may just have been filled (a bulk load): its pages are read by the key only with
    // statistics that say the table is large.
    store.analyze_log().await?;
    let mut tx = store.begin().await?;
    tx.checkpoint(CHECKPOINT).await?;
    let head = store.head().await?;
    read_models::clear(&mut tx).await?;

    let splits = store.stream_splits(STREAM_PREFIX, parts.max(1)).await?;
    let (folded_to, mut folded) = tokio::sync::mpsc::channel(2 * (splits.len() + 1));
    // Dropped on an early return, which ends every part.
    let mut parts = tokio::task::JoinSet::new();
    for k in 0..=splits.len() {
        let range = Range {
            start: k.checked_sub(1).map(|i| splits[i].clone()),
            end: splits.get(k).cloned(),
            upto: head,
        };
        parts.spawn(fold_part(store.clone(), range, folded_to.clone()));
    }
    drop(folded_to);
    let (batches, mut to_write) = tokio::sync::mpsc::channel::<Vec<Plan>>(2);
    let writer = tokio::spawn(async move {
        while let Some(plans) = to_write.recv().await {
            read_models::write_plans(&mut tx, &plans).await?;
        }
        Ok::<_, StoreError>(tx)
    });

    let mut events = 0u64;
    let mut caseload = Caseload::default();
    let mut plans: Vec<Plan> = Vec::with_capacity(REBUILD_BATCH);
    let mut beneficiaries = 0u64;
    while let Some(page) = folded.recv().await {
        let page: Folded = page?;
        events += page.events;
        for entry in &page.entries {
            caseload.replace(None, Some(entry));
        }
        beneficiaries += page.plans.len() as u64;
        plans.extend(page.plans);
        // A closed channel means the writer failed: its error is answered below.
        if plans.len() >= REBUILD_BATCH && batches.send(std::mem::take(&mut plans)).await.is_err() {
            break;
        }
        progress(events, head);
    }
    // After a writer's failure the parts are still sending: closing the channel ends them.
    drop(folded);
    // A part that panicked closed its channel as if it were done: its streams are missing.
    while let Some(part) = parts.join_next().await {
        if let Err(failed) = part
            && failed.is_panic()
        {
            std::panic::resume_unwind(failed.into_panic());
        }
    }
    // As above, a failed send leaves the writer's error to answer.
    let _ = batches.send(plans).await;
    drop(batches);
    let mut tx = match writer.await {
        Ok(written) => written?,
        Err(panicked) => std::panic::resume_unwind(panicked.into_panic()),
    };
    let keys = caseload.counts.keys().copied().collect();
    read_models::write_counts(&mut tx, &keys, &caseload).await?;
    tx.save_checkpoint(CHECKPOINT, head).await?;
    tx.commit().await?;
    // The read models were just rewritten whole.
    store.analyze_read_models().await?;
    Ok(RebuildReport {
        events,
        beneficiaries,
        position: head,
        elapsed: started.elapsed(),
    })
}

/// How many parts a rebuild reads and folds in parallel: one per core, two to four.
pub fn rebuild_parts() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}

/// The streams of one part of a rebuild: from `start` (the first stream when `None`) to before
/// `end` (the last stream when `None`), events up to position `upto`.
struct Range {
    start: Option<String>,
    end: Option<String>,
    upto: u64,
}

/// What a part folded from one page: the plans and caseload entries of the streams it finished.
#[derive(Default)]
struct Folded {
    events: u64,
    plans: Vec<Plan>,
    entries: Vec<CaseloadEntry>,
}

/// Reads and folds one part of a rebuild, stream by stream, sending what each page finished; a
/// reader task fetches the next page while one is folded.
async fn fold_part(
    store: EventStore,
    range: Range,
    folded: tokio::sync::mpsc::Sender<Result<Folded, StoreError>>,
) {
    let (pages, mut next_page) = tokio::sync::mpsc::channel(2);
    let reader = tokio::spawn(read_part(store, range, pages));
    // The events of the stream being read: folded when the next stream starts.
    let mut stream: Vec<Envelope> = Vec::new();
    let mut last_page = false;
    while !last_page {
        let out = match next_page.recv().await {
            Some(Ok(page)) => fold_page(&page, &mut stream),
            Some(Err(e)) => Err(e),
            None => {
                last_page = true;
                let mut out = Folded::default();
                finish(&stream, &mut out);
                Ok(out)
            }
        };
        let failed = out.is_err();
        if folded.send(out).await.is_err() || failed {
            break;
        }
    }
    reader.abort();
}

/// Folds a page of events into `stream`, finishing each stream the page moves past.
fn fold_page(page: &[RecordedEvent], stream: &mut Vec<Envelope>) -> Result<Folded, StoreError> {
    let mut out = Folded::default();
    let events = by_stream(page, stream, |whole| {
        finish(whole, &mut out);
        whole.clear();
    })?;
    out.events += events;
    Ok(out)
}

/// Sends the pages of one part of a rebuild, in stream and version order, until its range ends.
async fn read_part(
    store: EventStore,
    range: Range,
    pages: tokio::sync::mpsc::Sender<Result<Vec<RecordedEvent>, StoreError>>,
) {
    let mut after = (range.start.unwrap_or_default(), 0u64);
    loop {
        let mut page = match store
            .read_streams(STREAM_PREFIX, (&after.0, after.1), range.upto, REBUILD_PAGE)
            .await
        {
            Ok(page) => page,
            Err(e) => {
                let _ = pages.send(Err(e)).await;
                return;
            }
        };
        let full = page.len() == REBUILD_PAGE;
        if let Some(end) = &range.end
            && let Some(cut) = page.iter().position(|e| e.stream_id >= *end)
        {
            page.truncate(cut);
            let _ = pages.send(Ok(page)).await;
            return;
        }
        let Some(last) = page.last() else { return };
        after = (last.stream_id.clone(), last.version);
        if pages.send(Ok(page)).await.is_err() || !full {
            return;
        }
    }
}

fn finish(stream: &[Envelope], out: &mut Folded) {
    let Some(last) = stream.last() else { return };
    let case = Case::from_events(stream.iter().map(|e| (e.id, e.occurred_on, &e.event)));
    out.entries.extend(CaseloadEntry::of(&case));
    if let Some(plan) = Plan::of(&case, last.version) {
        out.plans.push(plan);
    }
}

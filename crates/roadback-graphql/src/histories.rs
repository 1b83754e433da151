//! Beneficiaries' histories as last read, kept between requests: what commands are decided
//! against and views are computed from, without reading a long stream whole each time.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};

use lru::LruCache;

use roadback_domain::projection::{Envelope, History};
use roadback_store::EventStore;
use roadback_store::records::{beneficiary_stream, envelope};
use uuid::Uuid;

use crate::error::ApiError;

/// How many beneficiaries' histories a server keeps between requests (a few MB).
pub const HISTORIES_KEPT: usize = 2_048;

/// A beneficiary's whole history, read from the log; `None` when there is no such record.
pub async fn load_history(
    store: &EventStore,
    beneficiary: Uuid,
) -> Result<Option<History>, ApiError> {
    let mut entries = Vec::new();
    read_tail(store, beneficiary, &mut entries, 0).await?;
    Ok((!entries.is_empty()).then(|| History::new(entries)))
}

/// Appends to `entries` the stream's events after `read_to`; the last version read.
async fn read_tail(
    store: &EventStore,
    beneficiary: Uuid,
    entries: &mut Vec<Envelope>,
    mut read_to: u64,
) -> Result<u64, ApiError> {
    const PAGE: usize = 10_000;
    let stream = beneficiary_stream(beneficiary)?;
    loop {
        let page = store.read_stream(&stream, read_to + 1, PAGE).await?;
        for event in &page {
            if let Some(e) = envelope(event)? {
                entries.push(e);
            }
            read_to = event.version;
        }
        if page.len() < PAGE {
            return Ok(read_to);
        }
    }
}

/// Beneficiaries' histories as last read, each with its case as of now folded (a
/// [`History`] folds what it is extended by, not the whole stream again).
///
/// A read ([`load`](Self::load)) fetches from the log only what was appended since (by any
/// server instance). A command may be decided on the cached history without reading at all
/// ([`cached`](Self::cached)): what guards it is the append's expected version, the version
/// the history was read at, so a history another instance has moved on is refused by the store
/// and read again, and a command is never stored on an old case. What a command appends
/// extends the cached history ([`appended`](Self::appended)) when the history is the one the
/// command was decided on. Events never change once appended, so a cached history extended by
/// its stream's tail *is* the stream. Bounded: past `capacity` histories, the least recently
/// used leaves.
pub struct HistoryCache {
    histories: Mutex<LruCache<Uuid, CachedHistory>>,
}

struct CachedHistory {
    history: Arc<History>,
    /// The stream version the history was read to.
    read_to: u64,
}

impl CachedHistory {
    /// Adds the events of `tail` past what the history holds; it then reflects the stream up
    /// to `read_to`. Extends in place when no request holds the history (the usual case), so
    /// the cost is the tail's, not the history's.
    fn extend(&mut self, tail: Vec<Envelope>, read_to: u64) {
        if read_to <= self.read_to {
            return;
        }
        let held = self.read_to;
        Arc::make_mut(&mut self.history).extend(tail.into_iter().filter(|e| e.version > held));
        self.read_to = read_to;
    }
}

impl HistoryCache {
    /// A cache of at most `capacity` histories (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            histories: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// How many histories it holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, LruCache<Uuid, CachedHistory>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.histories.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The history as this server last read it, and the stream version it was read to, without
    /// reading the log: another instance may have appended since. Only for deciding a command
    /// whose append is checked against that version.
    pub fn cached(&self, beneficiary: Uuid) -> Option<(Arc<History>, u64)> {
        self.lock()
            .get(&beneficiary)
            .map(|c| (c.history.clone(), c.read_to))
    }

    /// The organisation of a beneficiary whose history is kept (without marking it used).
    /// Never stale: a record's organisation is its registration's, which no later event changes
    /// (a correction never changes whose record it is).
    pub fn organisation(&self, beneficiary: Uuid) -> Option<Uuid> {
        let map = self.lock();
        let case = map.peek(&beneficiary)?.history.now();
        case.registration.as_ref().map(|r| r.organisation)
    }

    /// The beneficiary's history as the log holds it now; `None` when there is no such record.
    pub async fn load(
        &self,
        store: &EventStore,
        beneficiary: Uuid,
    ) -> Result<Option<Arc<History>>, ApiError> {
        loop {
            let from = self.lock().get(&beneficiary).map_or(0, |c| c.read_to);
            let mut tail = Vec::new();
            let read_now = read_tail(store, beneficiary, &mut tail, from).await?;
            let mut map = self.lock();
            match map.get_mut(&beneficiary) {
                // What was read continues what the cache holds (or a request read further).
                Some(cached) if cached.read_to >= from => {
                    cached.extend(tail, read_now);
                    return Ok(Some(cached.history.clone()));
                }
                None if from == 0 => {
                    if tail.is_empty() {
                        return Ok(None);
                    }
                    let history = Arc::new(History::new(tail));
                    map.put(
                        beneficiary,
                        CachedHistory {
                            history: history.clone(),
                            read_to: read_now,
                        },
                    );
                    return Ok(Some(history));
                }
                // The history left the cache while its tail was read: read it whole.
                _ => continue,
            }
        }
    }

    /// A command decided on the history at `decided_on` appended `entries`: the cached history
    /// takes them when it is the one the command was decided on and they are the stream's next
    /// events, and is left alone otherwise (it was read further meanwhile, or left the cache, or
    /// the append was a retry answered with events stored at other versions).
    pub fn appended(&self, beneficiary: Uuid, decided_on: u64, entries: Vec<Envelope>) {
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
            return;
        };
        if first.version != decided_on + 1 {
            return;
        }
        let last = last.version;
        let mut map = self.lock();
        match map.get_mut(&beneficiary) {
            Some(cached) if cached.read_to == decided_on => cached.extend(entries, last),
            Some(_) => {}
            None if decided_on == 0 => {
                let history = Arc::new(History::new(entries));
                map.put(
                    beneficiary,
                    CachedHistory {
                        history,
                        read_to: last,
                    },
                );
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use roadback_domain::testing::{play, seeded_steps};

    use super::*;

    /// One beneficiary's stream of at least `len` events, from a seeded random program.
    fn stream(len: usize) -> (Uuid, Vec<Envelope>) {
        for seed in 0.. {
            let entries = play(&seeded_steps(seed, 200, 1, 30), 1);
            if let Some(first) = entries.first()
                && entries.len() >= len
            {
                let id = first.beneficiary;
                return (
                    id,
                    entries
                        .into_iter()
                        .filter(|e| e.beneficiary == id)
                        .collect(),
                );
            }
        }
        unreachable!()
    }

    #[test]
    fn a_command_extends_the_history_only_with_the_streams_next_events() {
        let (id, entries) = stream(8);
        let cache = HistoryCache::new(4);
        let held = |cache: &HistoryCache| {
            let (history, read_to) = cache.cached(id).expect("cached");
            (history.entries().len(), read_to)
        };
        // A registration's events make the history.
        cache.appended(id, 0, entries[..3].to_vec());
        assert_eq!(held(&cache), (3, 3));
        // A retry answered with events stored at other versions changes nothing.
        cache.appended(id, 3, entries[5..6].to_vec());
        assert_eq!(held(&cache), (3, 3));
        // The next events, decided on the history as held, extend it, case included.
        cache.appended(id, 3, entries[3..5].to_vec());
        assert_eq!(held(&cache), (5, 5));
        assert_eq!(
            cache.organisation(id),
            History::new(entries.clone())
                .now()
                .registration
                .as_ref()
                .map(|r| r.organisation)
        );
        assert_eq!(cache.organisation(Uuid::nil()), None);
        let (history, _) = cache.cached(id).unwrap();
        assert_eq!(history.as_ref(), &History::new(entries[..5].to_vec()));
        // A command decided on an older version (its history was read further meanwhile) is
        // left out.
        cache.appended(id, 3, entries[3..4].to_vec());
        assert_eq!(held(&cache), (5, 5));
    }
}

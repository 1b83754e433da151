//! Reads of the SQLite log through rusqlite: the pages replays and subscriptions read, and the
//! streams commands and views read.
//!
//! sqlx-sqlite copies every value of every row (`sqlite3_value_dup`) on its worker thread and
//! hands each row to the async side through a channel; on a rebuild that was most of the CPU
//! (BENCHMARKS.md). Here a blocking task steps the statement and decodes each row in place
//! from the borrowed column values. The connections are read-only, to the same file, opened on
//! first use and kept for the next read; each read is one statement, so none holds a snapshot
//! between reads.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Params, Row};
use uuid::Uuid;

use crate::error::StoreError;
use crate::event::{EventContext, RecordedEvent, stored_payload};
use crate::sqlite::recorded_at;

/// Read-only rusqlite connections to the store's SQLite file.
pub(crate) struct BulkReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Connections kept between reads: as many as the store's pool holds (a rebuild reads with
    /// one per part, the server with one per subscription catching up).
    kept: usize,
    /// Reads at once, as many as connections kept: each holds a blocking thread, a connection
    /// and a page of up to its capacity in events, and subscribers catching up are as many as
    /// the server's clients. More wait for their turn, as the pool's readers do for a
    /// connection.
    reading: tokio::sync::Semaphore,
}

impl std::fmt::Debug for BulkReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkReader")
            .field("path", &self.path)
            .finish()
    }
}

impl BulkReader {
    pub fn new(path: PathBuf, kept: usize) -> Arc<Self> {
        Arc::new(Self {
            path,
            idle: Mutex::new(Vec::new()),
            kept,
            reading: tokio::sync::Semaphore::new(kept.max(1)),
        })
    }

    /// Runs `sql` with `params` on a blocking thread and decodes every row as an event (the
    /// columns of `EVENT_COLUMNS`, in order).
    pub async fn events<P: Params + Send + 'static>(
        self: &Arc<Self>,
        sql: String,
        params: P,
        capacity: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let _turn = self
            .reading
            .acquire()
            .await
            .map_err(|_| StoreError::Corrupt("the log's reader is closed".into()))?;
        let reader = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = match reader.idle.lock().map(|mut idle| idle.pop()) {
                Ok(Some(conn)) => conn,
                _ => reader.open()?,
            };
            let read = read_events(&conn, &sql, params, capacity);
            if read.is_ok()
                && let Ok(mut idle) = reader.idle.lock()
                && idle.len() < reader.kept
            {
                idle.push(conn);
            }
            read
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("a read of the log stopped: {e}")))?
    }

    /// Closes the kept connections (before the store checkpoints and closes its file).
    pub fn close(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        Ok(conn)
    }
}

fn read_events<P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    capacity: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    let mut events = Vec::with_capacity(capacity);
    while let Some(row) = rows.next()? {
        events.push(decode(row)?);
    }
    Ok(events)
}

fn decode(row: &Row<'_>) -> Result<RecordedEvent, StoreError> {
    let occurred_on = text(row, 6)?;
    Ok(RecordedEvent {
        position: row.get::<_, i64>(0)? as u64,
        id: uuid(row, 1)?,
        stream_id: text(row, 2)?.to_string(),
        version: row.get::<_, i64>(3)? as u64,
        event_type: text(row, 4)?.to_string(),
        schema_version: row.get::<_, i64>(5)? as u32,
        occurred_on: occurred_on.parse::<NaiveDate>().map_err(|e| {
            StoreError::Corrupt(format!("occurred_on {occurred_on:?} is not a day: {e}"))
        })?,
        recorded_at: recorded_at(row.get(7)?)?,
        context: EventContext {
            actor: uuid(row, 8)?,
            organisation: uuid(row, 9)?,
            correlation_id: uuid(row, 10)?,
        },
        payload: stored_payload(text(row, 11)?.to_string())?,
    })
}

fn text<'r>(row: &'r Row<'_>, i: usize) -> Result<&'r str, StoreError> {
    match row.get_ref(i)? {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map_err(|e| StoreError::Corrupt(format!("column {i} is not UTF-8: {e}"))),
        other => Err(StoreError::Corrupt(format!(
            "column {i} holds {:?}, not text",
            other.data_type()
        ))),
    }
}

fn uuid(row: &Row<'_>, i: usize) -> Result<Uuid, StoreError> {
    match row.get_ref(i)? {
        ValueRef::Blob(bytes) => Uuid::from_slice(bytes)
            .map_err(|e| StoreError::Corrupt(format!("column {i} is not an id: {e}"))),
        other => Err(StoreError::Corrupt(format!(
            "column {i} holds {:?}, not an id",
            other.data_type()
        ))),
    }
}

//! The access log's writer: the rows of concurrent requests committed together.
//!
//! Every read of a record writes a row before the record is answered, so under load the access
//! log takes as many commits as there are reads. One task per store takes every row waiting
//! and inserts them with one statement, one commit; each caller still waits for its own row to
//! be durable, and hears its own failure. A batch the database refuses is written again row by
//! row, so one bad row fails only its own request.

use std::future::Future;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::PgConnection;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::error::StoreError;
use crate::postgres::HeldConnection;
use crate::sqlite::Turn;

/// Most rows inserted by one statement.
const MAX_BATCH: usize = 256;
/// Rows waiting for the writer before callers feel back-pressure.
const QUEUE_DEPTH: usize = 4096;

/// One access-log row.
#[derive(Clone, Debug)]
pub(crate) struct AccessRow {
    pub at: DateTime<Utc>,
    pub user: Uuid,
    pub organisation: Uuid,
    pub beneficiary: Option<Uuid>,
    pub action: String,
    pub purpose: String,
}

/// A backend's way of inserting rows in one statement.
pub(crate) trait AccessSink: Send + 'static {
    /// Waits until an insert could begin (on SQLite, the writers' turn), before the rows are
    /// gathered: what arrives meanwhile joins them.
    fn ready(&mut self) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }

    /// Inserts `rows`, all or none.
    fn insert(&mut self, rows: &[AccessRow])
    -> impl Future<Output = Result<(), StoreError>> + Send;
}

type Reply = oneshot::Sender<Result<(), StoreError>>;

/// The handle callers use to reach the access log's writer task.
#[derive(Clone, Debug)]
pub(crate) struct AccessLog {
    tx: mpsc::Sender<(AccessRow, Reply)>,
}

impl AccessLog {
    /// Starts the writer task.
    pub fn spawn(sink: impl AccessSink) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(run(sink, rx));
        Self { tx }
    }

    /// Writes one row; returns once it is committed.
    pub async fn write(&self, row: AccessRow) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((row, reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run(mut sink: impl AccessSink, mut rx: mpsc::Receiver<(AccessRow, Reply)>) {
    let mut waiting = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut waiting, MAX_BATCH).await > 0 {
        sink.ready().await;
        while waiting.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(row) => waiting.push(row),
                Err(_) => break,
            }
        }
        let (rows, replies): (Vec<AccessRow>, Vec<Reply>) = waiting.drain(..).unzip();
        match sink.insert(&rows).await {
            Err(StoreError::Database(_)) if rows.len() > 1 => {
                for (row, reply) in rows.into_iter().zip(replies) {
                    let _ = reply.send(sink.insert(std::slice::from_ref(&row)).await);
                }
            }
            result => {
                for reply in replies {
                    let _ = reply.send(result.clone());
                }
            }
        }
    }
}

/// PostgreSQL: one `INSERT ... SELECT FROM unnest(...)` on a connection of the writer's own.
pub(crate) struct PgAccessSink(pub HeldConnection);

impl AccessSink for PgAccessSink {
    async fn insert(&mut self, rows: &[AccessRow]) -> Result<(), StoreError> {
        let at: Vec<_> = rows.iter().map(|r| r.at).collect();
        let users: Vec<_> = rows.iter().map(|r| r.user).collect();
        let organisations: Vec<_> = rows.iter().map(|r| r.organisation).collect();
        let beneficiaries: Vec<_> = rows.iter().map(|r| r.beneficiary).collect();
        let actions: Vec<_> = rows.iter().map(|r| r.action.as_str()).collect();
        let purposes: Vec<_> = rows.iter().map(|r| r.purpose.as_str()).collect();
        loop {
            let conn: &mut PgConnection = self.0.get().await?;
            let done = sqlx::query(
                "INSERT INTO access_log (at, user_id, organisation_id, beneficiary_id, action, purpose) \
                 SELECT * FROM unnest($1::timestamptz[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[])",
            )
            .bind(&at)
            .bind(&users)
            .bind(&organisations)
            .bind(&beneficiaries)
            .bind(&actions)
            .bind(&purposes)
            .execute(conn)
            .await;
            if let Some(done) = self.0.checked(done) {
                done?;
                return Ok(());
            }
        }
    }
}

/// SQLite: the rows inserted in one transaction on the connection the event writer commits on,
/// in turn with it ([`Turn`]).
pub(crate) struct SqliteAccessSink(pub Turn);

impl AccessSink for SqliteAccessSink {
    async fn ready(&mut self) {
        self.0.wait().await;
    }

    async fn insert(&mut self, rows: &[AccessRow]) -> Result<(), StoreError> {
        let (_, inserted) = self
            .0
            .take()
            .await
            .write(rows.to_vec(), insert_rows)
            .await?;
        inserted
    }
}

fn insert_rows(tx: &rusqlite::Transaction<'_>, rows: &Vec<AccessRow>) -> Result<(), StoreError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO access_log (at, user_id, organisation_id, beneficiary_id, action, purpose) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for r in rows {
        insert.execute(rusqlite::params![
            // As sqlx writes a time (and reads it back).
            r.at.to_rfc3339_opts(SecondsFormat::AutoSi, false),
            r.user.as_bytes().as_slice(),
            r.organisation.as_bytes().as_slice(),
            r.beneficiary.as_ref().map(|b| b.as_bytes().as_slice()),
            r.action,
            r.purpose,
        ])?;
    }
    Ok(())
}

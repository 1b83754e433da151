//! The persisted read models (plans and caseload counts): written by the projector inside its
//! transaction, read by the API. The same SQL serves both backends (written once, compiled for
//! each through the macros of `sql.rs`).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use roadback_domain::Plan;
use roadback_domain::projection::{Caseload, CaseloadCounts, CaseloadEntry};
use roadback_domain::status::Status;
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use crate::EventStore;
use crate::error::StoreError;
use crate::sql::{on_pool, on_transaction};
use crate::transaction::StoreTransaction;

/// Which plans a list shows, narrowed by each field that is set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanFilter {
    /// Only this assisting organisation's (all organisations when unset: evaluation).
    pub organisation: Option<Uuid>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only this caseworker's cases.
    pub caseworker: Option<Uuid>,
    /// Only open or only closed cases.
    pub closed: Option<bool>,
    /// Only open cases whose review was due before this day.
    pub review_overdue_on: Option<NaiveDate>,
    /// Only case codes containing this text (any case).
    pub case_code_contains: Option<String>,
}

impl PlanFilter {
    fn push_where<'a, Db: sqlx::Database>(&'a self, q: &mut QueryBuilder<'a, Db>)
    where
        Uuid: sqlx::Encode<'a, Db> + sqlx::Type<Db>,
        String: sqlx::Encode<'a, Db> + sqlx::Type<Db>,
        bool: sqlx::Encode<'a, Db> + sqlx::Type<Db>,
        NaiveDate: sqlx::Encode<'a, Db> + sqlx::Type<Db>,
    {
        q.push(" WHERE 1 = 1");
        if let Some(organisation) = self.organisation {
            q.push(" AND organisation_id = ").push_bind(organisation);
        }
        if let Some(status) = self.status {
            q.push(" AND status = ").push_bind(status_code(status));
        }
        if let Some(caseworker) = self.caseworker {
            q.push(" AND caseworker_id = ").push_bind(caseworker);
        }
        if let Some(closed) = self.closed {
            q.push(" AND closed = ").push_bind(closed);
        }
        if let Some(day) = self.review_overdue_on {
            q.push(" AND NOT closed AND next_review_on < ")
                .push_bind(day);
        }
        if let Some(text) = &self.case_code_contains {
            let escaped = text
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q.push(" AND lower(case_code) LIKE ")
                .push_bind(format!("%{escaped}%"))
                .push(" ESCAPE '\\'");
        }
    }
}

/// Rows per multi-row statement (at most 10 parameters each: well under both backends' limits).
const CHUNK: usize = 500;

/// The stored code of a status (its serde name, e.g. `in_crisis_care`).
pub(crate) fn status_code(status: Status) -> String {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(code)) => code,
        _ => format!("{status:?}"),
    }
}

/// A plan as stored: the JSON text it serialises to (only ever read whole, so PostgreSQL keeps
/// it as text, not jsonb: no parse on write, no rendering on read).
fn plan_text(plan: &Plan) -> Result<String, StoreError> {
    serde_json::to_string(plan)
        .map_err(|e| StoreError::Corrupt(format!("a plan did not serialise: {e}")))
}

fn parse_plan(text: &str) -> Result<Plan, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("a stored plan did not parse: {e}")))
}

fn parse_status(code: String) -> Result<Status, StoreError> {
    serde_json::from_value(serde_json::Value::String(code))
        .map_err(|e| StoreError::Corrupt(format!("unknown status in a read model: {e}")))
}

/// Pushes `(a, b), (c, d)...)` : the rest of a `(organisation_id, caseworker_id) IN (` list.
fn push_keys<'a, Db: sqlx::Database>(q: &mut QueryBuilder<'a, Db>, keys: &'a [(Uuid, Uuid)])
where
    Uuid: sqlx::Encode<'a, Db> + sqlx::Type<Db>,
{
    let mut list = q.separated(", ");
    for (organisation, caseworker) in keys {
        list.push("(");
        list.push_bind_unseparated(*organisation);
        list.push_unseparated(", ");
        list.push_bind_unseparated(*caseworker);
        list.push_unseparated(")");
    }
    q.push(")");
}

/// The caseload entries stored for these beneficiaries.
pub(crate) async fn entries(
    tx: &mut StoreTransaction,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, CaseloadEntry>, StoreError> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows = on_transaction!(tx, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(
                "SELECT beneficiary_id, organisation_id, caseworker_id, case_code, status, closed, \
                 next_review_on, last_activity_on FROM plans WHERE beneficiary_id IN (",
            );
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            q.push(")");
            q.build()
                .fetch_all(conn)
                .await?
                .into_iter()
                .map(|row| {
                    Ok::<_, StoreError>(CaseloadEntry {
                        beneficiary_id: row.try_get(0)?,
                        organisation: row.try_get(1)?,
                        caseworker: row.try_get(2)?,
                        case_code: row.try_get(3)?,
                        status: parse_status(row.try_get(4)?)?,
                        closed: row.try_get(5)?,
                        next_review_on: row.try_get::<Option<NaiveDate>, _>(6)?,
                        last_activity_on: row.try_get(7)?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        });
        found.extend(rows.into_iter().map(|e| (e.beneficiary_id, e)));
    }
    Ok(found)
}

/// The caseload counts stored for these (organisation, caseworker) keys.
pub(crate) async fn counts(
    tx: &mut StoreTransaction,
    keys: &BTreeSet<(Uuid, Uuid)>,
) -> Result<Caseload, StoreError> {
    let keys: Vec<_> = keys.iter().copied().collect();
    let mut caseload = Caseload::default();
    for chunk in keys.chunks(CHUNK) {
        let rows = on_transaction!(tx, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(
                "SELECT organisation_id, caseworker_id, open_cases, closed_cases, by_status \
                 FROM caseload WHERE (organisation_id, caseworker_id) IN (",
            );
            push_keys(&mut q, chunk);
            q.build()
                .fetch_all(conn)
                .await?
                .into_iter()
                .map(|row| {
                    let by_status: Json<_> = row.try_get(4)?;
                    Ok::<_, StoreError>((
                        (row.try_get(0)?, row.try_get(1)?),
                        CaseloadCounts {
                            open: row.try_get::<i32, _>(2)? as u32,
                            closed: row.try_get::<i32, _>(3)? as u32,
                            by_status: by_status.0,
                        },
                    ))
                })
                .collect::<Result<Vec<_>, _>>()?
        });
        caseload.counts.extend(rows);
    }
    Ok(caseload)
}

/// Writes the counts of these keys: present ones upserted, absent ones deleted.
pub(crate) async fn write_counts(
    tx: &mut StoreTransaction,
    keys: &BTreeSet<(Uuid, Uuid)>,
    caseload: &Caseload,
) -> Result<(), StoreError> {
    let (present, gone): (Vec<_>, Vec<_>) = keys
        .iter()
        .partition(|key| caseload.counts.contains_key(key));
    for chunk in gone.chunks(CHUNK) {
        on_transaction!(tx, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(
                "DELETE FROM caseload WHERE (organisation_id, caseworker_id) IN (",
            );
            push_keys(&mut q, chunk);
            q.build().execute(conn).await?;
        });
    }
    for chunk in present.chunks(CHUNK) {
        on_transaction!(tx, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(
                "INSERT INTO caseload (organisation_id, caseworker_id, open_cases, closed_cases, by_status) ",
            );
            q.push_values(chunk, |mut row, key| {
                let counts = &caseload.counts[key];
                row.push_bind(key.0)
                    .push_bind(key.1)
                    .push_bind(counts.open as i32)
                    .push_bind(counts.closed as i32)
                    .push_bind(Json(counts.by_status.clone()));
            });
            q.push(
                " ON CONFLICT (organisation_id, caseworker_id) DO UPDATE SET \
                 open_cases = excluded.open_cases, closed_cases = excluded.closed_cases, \
                 by_status = excluded.by_status",
            );
            q.build().execute(conn).await?;
        });
    }
    Ok(())
}

/// Inserts or replaces these plans.
pub(crate) async fn write_plans(
    tx: &mut StoreTransaction,
    plans: &[Plan],
) -> Result<(), StoreError> {
    for chunk in plans.chunks(CHUNK) {
        let texts = chunk.iter().map(plan_text).collect::<Result<Vec<_>, _>>()?;
        on_transaction!(tx, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(
                "INSERT INTO plans (beneficiary_id, organisation_id, caseworker_id, case_code, status, \
                 closed, next_review_on, last_activity_on, version, plan) ",
            );
            q.push_values(chunk.iter().zip(texts), |mut row, (plan, text)| {
                row.push_bind(plan.beneficiary_id)
                    .push_bind(plan.organisation)
                    .push_bind(plan.caseworker)
                    .push_bind(plan.case_code.clone())
                    .push_bind(status_code(plan.status))
                    .push_bind(plan.closed)
                    .push_bind(plan.next_review_on)
                    .push_bind(plan.last_activity_on)
                    .push_bind(plan.version as i64)
                    .push_bind(text);
            });
            q.push(
                " ON CONFLICT (beneficiary_id) DO UPDATE SET organisation_id = excluded.organisation_id, \
                 caseworker_id = excluded.caseworker_id, case_code = excluded.case_code, \
                 status = excluded.status, closed = excluded.closed, \
                 next_review_on = excluded.next_review_on, last_activity_on = excluded.last_activity_on, \
                 version = excluded.version, plan = excluded.plan",
            );
            q.build().execute(conn).await?;
        });
    }
    Ok(())
}

/// Empties both read models (before a rebuild, inside its transaction).
pub(crate) async fn clear(tx: &mut StoreTransaction) -> Result<(), StoreError> {
    on_transaction!(tx, Db, conn => {
        sqlx::query("DELETE FROM plans").execute(&mut *conn).await?;
        sqlx::query("DELETE FROM caseload").execute(&mut *conn).await?;
    });
    Ok(())
}

impl EventStore {
    /// The stored plan of a beneficiary, as far as the projector has come.
    pub async fn plan(&self, beneficiary: Uuid) -> Result<Option<Plan>, StoreError> {
        Ok(self.plans(&[beneficiary]).await?.pop())
    }

    /// The stored plans of these beneficiaries (unknown ones are skipped), in no set order.
    pub async fn plans(&self, ids: &[Uuid]) -> Result<Vec<Plan>, StoreError> {
        let mut plans = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let found: Vec<String> = on_pool!(self, Db, conn => {
                let mut q = QueryBuilder::<Db>::new("SELECT plan FROM plans WHERE beneficiary_id IN (");
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                q.push(")");
                q.build_query_scalar().fetch_all(conn).await?
            });
            for text in found {
                plans.push(parse_plan(&text)?);
            }
        }
        Ok(plans)
    }

    /// A page of plans matching the filter, ordered by case code then id, after a cursor.
    pub async fn plans_page(
        &self,
        filter: &PlanFilter,
        after: Option<(String, Uuid)>,
        limit: usize,
    ) -> Result<Vec<Plan>, StoreError> {
        let plans: Vec<String> = on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new("SELECT plan FROM plans");
            filter.push_where(&mut q);
            if let Some((code, id)) = &after {
                q.push(" AND (case_code, beneficiary_id) > (")
                    .push_bind(code.clone())
                    .push(", ")
                    .push_bind(*id)
                    .push(")");
            }
            q.push(" ORDER BY case_code, beneficiary_id LIMIT ").push_bind(limit as i64);
            q.build_query_scalar().fetch_all(conn).await?
        });
        plans.iter().map(|text| parse_plan(text)).collect()
    }

    /// How many plans match the filter.
    pub async fn count_plans(&self, filter: &PlanFilter) -> Result<u64, StoreError> {
        let count: i64 = on_pool!(self, Db, conn => {
            let mut q = QueryBuilder::<Db>::new("SELECT count(*) FROM plans");
            filter.push_where(&mut q);
            q.build_query_scalar().fetch_one(conn).await?
        });
        Ok(count as u64)
    }

    /// Every stored plan (for tests and exports; the API pages through them instead).
    pub async fn all_plans(&self) -> Result<Vec<Plan>, StoreError> {
        let plans: Vec<String> = on_pool!(self, Db, conn => {
            sqlx::query_scalar("SELECT plan FROM plans ORDER BY beneficiary_id")
                .fetch_all(conn)
                .await?
        });
        plans.iter().map(|text| parse_plan(text)).collect()
    }

    /// The caseload counts of every organisation and caseworker.
    pub async fn caseload(&self) -> Result<Caseload, StoreError> {
        self.caseload_of(None).await
    }

    /// The caseload counts of one organisation's caseworkers (all when `None`).
    pub async fn caseload_of(&self, organisation: Option<Uuid>) -> Result<Caseload, StoreError> {
        let mut tx = self.begin_read().await?;
        let keys: Vec<(Uuid, Uuid)> = on_transaction!(&mut tx, Db, conn => {
            let mut q = QueryBuilder::<Db>::new("SELECT organisation_id, caseworker_id FROM caseload");
            if let Some(organisation) = organisation {
                q.push(" WHERE organisation_id = ").push_bind(organisation);
            }
            q.build_query_as().fetch_all(conn).await?
        });
        let caseload = counts(&mut tx, &keys.into_iter().collect()).await;
        tx.rollback().await?;
        caseload
    }
}

//! SQL written once for both backends: each macro expands its block twice, once per backend,
//! with `$db` naming the database type and `$conn` a connection of that backend.

/// Runs a block on a [`StoreTransaction`](crate::StoreTransaction)'s connection.
macro_rules! on_transaction {
    ($tx:expr, $db:ident, $conn:ident => $body:block) => {
        match $tx {
            $crate::StoreTransaction::Postgres(tx) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                let $conn = &mut **tx;
                $body
            }
            $crate::StoreTransaction::Sqlite(tx) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

/// Runs a block on a pooled connection of the store's backend.
macro_rules! on_pool {
    ($store:expr, $db:ident, $conn:ident => $body:block) => {
        match &$store.inner.backend {
            $crate::Backend::Postgres(b) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                let mut pooled = b.pool.acquire().await?;
                let $conn = &mut *pooled;
                $body
            }
            $crate::Backend::Sqlite(b) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                let mut pooled = b.pool.acquire().await?;
                let $conn = &mut *pooled;
                $body
            }
        }
    };
}

pub(crate) use {on_pool, on_transaction};

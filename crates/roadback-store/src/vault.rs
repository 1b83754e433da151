//! The personal-data vault: each beneficiary's personal data sealed under their own data key
//! (XChaCha20-Poly1305, a random 192-bit nonce per seal, the beneficiary's id as associated
//! data), the data key kept only wrapped by a master key from the configuration.
//!
//! Erasure deletes the data key and the sealed data (crypto-shredding: any copy of the sealed
//! bytes left in backups is unreadable without the key). Rotation re-wraps every data key under
//! a new master key while the server keeps running: during a rotation the server is configured
//! with the new key as current and the old one as previous, and reads either.
//!
//! The vault also keeps the deployment's own secret ([`DeploymentSecret`]: evaluation
//! pseudonyms and opaque page cursors) as a data key under a reserved id: every server of the
//! deployment shares it, a rotation re-wraps it like the others, and no erasure touches it.

use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::Utc;
use roadback_domain::personal::PersonalData;
use sha2::{Digest, Sha256};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use crate::EventStore;
use crate::error::StoreError;
use crate::sql::{on_pool, on_transaction};

const NONCE: usize = 24;
/// The vault entry of the deployment secret: no beneficiary has the nil id (theirs are
/// derived from idempotency keys), and erasing or storing personal data under it is refused.
const DEPLOYMENT: Uuid = Uuid::nil();
/// Data keys re-wrapped per transaction by a rotation.
const ROTATION_BATCH: i64 = 500;

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the operating system's random source is available");
    out
}

/// A 256-bit master key, known by its fingerprint.
#[derive(Clone)]
pub struct MasterKey {
    key: [u8; 32],
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    /// A new random master key.
    pub fn generate() -> Self {
        Self::from_bytes(random_bytes::<32>())
    }

    fn from_bytes(key: [u8; 32]) -> Self {
        let digest = Sha256::digest([b"roadback master key ".as_slice(), &key].concat());
        let id = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self { key, id }
    }

    /// A master key from 64 hexadecimal characters.
    pub fn from_hex(hex: &str) -> Result<Self, String> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("a master key is 64 hexadecimal characters (256 bits)".into());
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
        }
        Ok(Self::from_bytes(key))
    }

    /// The key as 64 hexadecimal characters (for writing a key file).
    pub fn to_hex(&self) -> String {
        self.key.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The fingerprint stored beside each data key it wraps.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.key.into())
    }
}

/// The master keys a server knows: the current one wraps new and rotated data keys; previous
/// ones are only read.
#[derive(Clone, Debug)]
pub struct Keyring {
    /// Wraps new data keys.
    pub current: MasterKey,
    /// Still unwraps data keys that a rotation has not reached yet.
    pub previous: Vec<MasterKey>,
}

impl Keyring {
    /// A keyring of one key.
    pub fn new(current: MasterKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    fn by_id(&self, id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
    }
}

/// What the vault holds for a beneficiary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Personal {
    /// Nothing recorded.
    Empty,
    /// The personal data.
    Data(PersonalData),
    /// Erased for good.
    Erased,
}

fn seal(cipher: &XChaCha20Poly1305, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
    let nonce = random_bytes::<NONCE>();
    let sealed = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
        .map_err(|_| StoreError::Corrupt("sealing failed".into()))?;
    Ok([nonce.as_slice(), &sealed].concat())
}

fn open(cipher: &XChaCha20Poly1305, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
    if sealed.len() < NONCE {
        return Err(StoreError::Corrupt(
            "a sealed vault value is too short".into(),
        ));
    }
    let (nonce, body) = sealed.split_at(NONCE);
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
        .map_err(|_| {
            StoreError::Corrupt(
                "a vault value does not decrypt: wrong key, or tampered with".into(),
            )
        })
}

fn aad(beneficiary: Uuid, what: &[u8]) -> Vec<u8> {
    [beneficiary.as_bytes().as_slice(), what].concat()
}

/// The deployment's secret, from which two keys are derived: one for evaluation pseudonyms
/// (HMAC-SHA-256 of a beneficiary's id: stable across cut-offs, servers and master-key
/// rotations, and not recomputable by anyone who only knows the id) and one sealing page
/// cursors (XChaCha20-Poly1305, so a cursor reveals nothing of the page it points after and
/// cannot be forged).
#[derive(Clone)]
pub struct DeploymentSecret {
    pseudonyms: [u8; 32],
    cursors: XChaCha20Poly1305,
}

impl std::fmt::Debug for DeploymentSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeploymentSecret(..)")
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    let mut mac =
        <hmac::Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl DeploymentSecret {
    /// The keys derived from a 256-bit secret.
    pub fn new(secret: [u8; 32]) -> Self {
        Self {
            pseudonyms: hmac_sha256(&secret, b"roadback evaluation pseudonyms v1"),
            cursors: XChaCha20Poly1305::new(
                &hmac_sha256(&secret, b"roadback page cursors v1").into(),
            ),
        }
    }

    /// A beneficiary's pseudonym in evaluation data: 32 hexadecimal characters.
    pub fn pseudonym(&self, beneficiary: Uuid) -> String {
        hmac_sha256(&self.pseudonyms, beneficiary.as_bytes())[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A page cursor of a `kind` of list: `position` sealed, in URL-safe base64.
    pub fn seal_cursor(&self, kind: &str, position: &[u8]) -> String {
        use base64::Engine;
        let sealed = seal(&self.cursors, position, kind.as_bytes())
            .expect("sealing a short cursor cannot fail");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed)
    }

    /// The position a cursor of this `kind` holds; `None` for anything this deployment did not
    /// give out for that kind of list.
    pub fn open_cursor(&self, kind: &str, cursor: &str) -> Option<Vec<u8>> {
        use base64::Engine;
        let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()?;
        open(&self.cursors, &sealed, kind.as_bytes()).ok()
    }
}

/// A stored entry: the master key's fingerprint, the wrapped data key, the sealed data.
type SealedRow = (String, Vec<u8>, Vec<u8>);

/// The vault over a store, with the keys to open it.
#[derive(Clone, Debug)]
pub struct Vault {
    store: EventStore,
    keys: Arc<Keyring>,
}

impl Vault {
    /// A vault on a store.
    pub fn new(store: EventStore, keys: Keyring) -> Self {
        Self {
            store,
            keys: Arc::new(keys),
        }
    }

    /// The current master key's fingerprint.
    pub fn current_key_id(&self) -> &str {
        self.keys.current.id()
    }

    fn unwrap_key(
        &self,
        beneficiary: Uuid,
        key_id: &str,
        wrapped: &[u8],
    ) -> Result<XChaCha20Poly1305, StoreError> {
        let master = self.keys.by_id(key_id).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "a data key is wrapped by master key {key_id}, which is not configured"
            ))
        })?;
        let key = open(&master.cipher(), wrapped, &aad(beneficiary, b"key"))?;
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| StoreError::Corrupt("a data key has the wrong length".into()))?;
        Ok(XChaCha20Poly1305::new(&key.into()))
    }

    /// The deployment secret, made on first use by whichever server comes first (every other
    /// server then reads the same one).
    pub async fn deployment_secret(&self) -> Result<DeploymentSecret, StoreError> {
        let mut tx = self.store.begin().await?;
        let mut stored: Option<(String, Vec<u8>)> = on_transaction!(&mut tx, Db, conn => {
            let mut q = QueryBuilder::<Db>::new("SELECT master_key_id, wrapped_key FROM vault_keys WHERE beneficiary_id = ");
            q.push_bind(DEPLOYMENT);
            q.build_query_as().fetch_optional(conn).await?
        });
        if stored.is_none() {
            let fresh = random_bytes::<32>();
            let wrapped = seal(
                &self.keys.current.cipher(),
                &fresh,
                &aad(DEPLOYMENT, b"key"),
            )?;
            let key_id = self.keys.current.id().to_string();
            stored = on_transaction!(&mut tx, Db, conn => {
                let mut q = QueryBuilder::<Db>::new("INSERT INTO vault_keys (beneficiary_id, master_key_id, wrapped_key, created_at) VALUES (");
                q.separated(", ").push_bind(DEPLOYMENT).push_bind(key_id).push_bind(wrapped).push_bind(Utc::now());
                q.push(") ON CONFLICT (beneficiary_id) DO NOTHING");
                q.build().execute(&mut *conn).await?;
                let mut q = QueryBuilder::<Db>::new("SELECT master_key_id, wrapped_key FROM vault_keys WHERE beneficiary_id = ");
                q.push_bind(DEPLOYMENT);
                q.build_query_as().fetch_optional(&mut *conn).await?
            });
        }
        tx.commit().await?;
        let (key_id, wrapped) = stored.ok_or_else(|| {
            StoreError::Corrupt("the deployment secret could not be stored".into())
        })?;
        let master = self.keys.by_id(&key_id).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the deployment secret is wrapped by master key {key_id}, which is not configured"
            ))
        })?;
        let secret: [u8; 32] = open(&master.cipher(), &wrapped, &aad(DEPLOYMENT, b"key"))?
            .try_into()
            .map_err(|_| {
                StoreError::Corrupt("the deployment secret has the wrong length".into())
            })?;
        Ok(DeploymentSecret::new(secret))
    }

    /// Stores (replaces) a beneficiary's personal data; refused once they were erased.
    pub async fn put(&self, beneficiary: Uuid, data: &PersonalData) -> Result<(), StoreError> {
        self.put_many(&[(beneficiary, data.clone())]).await
    }

    /// Stores the personal data of several beneficiaries in one transaction (one durable
    /// commit); refused as a whole if any of them was erased.
    pub async fn put_many(&self, items: &[(Uuid, PersonalData)]) -> Result<(), StoreError> {
        if items.iter().any(|(id, _)| *id == DEPLOYMENT) {
            return Err(StoreError::Corrupt("the nil id is reserved".into()));
        }
        let mut tx = self.store.begin().await?;
        for (beneficiary, data) in items {
            self.put_in(&mut tx, *beneficiary, data).await?;
        }
        tx.commit().await
    }

    async fn put_in(
        &self,
        tx: &mut crate::StoreTransaction,
        beneficiary: Uuid,
        data: &PersonalData,
    ) -> Result<(), StoreError> {
        let plain = serde_json::to_vec(data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let existing: Option<(String, Vec<u8>)>;
        let erased: bool;
        (existing, erased) = on_transaction!(&mut *tx, Db, conn => {
            let mut q = QueryBuilder::<Db>::new("SELECT count(*) FROM vault_erasures WHERE beneficiary_id = ");
            q.push_bind(beneficiary);
            let erased: i64 = q.build_query_scalar().fetch_one(&mut *conn).await?;
            let mut q = QueryBuilder::<Db>::new("SELECT master_key_id, wrapped_key FROM vault_keys WHERE beneficiary_id = ");
            q.push_bind(beneficiary);
            (q.build_query_as().fetch_optional(&mut *conn).await?, erased > 0)
        });
        if erased {
            return Err(StoreError::Erased { beneficiary });
        }
        let cipher = match &existing {
            Some((key_id, wrapped)) => self.unwrap_key(beneficiary, key_id, wrapped)?,
            None => {
                let key = random_bytes::<32>();
                let wrapped = seal(&self.keys.current.cipher(), &key, &aad(beneficiary, b"key"))?;
                let key_id = self.keys.current.id().to_string();
                on_transaction!(&mut *tx, Db, conn => {
                    let mut q = QueryBuilder::<Db>::new("INSERT INTO vault_keys (beneficiary_id, master_key_id, wrapped_key, created_at) VALUES (");
                    q.separated(", ").push_bind(beneficiary).push_bind(key_id).push_bind(wrapped).push_bind(Utc::now());
                    q.push(")");
                    q.build().execute(conn).await?;
                });
                XChaCha20Poly1305::new(&key.into())
            }
        };
        let sealed = seal(&cipher, &plain, &aad(beneficiary, b"data"))?;
        on_transaction!(&mut *tx, Db, conn => {
            let mut q = QueryBuilder::<Db>::new("INSERT INTO vault_entries (beneficiary_id, sealed, updated_at) VALUES (");
            q.separated(", ").push_bind(beneficiary).push_bind(sealed).push_bind(Utc::now());
            q.push(") ON CONFLICT (beneficiary_id) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at");
            q.build().execute(conn).await?;
        });
        Ok(())
    }

    /// A beneficiary's personal data.
    pub async fn get(&self, beneficiary: Uuid) -> Result<Personal, StoreError> {
        let (row, erased): (Option<SealedRow>, i64) = on_pool!(self.store, Db, conn => {
            let mut q = QueryBuilder::<Db>::new(
                "SELECT k.master_key_id, k.wrapped_key, e.sealed FROM vault_entries e \
                 JOIN vault_keys k ON k.beneficiary_id = e.beneficiary_id WHERE e.beneficiary_id = ",
            );
            q.push_bind(beneficiary);
            let row = q.build().fetch_optional(&mut *conn).await?.map(|r| {
                Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
            }).transpose()?;
            let mut q = QueryBuilder::<Db>::new("SELECT count(*) FROM vault_erasures WHERE beneficiary_id = ");
            q.push_bind(beneficiary);
            (row, q.build_query_scalar().fetch_one(&mut *conn).await?)
        });
        if erased > 0 {
            return Ok(Personal::Erased);
        }
        let Some((key_id, wrapped, sealed)) = row else {
            return Ok(Personal::Empty);
        };
        let cipher = self.unwrap_key(beneficiary, &key_id, &wrapped)?;
        let plain = open(&cipher, &sealed, &aad(beneficiary, b"data"))?;
        serde_json::from_slice(&plain)
            .map(Personal::Data)
            .map_err(|e| StoreError::Corrupt(format!("vault entry: {e}")))
    }

    /// Opens a sealed entry as a copy (a backup, a dump) would hold it, with the data key the
    /// vault holds for the beneficiary now: fails once they were erased.
    pub async fn open_sealed(
        &self,
        beneficiary: Uuid,
        sealed: &[u8],
    ) -> Result<PersonalData, StoreError> {
        let key: Option<(String, Vec<u8>)> = on_pool!(self.store, Db, conn => {
            let mut q = QueryBuilder::<Db>::new("SELECT master_key_id, wrapped_key FROM vault_keys WHERE beneficiary_id = ");
            q.push_bind(beneficiary);
            q.build_query_as().fetch_optional(conn).await?
        });
        let (key_id, wrapped) = key.ok_or(StoreError::Erased { beneficiary })?;
        let cipher = self.unwrap_key(beneficiary, &key_id, &wrapped)?;
        let plain = open(&cipher, sealed, &aad(beneficiary, b"data"))?;
        serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt(format!("vault entry: {e}")))
    }

    /// Erases a beneficiary's personal data for good: the data key and the sealed data are
    /// deleted, and the erasure is remembered. Erasing twice is harmless.
    pub async fn erase(&self, beneficiary: Uuid) -> Result<(), StoreError> {
        if beneficiary == DEPLOYMENT {
            return Err(StoreError::Corrupt("the nil id is reserved".into()));
        }
        let mut tx = self.store.begin().await?;
        on_transaction!(&mut tx, Db, conn => {
            for table in ["vault_entries", "vault_keys"] {
                let mut q = QueryBuilder::<Db>::new(format!("DELETE FROM {table} WHERE beneficiary_id = "));
                q.push_bind(beneficiary);
                q.build().execute(&mut *conn).await?;
            }
            let mut q = QueryBuilder::<Db>::new("INSERT INTO vault_erasures (beneficiary_id, erased_at) VALUES (");
            q.separated(", ").push_bind(beneficiary).push_bind(Utc::now());
            q.push(") ON CONFLICT (beneficiary_id) DO NOTHING");
            q.build().execute(&mut *conn).await?;
        });
        tx.commit().await?;
        // The erasure holds; what is left is copies of the deleted rows in the database's
        // files. Failing to remove them now is logged, not the erasure's failure.
        if let Err(error) = self.scrub().await {
            tracing::warn!(%error, cause = error.cause(), "the erased rows could not be scrubbed from the database files yet; the next erasure or shutdown retries");
        }
        Ok(())
    }

    /// Removes the copies an erasure leaves in the database's files: on SQLite the
    /// write-ahead log still holds the deleted rows until it is checkpointed into the file
    /// (where `secure_delete` has zeroed them) and truncated; on PostgreSQL the dead row
    /// versions stay in the tables' files until they are rewritten (`VACUUM FULL`, a brief
    /// exclusive lock on the two small vault tables). What no database command reaches (WAL
    /// segments not yet recycled, archives, backups) holds only wrapped keys: a master-key
    /// rotation, the old key then destroyed, makes them unreadable (see ARCHITECTURE.md).
    pub async fn scrub(&self) -> Result<(), StoreError> {
        if let Some(pool) = self.store.sqlite_pool() {
            // (busy, frames in the log, frames checkpointed): busy while a reader holds an
            // old snapshot; try again shortly.
            for _ in 0..20 {
                let (busy,): (i64,) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                    .fetch_one(pool)
                    .await?;
                if busy == 0 {
                    return Ok(());
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            return Err(StoreError::Unavailable(Arc::new(sqlx::Error::Protocol(
                "the write-ahead log stayed in use".into(),
            ))));
        }
        if let Some(pool) = self.store.postgres_pool() {
            // VACUUM keeps a deleted row while some snapshot may still see it: one of a
            // transaction in this database that began before the erasure, and the VACUUM's own
            // when a transaction anywhere in the cluster (another database's included) began
            // before the erasure and still runs (a snapshot's horizon is the oldest running
            // transaction, whatever its database). Wait, a few seconds at most, for both to end.
            let (since, next): (chrono::DateTime<Utc>, i64) = sqlx::query_as(
                "SELECT clock_timestamp(), pg_snapshot_xmax(pg_current_snapshot())::text::bigint",
            )
            .fetch_one(pool)
            .await?;
            for _ in 0..50 {
                let waiting: bool = sqlx::query_scalar(
                    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint < $2 \
                     OR EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() \
                     AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL AND xact_start < $1)",
                )
                .bind(since)
                .bind(next)
                .fetch_one(pool)
                .await?;
                if !waiting {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            sqlx::query("VACUUM (FULL) vault_entries, vault_keys")
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// Re-wraps every data key not yet under the current master key; returns how many.
    /// Safe while servers run (each row is re-wrapped only if it still has the key it was read
    /// with) and resumable.
    pub async fn rotate(&self, mut progress: impl FnMut(u64)) -> Result<u64, StoreError> {
        let current = self.keys.current.id().to_string();
        let mut done = 0;
        loop {
            let mut tx = self.store.begin().await?;
            let rows: Vec<(Uuid, String, Vec<u8>)> = on_transaction!(&mut tx, Db, conn => {
                let mut q = QueryBuilder::<Db>::new(
                    "SELECT beneficiary_id, master_key_id, wrapped_key FROM vault_keys WHERE master_key_id <> ",
                );
                q.push_bind(current.clone()).push(" LIMIT ").push_bind(ROTATION_BATCH);
                q.build_query_as().fetch_all(conn).await?
            });
            if rows.is_empty() {
                tx.rollback().await?;
                return Ok(done);
            }
            for (beneficiary, key_id, wrapped) in &rows {
                let master = self.keys.by_id(key_id).ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "a data key is wrapped by master key {key_id}, which is not configured: add it as a previous key"
                    ))
                })?;
                let key = open(&master.cipher(), wrapped, &aad(*beneficiary, b"key"))?;
                let rewrapped = seal(
                    &self.keys.current.cipher(),
                    &key,
                    &aad(*beneficiary, b"key"),
                )?;
                on_transaction!(&mut tx, Db, conn => {
                    let mut q = QueryBuilder::<Db>::new("UPDATE vault_keys SET master_key_id = ");
                    q.push_bind(current.clone())
                        .push(", wrapped_key = ")
                        .push_bind(rewrapped)
                        .push(" WHERE beneficiary_id = ")
                        .push_bind(*beneficiary)
                        .push(" AND master_key_id = ")
                        .push_bind(key_id.clone());
                    q.build().execute(conn).await?;
                });
            }
            tx.commit().await?;
            done += rows.len() as u64;
            progress(done);
        }
    }

    /// Master keys the vault holds data keys under that this keyring does not have
    /// (fingerprint, count): a server without them could not read those people's data.
    pub async fn missing_keys(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(self
            .key_usage()
            .await?
            .into_iter()
            .filter(|(id, _)| self.keys.by_id(id).is_none())
            .collect())
    }

    /// How many data keys each master key wraps (fingerprint, count).
    pub async fn key_usage(&self) -> Result<Vec<(String, i64)>, StoreError> {
        on_pool!(self.store, Db, conn => {
            Ok(sqlx::query_as("SELECT master_key_id, count(*) FROM vault_keys GROUP BY master_key_id ORDER BY master_key_id")
                .fetch_all(conn)
                .await?)
        })
    }
}

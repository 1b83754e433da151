-- The personal-data vault. Each beneficiary's personal data is sealed (XChaCha20-Poly1305)
-- under their own data key; the data key is kept only wrapped by a master key from the
-- configuration. Erasure deletes the data key and the sealed data (with secure_delete on, the
-- freed pages are zeroed): the events stay, de-identified.

CREATE TABLE vault_keys (
    beneficiary_id BLOB PRIMARY KEY,
    -- Which master key wraps this data key (a fingerprint, never the key).
    master_key_id  TEXT NOT NULL,
    -- nonce (24 bytes) followed by the wrapped key and its tag.
    wrapped_key    BLOB NOT NULL,
    created_at     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX vault_keys_master ON vault_keys (master_key_id);

CREATE TABLE vault_entries (
    beneficiary_id BLOB PRIMARY KEY REFERENCES vault_keys ON DELETE CASCADE,
    -- nonce (24 bytes) followed by the sealed JSON and its tag.
    sealed         BLOB NOT NULL,
    updated_at     TEXT NOT NULL
) WITHOUT ROWID;

-- Who was erased and when: nothing personal is stored for them again.
CREATE TABLE vault_erasures (
    beneficiary_id BLOB PRIMARY KEY,
    erased_at      TEXT NOT NULL
) WITHOUT ROWID;

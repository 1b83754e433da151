-- The personal-data vault. Each beneficiary's personal data is sealed (XChaCha20-Poly1305)
-- under their own data key; the data key is kept only wrapped by a master key from the
-- configuration. Erasure deletes the data key and the sealed data: the events stay, de-identified.

CREATE TABLE vault_keys (
    beneficiary_id uuid        PRIMARY KEY,
    -- Which master key wraps this data key (a fingerprint, never the key).
    master_key_id  text        NOT NULL,
    -- nonce (24 bytes) followed by the wrapped key and its tag.
    wrapped_key    bytea       NOT NULL,
    created_at     timestamptz NOT NULL
);
CREATE INDEX vault_keys_master ON vault_keys (master_key_id);

CREATE TABLE vault_entries (
    beneficiary_id uuid        PRIMARY KEY REFERENCES vault_keys ON DELETE CASCADE,
    -- nonce (24 bytes) followed by the sealed JSON and its tag.
    sealed         bytea       NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- Who was erased and when: nothing personal is stored for them again.
CREATE TABLE vault_erasures (
    beneficiary_id uuid        PRIMARY KEY,
    erased_at      timestamptz NOT NULL
);

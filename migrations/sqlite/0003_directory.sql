-- The directory: organisations, users, sign-in sessions, API tokens, throttling of failed
-- sign-ins, and the append-only access log. Not events: who may use the system, not what
-- happened to a beneficiary. Ids are 16-byte blobs, times ISO text (UTC).

CREATE TABLE organisations (
    organisation_id BLOB PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    country         TEXT NOT NULL,
    created_at      TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    user_id         BLOB    PRIMARY KEY,
    organisation_id BLOB    NOT NULL REFERENCES organisations,
    email           TEXT    NOT NULL UNIQUE,
    display_name    TEXT    NOT NULL,
    role            TEXT    NOT NULL
        CHECK (role IN ('administrator', 'supervisor', 'caseworker', 'evaluator', 'integrator')),
    -- argon2id PHC string; NULL for accounts that only use API tokens.
    password_hash   TEXT,
    active          BOOLEAN NOT NULL,
    created_at      TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX users_organisation ON users (organisation_id);

-- Only a SHA-256 of each secret is kept: a copy of the database signs nobody in.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_tokens (
    token_id   BLOB PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id    BLOB NOT NULL REFERENCES users,
    name       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
) WITHOUT ROWID;

CREATE TABLE sign_in_failures (
    email TEXT NOT NULL,
    at    TEXT NOT NULL
);
CREATE INDEX sign_in_failures_email ON sign_in_failures (email, at);

-- Each read of a beneficiary's record and each export: who, what, when and why. Append-only.
CREATE TABLE access_log (
    entry_id        INTEGER PRIMARY KEY,
    at              TEXT    NOT NULL,
    user_id         BLOB    NOT NULL,
    organisation_id BLOB    NOT NULL,
    beneficiary_id  BLOB,
    action          TEXT    NOT NULL,
    purpose         TEXT    NOT NULL
);
CREATE INDEX access_log_organisation ON access_log (organisation_id, entry_id);

CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access log is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access log is append-only: DELETE is not allowed');
END;

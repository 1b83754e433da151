-- The directory: organisations, users, sign-in sessions, API tokens, throttling of failed
-- sign-ins, and the append-only access log. Not events: who may use the system, not what
-- happened to a beneficiary.

CREATE TABLE organisations (
    organisation_id uuid        PRIMARY KEY,
    name            text        NOT NULL UNIQUE,
    country         text        NOT NULL,
    created_at      timestamptz NOT NULL
);

CREATE TABLE users (
    user_id         uuid        PRIMARY KEY,
    organisation_id uuid        NOT NULL REFERENCES organisations,
    email           text        NOT NULL UNIQUE,
    display_name    text        NOT NULL,
    role            text        NOT NULL
        CHECK (role IN ('administrator', 'supervisor', 'caseworker', 'evaluator', 'integrator')),
    -- argon2id PHC string; NULL for accounts that only use API tokens.
    password_hash   text,
    active          boolean     NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX users_organisation ON users (organisation_id);

-- Only a SHA-256 of each secret is kept: a copy of the database signs nobody in.
CREATE TABLE sessions (
    token_hash text        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE TABLE api_tokens (
    token_id   uuid        PRIMARY KEY,
    token_hash text        NOT NULL UNIQUE,
    user_id    uuid        NOT NULL REFERENCES users,
    name       text        NOT NULL,
    scopes     text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz
);

CREATE TABLE sign_in_failures (
    email text        NOT NULL,
    at    timestamptz NOT NULL
);
CREATE INDEX sign_in_failures_email ON sign_in_failures (email, at);

-- Each read of a beneficiary's record and each export: who, what, when and why. Append-only.
CREATE TABLE access_log (
    entry_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL,
    user_id         uuid        NOT NULL,
    organisation_id uuid        NOT NULL,
    beneficiary_id  uuid,
    action          text        NOT NULL,
    purpose         text        NOT NULL
);
CREATE INDEX access_log_organisation ON access_log (organisation_id, entry_id);

CREATE FUNCTION access_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_is_append_only();

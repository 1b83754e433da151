-- Data locks: a named evaluation result with its cut-offs, the query that made it and its
-- digest, so a report can cite it and anyone can run the query again at the same cut-offs.
CREATE TABLE evaluation_locks (
    name            TEXT PRIMARY KEY,
    organisation_id BLOB NOT NULL,
    created_by      BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    valid_on        TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    -- The selection of `evaluation` the result answers, as GraphQL.
    selection       TEXT NOT NULL,
    -- The result, canonical JSON, and its SHA-256.
    result          TEXT NOT NULL,
    digest          TEXT NOT NULL
) WITHOUT ROWID;

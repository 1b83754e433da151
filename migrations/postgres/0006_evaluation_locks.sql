-- Data locks: a named evaluation result with its cut-offs, the query that made it and its
-- digest, so a report can cite it and anyone can run the query again at the same cut-offs.
CREATE TABLE evaluation_locks (
    name            text PRIMARY KEY,
    organisation_id uuid NOT NULL,
    created_by      uuid NOT NULL,
    created_at      timestamptz NOT NULL,
    valid_on        date NOT NULL,
    recorded_at     timestamptz NOT NULL,
    -- The selection of `evaluation` the result answers, as GraphQL.
    selection       text NOT NULL,
    -- The result, canonical JSON, and its SHA-256.
    result          text NOT NULL,
    digest          text NOT NULL
);

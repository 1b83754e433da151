-- Read models kept by the projector from the log (see roadback-store/src/projector.rs).
-- Rebuildable at any time with `roadback rebuild`; the checkpoint 'read-models' says how far they go.
-- Ids are 16-byte blobs, dates ISO text, JSON as text.

-- The current plan of each beneficiary: filterable columns, and the whole plan as JSON.
CREATE TABLE plans (
    beneficiary_id   BLOB    PRIMARY KEY,
    organisation_id  BLOB    NOT NULL,
    caseworker_id    BLOB    NOT NULL,
    case_code        TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    closed           BOOLEAN NOT NULL,
    next_review_on   TEXT,
    last_activity_on TEXT    NOT NULL,
    version          INTEGER NOT NULL,
    plan             TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX plans_caseload ON plans (organisation_id, caseworker_id, closed);
CREATE INDEX plans_case_code ON plans (organisation_id, case_code);

-- Cases per organisation and caseworker: open, closed, and open by status (JSON object).
CREATE TABLE caseload (
    organisation_id BLOB    NOT NULL,
    caseworker_id   BLOB    NOT NULL,
    open_cases      INTEGER NOT NULL CHECK (open_cases >= 0),
    closed_cases    INTEGER NOT NULL CHECK (closed_cases >= 0),
    by_status       TEXT    NOT NULL,
    PRIMARY KEY (organisation_id, caseworker_id)
) WITHOUT ROWID;

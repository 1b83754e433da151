-- Read models kept by the projector from the log (see roadback-store/src/projector.rs).
-- Rebuildable at any time with `roadback rebuild`; the checkpoint 'read-models' says how far they go.

-- The current plan of each beneficiary: filterable columns, and the whole plan as JSON.
CREATE TABLE plans (
    beneficiary_id   uuid    PRIMARY KEY,
    organisation_id  uuid    NOT NULL,
    caseworker_id    uuid    NOT NULL,
    case_code        text    NOT NULL,
    status           text    NOT NULL,
    closed           boolean NOT NULL,
    next_review_on   date,
    last_activity_on date    NOT NULL,
    version          bigint  NOT NULL,
    plan             jsonb   NOT NULL
);
CREATE INDEX plans_caseload ON plans (organisation_id, caseworker_id, closed);
CREATE INDEX plans_case_code ON plans (organisation_id, case_code);

-- Cases per organisation and caseworker: open, closed, and open by status (JSON object).
CREATE TABLE caseload (
    organisation_id uuid    NOT NULL,
    caseworker_id   uuid    NOT NULL,
    open_cases      integer NOT NULL CHECK (open_cases >= 0),
    closed_cases    integer NOT NULL CHECK (closed_cases >= 0),
    by_status       jsonb   NOT NULL,
    PRIMARY KEY (organisation_id, caseworker_id)
);

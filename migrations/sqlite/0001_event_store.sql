-- The event store: an append-only log of immutable events in one global order.
-- Ids are 16-byte blobs, dates ISO text, recorded_at microseconds since the Unix epoch.

CREATE TABLE events (
    -- Global position: handed out inside the single write transaction, so it increases in commit order.
    position        INTEGER PRIMARY KEY,
    event_id        BLOB    NOT NULL UNIQUE,
    stream_id       TEXT    NOT NULL,
    version         INTEGER NOT NULL CHECK (version > 0),
    event_type      TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL CHECK (schema_version > 0),
    occurred_on     TEXT    NOT NULL,
    recorded_at     INTEGER NOT NULL,
    actor_id        BLOB    NOT NULL,
    organisation_id BLOB    NOT NULL,
    correlation_id  BLOB    NOT NULL,
    payload         TEXT    NOT NULL,
    UNIQUE (stream_id, version)
);

-- One row: the last position handed out and its recorded time.
CREATE TABLE head (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    position    INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL
);
INSERT INTO head (id, position, recorded_at) VALUES (1, 0, 0);

-- Named consumer positions, written in the same transaction as the consumer's own writes.
CREATE TABLE checkpoints (
    name       TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL CHECK (position >= 0),
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Events are immutable: a mistake is fixed by a correcting event, never by an update.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are immutable: UPDATE is not allowed');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are immutable: DELETE is not allowed');
END;

-- The event store: an append-only log of immutable events in one global order.

CREATE TABLE events (
    -- Global position: handed out under the head row lock, so it increases in commit order.
    position        bigint      PRIMARY KEY,
    event_id        uuid        NOT NULL UNIQUE,
    stream_id       text        NOT NULL,
    version         bigint      NOT NULL CHECK (version > 0),
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL CHECK (schema_version > 0),
    occurred_on     date        NOT NULL,
    recorded_at     timestamptz NOT NULL,
    actor_id        uuid        NOT NULL,
    organisation_id uuid        NOT NULL,
    correlation_id  uuid        NOT NULL,
    payload         jsonb       NOT NULL,
    UNIQUE (stream_id, version)
);

-- One row: the last position handed out and its recorded time. Appends lock it until commit.
CREATE TABLE head (
    id          smallint    PRIMARY KEY CHECK (id = 1),
    position    bigint      NOT NULL,
    recorded_at timestamptz NOT NULL
);
INSERT INTO head (id, position, recorded_at) VALUES (1, 0, 'epoch');

-- Named consumer positions, written in the same transaction as the consumer's own writes.
CREATE TABLE checkpoints (
    name       text        PRIMARY KEY,
    position   bigint      NOT NULL CHECK (position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Events are immutable: a mistake is fixed by a correcting event, never by an update.
CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: % is not allowed', TG_OP USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER events_are_immutable BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();

-- Appends a batch of commands in one statement. Each command is checked on its own (idempotency
-- by event id, then its expected version: -1 any, 0 no stream, n exact) and gets one result row
-- in order: outcome 0 appended, 1 version conflict, 2 an event id already stored. Commands of
-- one batch name distinct streams and distinct event ids (the caller's writer guarantees it).
-- Event j belongs to command p_event_cmds[j] (1-based, events of a command in order).
-- Arrays are only ever unnested, never subscripted: subscripting a variable-width array is a
-- walk from its start, which made large batches quadratic.
-- The writer's connection sets plan_cache_mode = force_generic_plan: the statement's shape never
-- changes, and re-planning it on every call costs more than running it.
CREATE FUNCTION append_batch(
    p_streams text[], p_expected bigint[], p_counts integer[], p_event_cmds integer[],
    p_ids uuid[], p_types text[], p_schema_versions integer[], p_occurred date[],
    p_actors uuid[], p_organisations uuid[], p_correlations uuid[], p_payloads text[]
) RETURNS TABLE (outcome smallint, stream_version bigint, first_position bigint, recorded_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_head     bigint;
    v_recorded timestamptz;
    v_new_head bigint;
BEGIN
    -- The lock is held until commit and released only after the commit is visible, so a later
    -- position is never visible before an earlier one: readers of "after P" cannot skip an event.
    SELECT h.position, greatest(clock_timestamp(), h.recorded_at)
      INTO v_head, v_recorded
      FROM head h WHERE h.id = 1 FOR UPDATE;

    RETURN QUERY
    WITH cmd AS (
        SELECT c.ord, c.stream_id, c.expected, c.n,
               -- A stream's version is its last event's: one backward step on the (stream_id, version) index.
               coalesce((SELECT max(e.version) FROM events e WHERE e.stream_id = c.stream_id), 0) AS current
          FROM unnest(p_streams, p_expected, p_counts) WITH ORDINALITY AS c(stream_id, expected, n, ord)
    ), ev AS (
        SELECT u.*, row_number() OVER (PARTITION BY u.cmd ORDER BY u.k) AS i
          FROM unnest(p_event_cmds, p_ids, p_types, p_schema_versions, p_occurred, p_actors, p_organisations,
                      p_correlations, p_payloads) WITH ORDINALITY
               AS u(cmd, id, event_type, schema_version, occurred_on, actor, organisation, correlation, payload, k)
    ), seen AS (
        SELECT DISTINCT ev.cmd FROM ev JOIN events e ON e.event_id = ev.id
    ), judged AS (
        SELECT cmd.*,
               (CASE
                    WHEN cmd.ord IN (SELECT seen.cmd FROM seen) THEN 2
                    WHEN cmd.expected >= 0 AND cmd.expected <> cmd.current THEN 1
                    ELSE 0
                END)::smallint AS outcome
          FROM cmd
    ), placed AS (
        SELECT j.*,
               CASE WHEN j.outcome = 0
                    THEN v_head + sum(j.n) FILTER (WHERE j.outcome = 0) OVER (ORDER BY j.ord) - j.n
               END AS pos_before
          FROM judged j
    ), inserted AS (
        INSERT INTO events (position, event_id, stream_id, version, event_type, schema_version, occurred_on,
                            recorded_at, actor_id, organisation_id, correlation_id, payload)
        SELECT r.pos_before + ev.i, ev.id, r.stream_id, r.current + ev.i, ev.event_type, ev.schema_version,
               ev.occurred_on, v_recorded, ev.actor, ev.organisation, ev.correlation, ev.payload::jsonb
          FROM placed r JOIN ev ON ev.cmd = r.ord
         WHERE r.outcome = 0
    ), moved AS (
        UPDATE head SET position = (SELECT coalesce(max(r.pos_before + r.n), v_head) FROM placed r WHERE r.outcome = 0),
                        recorded_at = v_recorded
         WHERE id = 1
    )
    SELECT r.outcome,
           CASE WHEN r.outcome = 0 THEN r.current + r.n ELSE r.current END,
           r.pos_before + 1,
           v_recorded
      FROM placed r ORDER BY r.ord;

    -- Wake every listening reader (on any server instance); delivered at commit.
    SELECT h.position INTO v_new_head FROM head h WHERE h.id = 1;
    IF v_new_head > v_head THEN
        PERFORM pg_notify('roadback_events', v_new_head::text);
    END IF;
END $$;

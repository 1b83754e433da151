-- append_batch, version 2: the same contract, with plans that stay index lookups.
--
-- The writer runs append_batch with a generic plan, made when the connection first calls it,
-- often on an empty events table. Version 1 let the planner turn "is any of this batch's event
-- ids stored?" into a hash join over a sequential scan of events, and evaluate it again for
-- every command (the judged rows were inlined into each place that read their outcome): an
-- append cost a scan of the whole log per command. Here each event id is probed on its own
-- (a scalar subquery, which the planner keeps as a unique-index lookup), and each step is
-- materialized once.
CREATE OR REPLACE FUNCTION append_batch(
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
    WITH ev AS MATERIALIZED (
        SELECT u.*, row_number() OVER (PARTITION BY u.cmd ORDER BY u.k) AS i,
               -- One probe of the unique event_id index per event.
               (SELECT true FROM events e WHERE e.event_id = u.id) AS stored
          FROM unnest(p_event_cmds, p_ids, p_types, p_schema_versions, p_occurred, p_actors, p_organisations,
                      p_correlations, p_payloads) WITH ORDINALITY
               AS u(cmd, id, event_type, schema_version, occurred_on, actor, organisation, correlation, payload, k)
    ), seen AS MATERIALIZED (
        -- Commands with an event id already stored (retries): usually none.
        SELECT DISTINCT ev.cmd FROM ev WHERE ev.stored
    ), cmd AS MATERIALIZED (
        SELECT c.ord, c.stream_id, c.expected, c.n,
               -- A stream's version is its last event's: one backward step on the (stream_id, version) index.
               coalesce((SELECT max(e.version) FROM events e WHERE e.stream_id = c.stream_id), 0) AS current
          FROM unnest(p_streams, p_expected, p_counts) WITH ORDINALITY AS c(stream_id, expected, n, ord)
    ), judged AS MATERIALIZED (
        SELECT cmd.ord, cmd.stream_id, cmd.n, cmd.current,
               (CASE
                    WHEN cmd.ord IN (SELECT seen.cmd FROM seen) THEN 2
                    WHEN cmd.expected >= 0 AND cmd.expected <> cmd.current THEN 1
                    ELSE 0
                END)::smallint AS outcome
          FROM cmd
    ), placed AS MATERIALIZED (
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

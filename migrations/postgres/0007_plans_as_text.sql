-- The plan read model is only ever read whole by the server, so it is kept as the JSON text it
-- was written as: jsonb parsed every plan on write and rendered it back on read. Measured on
-- the 57,800 plans of the demo program at scale 20 (3 KB each), inserting them took 2.5 s as
-- jsonb and 0.3 s as text, before compression; a rebuild writes every plan.
ALTER TABLE plans ALTER COLUMN plan TYPE text USING plan::text;

-- Plans are compressed with lz4 where the server has it (0.65 s for those plans against 1.6 s
-- with the default pglz); a server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE plans ALTER COLUMN plan SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$;

-- pg_tide 0.2.0: the transactional outbox.
-- This one file is both the extension script (CREATE EXTENSION pg_tide) and what the relay runs
-- when the extension is not installed. Every object is schema-qualified; SECURITY DEFINER
-- functions pin search_path so a caller's search_path cannot redirect them.

\echo Use "CREATE EXTENSION pg_tide" to load this file. \quit

CREATE SCHEMA tide;
COMMENT ON SCHEMA tide IS 'pg_tide transactional outbox';

-- The version of these objects. A constant, not pg_extension: the relay may have installed the
-- script without CREATE EXTENSION, and every upgrade script replaces this function.
CREATE FUNCTION tide.version() RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT '0.2.0'::text $$;

-- The one rule for names of outboxes, inboxes, pipelines and relay groups: they become metric labels,
-- lock keys, table names and Kafka headers, so a plain, printable alphabet. The relay checks names it
-- cannot ask the database about (settings, route files) with the same rule (RelaySettings.name).
CREATE FUNCTION tide.is_name(p_name text) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT p_name ~ '^[A-Za-z][A-Za-z0-9_.-]{0,62}$'
$$;

CREATE FUNCTION tide.check_name(p_kind text, p_name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT coalesce(tide.is_name(p_name), false) THEN
        RAISE EXCEPTION 'pg_tide: invalid % name %', p_kind, coalesce(quote_literal(p_name), 'NULL')
            USING ERRCODE = 'invalid_name',
                  HINT = 'A name starts with a letter and has at most 63 letters, digits, "_", "." or "-".';
    END IF;
    RETURN p_name;
END $$;

CREATE TABLE tide.tide_outbox_config (
    outbox_name     text PRIMARY KEY CHECK (tide.is_name(outbox_name)),
    retention_hours integer NOT NULL DEFAULT 24 CHECK (retention_hours >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- a pipeline of this outbox last polled nothing: publishers notify (channel pg_tide) to wake it.
    -- While pipelines find rows, or before any polled, publishers do not notify: a NOTIFY serializes
    -- committing transactions.
    relay_waiting   boolean NOT NULL DEFAULT false,
    -- the last message, in (tx, id) order, that outbox_sweep deleted: a rewind may not go below it (the
    -- retention floor), for what lay there can no longer be delivered again
    swept_tx        xid8 NOT NULL DEFAULT '0'::xid8,
    swept_id        bigint NOT NULL DEFAULT 0,
    -- the newest created_at among the messages outbox_sweep deleted: a rewind to a time at or before it would
    -- miss them
    swept_created_at timestamptz,
    -- partitioned storage: the width of a partition in transaction ids (tide.outbox_create); NULL: a plain table
    partition_xids  bigint CHECK (partition_xids >= 1)
);

-- tx is the writing transaction: polls order by (tx, id) and stop below the oldest running
-- transaction, so a row committed late is never passed by the offset (see relay_poll).
CREATE TABLE tide.tide_outbox_messages (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    -- names are plain ASCII: "C" compares bytes, cheaper in every index insert than a locale collation
    outbox_name text COLLATE "C" NOT NULL,
    tx          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    key         text,
    payload     jsonb NOT NULL,
    headers     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- payload and headers in bytes, as outbox_publish stored them: the poll's byte budget reads this
    -- instead of measuring (or detoasting) payloads. NULL for rows inserted directly (poll: stored size).
    size_bytes  integer,
    -- the one index: polls, sweeps and dead letters all look rows up by (outbox, tx, id), and a
    -- single index keeps a publish close to the cost of a plain INSERT
    CONSTRAINT tide_outbox_messages_pkey PRIMARY KEY (outbox_name, tx, id)
);

-- Partitioned storage (tide.outbox_create's p_partition_xids, ADR 14): the messages of such outboxes, by
-- ranges of tx per outbox, so that retention drops whole partitions instead of deleting rows. Same
-- columns and primary key as tide.tide_outbox_messages, which keeps the outboxes of the plain form.
-- tide.outbox_maintain creates the ranges ahead of need and drops the expired ones; whatever finds no
-- range (maintenance stopped, or a range could not be created in time) lands in the DEFAULT partition,
-- so a publish never fails for want of a partition.
CREATE TABLE tide.tide_outbox_partitioned (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    outbox_name text COLLATE "C" NOT NULL,
    tx          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    key         text,
    payload     jsonb NOT NULL,
    headers     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    size_bytes  integer,
    CONSTRAINT tide_outbox_partitioned_pkey PRIMARY KEY (outbox_name, tx, id)
) PARTITION BY RANGE (outbox_name, tx);

CREATE TABLE tide.tide_outbox_partitioned_default PARTITION OF tide.tide_outbox_partitioned DEFAULT;

-- The tx ranges of partitioned outboxes, one table each (tide.outbox_maintain). closed_at: when maintenance
-- first saw the oldest running transaction at or above hi, so that no row can land in the range any more;
-- every row of the range is older than that.
CREATE TABLE tide.tide_outbox_partitions (
    partition_name text PRIMARY KEY,
    outbox_name    text NOT NULL,
    lo             xid8 NOT NULL,
    hi             xid8 NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    closed_at      timestamptz,
    UNIQUE (outbox_name, lo)
);

-- The messages of every outbox, of both storage forms: what the relay and the monitoring read. A UNION ALL
-- that PostgreSQL flattens into the reading statement: an outbox's rows come from one index range per
-- table (a Merge Append in (tx, id) order).
CREATE VIEW tide.outbox_messages AS
SELECT m.id, m.outbox_name, m.tx, m.key, m.payload, m.headers, m.created_at, m.size_bytes
FROM tide.tide_outbox_messages m
UNION ALL
SELECT p.id, p.outbox_name, p.tx, p.key, p.payload, p.headers, p.created_at, p.size_bytes
FROM tide.tide_outbox_partitioned p;

-- One row per (relay group, pipeline, outbox): the pipeline has delivered every row up to
-- and including (last_tx, last_id). Only the holder of the pipeline's advisory lock moves it.
CREATE TABLE tide.relay_consumer_offsets (
    relay_group text NOT NULL,
    pipeline    text NOT NULL,
    outbox_name text NOT NULL REFERENCES tide.tide_outbox_config (outbox_name) ON DELETE CASCADE,
    last_tx     xid8 NOT NULL DEFAULT '0'::xid8,
    last_id     bigint NOT NULL DEFAULT 0,
    owner       text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- after a batch the sink rejected: poll one message at a time up to here, to find the poison
    isolate_tx  xid8,
    isolate_id  bigint,
    -- the last poll or advance, to about a minute (relay_poll_start writes it only when older):
    -- a registration nobody polls still holds retention back, consumer_lag.unseen_seconds shows it
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    -- set by tide.relay_pause, cleared by tide.relay_resume: no relay of the group runs the pipeline meanwhile
    paused_at   timestamptz,
    paused_by   text,
    -- where the pipeline started when it registered: earliest, latest or a timestamp (tide.relay_register)
    start_position text NOT NULL DEFAULT 'earliest',
    -- delivery health (tide.relay_failed), reset by each delivery (tide.relay_advance): the sink's last error, the
    -- failed sends since the last delivery, and when a batch last used up its retries
    last_error  text,
    last_error_at timestamptz,
    consecutive_failures integer NOT NULL DEFAULT 0,
    gave_up_at  timestamptz,
    -- a partitioned pipeline (tide:<outbox>?partitions=P) runs as P rows "<name>.<i>", each reading only the keys
    -- whose tide.key_partition is i, under a lock and an offset of its own; partition_of is the declared name
    partition_of text,
    key_partition  integer NOT NULL DEFAULT 0,
    key_partitions integer NOT NULL DEFAULT 1,
    CONSTRAINT relay_consumer_offsets_partition_check
        CHECK (key_partitions BETWEEN 1 AND 1024 AND key_partition >= 0 AND key_partition < key_partitions),
    PRIMARY KEY (relay_group, pipeline, outbox_name)
);

-- Dead letters: messages a sink rejected for good, set aside so their neighbours flow on (functions below).
CREATE TABLE tide.relay_dlq (
    dlq_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    relay_group  text NOT NULL,
    pipeline     text NOT NULL,
    outbox_name  text NOT NULL,
    message_id   bigint NOT NULL,
    tx           xid8 NOT NULL,
    key          text,
    payload      jsonb NOT NULL,
    headers      jsonb NOT NULL,
    error        text NOT NULL,
    attempts     integer NOT NULL,
    failed_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    resolution   text,
    -- a dead letter delivered twice by a failover lands once
    UNIQUE (relay_group, pipeline, outbox_name, message_id)
);

-- The relay group of this session: the relay sets pg_tide.relay_group when it connects.
CREATE FUNCTION tide.relay_group() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(pg_catalog.current_setting('pg_tide.relay_group', true), ''), 'default')
$$;

-- The advisory lock key of a pipeline: one 64-bit key per (relay group, pipeline).
CREATE FUNCTION tide.relay_lock_key(p_pipeline text, p_group text DEFAULT NULL) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT pg_catalog.hashtextextended(
        'pg_tide/' || coalesce(p_group, tide.relay_group()) || '/' || p_pipeline, 0)
$$;

-- The sessions holding the advisory locks of pipelines (tide.relay_lock_key), in one look at pg_locks: the
-- relay's lock watch checks all the locks it holds with one call.
CREATE FUNCTION tide.relay_lock_pids(p_pipelines text[], p_group text DEFAULT NULL)
RETURNS TABLE (pipeline text, pid integer)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT k.pipeline, l.pid
    FROM (SELECT p.pipeline, tide.relay_lock_key(p.pipeline, p_group) AS key
          FROM pg_catalog.unnest(p_pipelines) p(pipeline)) k
    JOIN pg_catalog.pg_locks l
      ON l.classid = ((k.key >> 32) & 4294967295)::oid AND l.objid = (k.key & 4294967295)::oid
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
$$;

-- True when this session holds the pipeline's advisory lock.
CREATE FUNCTION tide.relay_lock_held(p_pipeline text, p_group text DEFAULT NULL) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM tide.relay_lock_pids(ARRAY[p_pipeline], p_group) h
                   WHERE h.pid = pg_catalog.pg_backend_pid())
$$;

-- Takes the pipeline's advisory lock for this session if it is free: true when this session holds it now,
-- false when another one does, NULL on a standby, which runs no pipeline and so takes no lock.
CREATE FUNCTION tide.relay_try_lock(p_pipeline text, p_group text DEFAULT NULL) RETURNS boolean
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL
                ELSE pg_catalog.pg_try_advisory_lock(tide.relay_lock_key(p_pipeline, p_group)) END
$$;

-- The relays of a group, for balanced ownership: each relay's lock watch holds one advisory lock of the group's
-- membership (two-key form: the group's key, its own session's pid) for as long as it runs, so the server's own
-- lock table counts the live relays, and a relay that dies leaves it with its session. NULL on a standby.
CREATE FUNCTION tide.relay_join(p_group text DEFAULT NULL) RETURNS boolean
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL
                ELSE pg_catalog.pg_try_advisory_lock(
                         pg_catalog.hashtext('pg_tide/members/' || coalesce(p_group, tide.relay_group())),
                         pg_catalog.pg_backend_pid()) END
$$;

-- How many relays of the group run now (tide.relay_join): each takes about ceil(pipelines / members) of them.
CREATE FUNCTION tide.relay_members(p_group text DEFAULT NULL) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*)::integer FROM pg_catalog.pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
      AND l.classid = pg_catalog.hashtext('pg_tide/members/' || coalesce(p_group, tide.relay_group()))::oid
      AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
$$;

-- Raises lock_not_available (55P03) unless this session holds the pipeline's lock: the fence of every write the
-- owning relay makes (tide.relay_advance, tide.relay_failed, tide.relay_isolate). p_refused names the write.
CREATE FUNCTION tide.relay_require_lock(p_pipeline text, p_group text, p_refused text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT tide.relay_lock_held(p_pipeline, p_group) THEN
        RAISE EXCEPTION 'pg_tide: % of pipeline "%" (relay group "%") refused: this session does not hold its lock',
            p_refused, p_pipeline, p_group USING ERRCODE = 'lock_not_available';
    END IF;
END $$;

-- The stable id of an outbox message, "<outbox>:<id>": what sinks carry, inboxes keep once and dead letters
-- cite. tide.message_outbox reads the outbox back out of it (a name never holds ':').
CREATE FUNCTION tide.message_id(p_outbox text, p_id bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT p_outbox || ':' || p_id $$;

CREATE FUNCTION tide.message_outbox(p_message_id text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT pg_catalog.split_part(p_message_id, ':', 1) $$;

-- The partition of a message key among p_partitions, for partitioned pipelines: hashtextextended is the hash
-- PostgreSQL's own hash partitioning relies on, so it does not change across versions and a key stays in its
-- partition. Messages without a key all go to partition 0, in order. Plain SQL, inlined into the poll.
CREATE FUNCTION tide.key_partition(p_key text, p_partitions integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_key IS NULL OR p_partitions <= 1 THEN 0
                ELSE ((pg_catalog.hashtextextended(p_key, 0) % p_partitions + p_partitions) % p_partitions)::integer END
$$;

-- Refuses a registration that would run one declared pipeline under two partitionings: a key would move to a
-- partition whose offset has not seen its earlier messages, and arrive out of order.
CREATE FUNCTION tide.relay_check_partitions(p_pipeline text, p_outbox text, p_group text, p_partition_of text,
                                            p_partition integer, p_partitions integer) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    declared text := coalesce(p_partition_of, p_pipeline);
    found_partitions integer;
BEGIN
    IF p_partitions IS NULL OR p_partitions < 1 OR p_partitions > 1024 OR p_partition IS NULL
       OR p_partition < 0 OR p_partition >= p_partitions THEN
        RAISE EXCEPTION 'pg_tide: partition % of % of pipeline "%" is not a partition: 0 <= partition < partitions <= 1024',
            p_partition, p_partitions, declared USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT o.key_partitions INTO found_partitions FROM tide.relay_consumer_offsets o
    WHERE o.relay_group = p_group AND o.outbox_name = p_outbox AND declared IN (o.pipeline, o.partition_of)
      AND o.key_partitions <> p_partitions
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'pg_tide: pipeline "%" on outbox "%" runs with % partition(s), not %: changing the count on a registered pipeline could deliver a key out of order',
            declared, p_outbox, found_partitions, p_partitions USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Keep the count, or start a new pipeline (a new id) with the new count and forget the old one (pg-tide forget) once it has delivered everything.';
    END IF;
END $$;

------------------------------------------------------------------------------------------------
-- Outboxes
------------------------------------------------------------------------------------------------

-- p_partition_xids: NULL keeps the outbox's messages in one plain table (retention deletes rows: tide.outbox_sweep);
-- a number stores them in partitions of that many transaction ids each (retention drops whole partitions:
-- tide.outbox_maintain, which this call runs once to create the first ones). An outbox keeps its form.
CREATE FUNCTION tide.outbox_create(p_name text, p_retention_hours integer DEFAULT 24,
                                   p_partition_xids bigint DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tide.check_name('outbox', p_name);
    IF p_retention_hours IS NULL OR p_retention_hours < 0 THEN
        RAISE EXCEPTION 'pg_tide: retention of outbox "%" must be 0 hours or more, not %', p_name,
            coalesce(p_retention_hours::text, 'NULL') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_partition_xids < 1 THEN
        RAISE EXCEPTION 'pg_tide: partitions of outbox "%" must span 1 transaction id or more, not %', p_name,
            p_partition_xids USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO tide.tide_outbox_config (outbox_name, retention_hours, partition_xids)
    VALUES (p_name, p_retention_hours, p_partition_xids)
    ON CONFLICT (outbox_name) DO UPDATE SET retention_hours = excluded.retention_hours,
                                            partition_xids = excluded.partition_xids
    WHERE (tide_outbox_config.partition_xids IS NULL) = (excluded.partition_xids IS NULL);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_tide: outbox "%" exists with the other storage form; an outbox keeps its form', p_name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the p_partition_xids it was created with (tide.tide_outbox_config.partition_xids).';
    END IF;
    IF p_partition_xids IS NOT NULL THEN
        PERFORM tide.outbox_maintain(p_name);
    END IF;
END $$;

-- Removes an outbox with its messages (and partitions) and the offsets of the pipelines reading it.
CREATE FUNCTION tide.outbox_drop(p_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    part record;
BEGIN
    DELETE FROM tide.tide_outbox_config WHERE outbox_name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_tide: outbox "%" does not exist', p_name USING ERRCODE = 'undefined_object';
    END IF;
    DELETE FROM tide.tide_outbox_messages WHERE outbox_name = p_name;
    FOR part IN DELETE FROM tide.tide_outbox_partitions WHERE outbox_name = p_name RETURNING partition_name LOOP
        EXECUTE format('DROP TABLE tide.%I', part.partition_name);
    END LOOP;
    DELETE FROM tide.tide_outbox_partitioned WHERE outbox_name = p_name;
END $$;

-- Publishes one message in the caller's transaction. Takes no lock the relay holds: the
-- message becomes visible to the relay when the caller commits, and while a pipeline of the outbox
-- waits (its last poll was empty) a notification on channel pg_tide (payload: the outbox name)
-- tells listening relays so.
CREATE FUNCTION tide.outbox_publish(p_name text, p_payload jsonb, p_headers jsonb DEFAULT '{}'::jsonb,
                                    p_key text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
    waiting boolean;
    partitioned boolean;
BEGIN
    IF p_payload IS NULL THEN
        RAISE EXCEPTION 'pg_tide: payload of a message to outbox "%" is NULL', p_name
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_headers IS NOT NULL AND pg_catalog.jsonb_typeof(p_headers) <> 'object' THEN
        RAISE EXCEPTION 'pg_tide: headers of a message to outbox "%" must be a JSON object, not %',
            p_name, pg_catalog.jsonb_typeof(p_headers) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- one read of the outbox, then one INSERT ... VALUES into the table of its storage form: of the shapes measured
    -- (ADR 14), the cheapest for both forms, 1.2x a plain INSERT
    SELECT c.partition_xids IS NOT NULL, c.relay_waiting INTO partitioned, waiting
    FROM tide.tide_outbox_config c WHERE c.outbox_name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_tide: outbox "%" does not exist', p_name
            USING ERRCODE = 'undefined_object', HINT = 'Create it with SELECT tide.outbox_create(...).';
    END IF;
    IF partitioned THEN
        INSERT INTO tide.tide_outbox_partitioned (outbox_name, key, payload, headers, size_bytes)
        VALUES (p_name, p_key, p_payload, coalesce(p_headers, '{}'::jsonb),
                -- the in-memory size of the values: constant time, never a serialization
                pg_catalog.pg_column_size(p_payload) + coalesce(pg_catalog.pg_column_size(p_headers), 0))
        RETURNING id INTO new_id;
    ELSE
        INSERT INTO tide.tide_outbox_messages (outbox_name, key, payload, headers, size_bytes)
        VALUES (p_name, p_key, p_payload, coalesce(p_headers, '{}'::jsonb),
                pg_catalog.pg_column_size(p_payload) + coalesce(pg_catalog.pg_column_size(p_headers), 0))
        RETURNING id INTO new_id;
    END IF;
    IF waiting THEN
        -- delivered at commit, once per outbox per transaction: wakes the relays' idle pipelines at once
        PERFORM pg_catalog.pg_notify('pg_tide', p_name);
    END IF;
    RETURN new_id;
END $$;

------------------------------------------------------------------------------------------------
-- The relay's functions
------------------------------------------------------------------------------------------------

-- The newest final position of an outbox: its last message below the oldest running transaction, or (0, 0).
-- Every message at or before it is committed (or rolled back) for good; whatever commits later comes after it.
-- An index scan backwards from the horizon: one row read.
CREATE FUNCTION tide.relay_position_latest(p_outbox text) RETURNS TABLE (tx xid8, id bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp ROWS 1 AS $$
BEGIN
    RETURN QUERY SELECT m.tx, m.id FROM tide.outbox_messages m
    WHERE m.outbox_name = p_outbox AND m.tx < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY m.tx DESC, m.id DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN QUERY SELECT '0'::xid8, 0::bigint;
    END IF;
END $$;

-- The position just before the first message of an outbox, in (tx, id) order, created at or after p_at (that
-- message's (tx, id - 1): nothing sorts between the two): a pipeline there delivers that message next. With no
-- such message, the newest final position. It walks the primary key from the oldest message kept to that message:
-- an operator's one-off act (registration, rewind), never part of a poll, whose cost is the messages older than
-- p_at that retention still keeps.
CREATE FUNCTION tide.relay_position_at(p_outbox text, p_at timestamptz) RETURNS TABLE (tx xid8, id bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp ROWS 1 AS $$
BEGIN
    RETURN QUERY SELECT m.tx, m.id - 1 FROM tide.outbox_messages m
    WHERE m.outbox_name = p_outbox AND m.created_at >= p_at
      AND m.tx < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY m.tx, m.id LIMIT 1;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM tide.relay_position_latest(p_outbox);
    END IF;
END $$;

-- The position just before message p_message of an outbox: a pipeline there delivers that message next.
-- Finding a message by its id alone reads the outbox's rows (the primary key leads with tx): an operator's
-- one-off act, never part of a poll.
CREATE FUNCTION tide.relay_position_before(p_outbox text, p_message bigint) RETURNS TABLE (tx xid8, id bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp ROWS 1 AS $$
BEGIN
    RETURN QUERY SELECT m.tx, m.id - 1 FROM tide.outbox_messages m
    WHERE m.outbox_name = p_outbox AND m.id = p_message;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_tide: outbox "%" holds no message % (retention may have deleted it)', p_outbox, p_message
            USING ERRCODE = 'undefined_object';
    END IF;
END $$;

-- Creates the pipeline's offset row unless it exists, at its start position: 'earliest' (the oldest message
-- kept), 'latest' (only what commits after it registers: tide.relay_position_latest) or a timestamp
-- (tide.relay_position_at). An existing registration keeps its offset, whatever p_start says.
CREATE FUNCTION tide.relay_register(p_pipeline text, p_outbox text, p_group text DEFAULT NULL,
                                    p_start text DEFAULT 'earliest', p_partition_of text DEFAULT NULL,
                                    p_partition integer DEFAULT 0, p_partitions integer DEFAULT 1) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := coalesce(p_group, tide.relay_group());
    start_at timestamptz;
    start_tx xid8 := '0'::xid8;
    start_id bigint := 0;
BEGIN
    PERFORM tide.check_name('relay group', g);
    PERFORM tide.check_name('pipeline', p_pipeline);
    PERFORM FROM tide.tide_outbox_config WHERE outbox_name = p_outbox;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_tide: outbox "%" does not exist (pipeline "%")', p_outbox, p_pipeline
            USING ERRCODE = 'undefined_object', HINT = 'Create it with SELECT tide.outbox_create(...).';
    END IF;
    PERFORM tide.relay_check_partitions(p_pipeline, p_outbox, g, p_partition_of, p_partition, p_partitions);
    PERFORM FROM tide.relay_consumer_offsets o
    WHERE o.relay_group = g AND o.pipeline = p_pipeline AND o.outbox_name = p_outbox;
    IF FOUND THEN
        RETURN;
    END IF;
    IF p_start = 'latest' THEN
        SELECT l.tx, l.id INTO start_tx, start_id FROM tide.relay_position_latest(p_outbox) l;
    ELSIF p_start IS NOT NULL AND p_start <> 'earliest' THEN
        BEGIN
            start_at := p_start::timestamptz;
        EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR invalid_text_representation THEN
            start_at := NULL;
        END;
        IF start_at IS NULL THEN
            RAISE EXCEPTION 'pg_tide: start position % of pipeline "%" is not earliest, latest or a timestamp',
                coalesce(quote_literal(p_start), 'NULL'), p_pipeline USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT a.tx, a.id INTO start_tx, start_id FROM tide.relay_position_at(p_outbox, start_at) a;
        p_start := start_at::text;
    END IF;
    INSERT INTO tide.relay_consumer_offsets (relay_group, pipeline, outbox_name, last_tx, last_id, start_position,
                                             partition_of, key_partition, key_partitions)
    VALUES (g, p_pipeline, p_outbox, start_tx, start_id, coalesce(p_start, 'earliest'),
            p_partition_of, p_partition, p_partitions) ON CONFLICT DO NOTHING;
END $$;

-- Forgets a pipeline: its offset no longer holds back retention.
CREATE FUNCTION tide.relay_unregister(p_pipeline text, p_outbox text, p_group text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM tide.relay_consumer_offsets
    WHERE relay_group = coalesce(p_group, tide.relay_group()) AND pipeline = p_pipeline AND outbox_name = p_outbox;
    RETURN FOUND;
END $$;

-- Where a poll of tide.relay_poll starts: the pipeline's offset, registering the pipeline on its first
-- poll. It also records in relay_waiting whether the poll comes back empty (on a change only: an empty
-- poll asks publishers to notify, a poll that finds rows stops them). p_snapshot is the polling
-- statement's snapshot. This function reads with a later one, but a row below that snapshot's horizon
-- looks the same in both, so it sees exactly the first row the poll returns. It marks the pipeline
-- as seen (last_seen_at), writing only when the mark is older than 30 seconds: an idle pipeline's
-- empty polls stay reads. A paused pipeline (tide.relay_pause) gets no row, so its poll returns nothing.
CREATE FUNCTION tide.relay_poll_start(p_pipeline text, p_outbox text, p_group text, p_snapshot pg_snapshot,
                                       p_partition integer, p_partitions integer)
RETURNS TABLE (last_tx xid8, last_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 1 AS $$
DECLARE
    g text := coalesce(p_group, tide.relay_group());
    from_tx xid8;
    from_id bigint;
    seen timestamptz;
    paused boolean;
    stored_partition integer;
    stored_partitions integer;
    has_rows boolean;
BEGIN
    SELECT c.last_tx, c.last_id, c.last_seen_at, c.paused_at IS NOT NULL, c.key_partition, c.key_partitions
    INTO from_tx, from_id, seen, paused, stored_partition, stored_partitions
    FROM tide.relay_consumer_offsets c
    WHERE c.relay_group = g AND c.pipeline = p_pipeline AND c.outbox_name = p_outbox;
    IF FOUND AND (stored_partition, stored_partitions) IS DISTINCT FROM (p_partition, p_partitions) THEN
        -- the same row under another partitioning would pass keys its offset has not seen
        RAISE EXCEPTION 'pg_tide: pipeline "%" is registered as partition % of %, not % of %', p_pipeline, stored_partition,
            stored_partitions, p_partition, p_partitions USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT FOUND THEN
        PERFORM tide.relay_register(p_pipeline, p_outbox, g, 'earliest', NULL, p_partition, p_partitions);
        from_tx := '0'::xid8;
        from_id := 0;
    ELSIF paused THEN
        -- no start, so the poll returns nothing: once relay_pause returns, at most the batch in flight is delivered
        RETURN;
    ELSIF seen < now() - interval '30 seconds' THEN
        UPDATE tide.relay_consumer_offsets c SET last_seen_at = now()
        WHERE c.relay_group = g AND c.pipeline = p_pipeline AND c.outbox_name = p_outbox;
    END IF;
    -- the outbox's own table, not the view of both forms: plpgsql's cached plan of this EXISTS over the view
    -- took 40-75 ms a poll on a partitioned outbox (0.2-0.4 ms this way; PartitionedStorageBenchmark)
    IF EXISTS (SELECT FROM tide.tide_outbox_config o WHERE o.outbox_name = p_outbox AND o.partition_xids IS NOT NULL) THEN
        has_rows := EXISTS (
            SELECT FROM tide.tide_outbox_partitioned m
            WHERE m.outbox_name = p_outbox
              AND (m.tx, m.id) > (from_tx, from_id)
              -- implied, and keeps the scan from reading the partitions before the offset
              AND m.tx >= from_tx
              AND m.tx < pg_snapshot_xmin(p_snapshot)
              AND tide.key_partition(m.key, p_partitions) = p_partition);
    ELSE
        has_rows := EXISTS (
            SELECT FROM tide.tide_outbox_messages m
            WHERE m.outbox_name = p_outbox
              AND (m.tx, m.id) > (from_tx, from_id)
              AND m.tx < pg_snapshot_xmin(p_snapshot)
              AND tide.key_partition(m.key, p_partitions) = p_partition);
    END IF;
    UPDATE tide.tide_outbox_config c SET relay_waiting = NOT has_rows
    WHERE c.outbox_name = p_outbox AND c.relay_waiting = has_rows;
    RETURN QUERY SELECT from_tx, from_id;
END $$;

-- The transaction of a pipeline's offset, or 0 before it has one: every row the pipeline has still to read
-- has a tx at or above it. plpgsql, so that the planner cannot inline it back into a subquery.
CREATE FUNCTION tide.relay_offset_tx(p_pipeline text, p_outbox text, p_group text DEFAULT NULL) RETURNS xid8
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce((SELECT c.last_tx FROM tide.relay_consumer_offsets c
                     WHERE c.relay_group = coalesce(p_group, tide.relay_group()) AND c.pipeline = p_pipeline
                       AND c.outbox_name = p_outbox), '0'::xid8);
END $$;

-- The next batch of a pipeline, gap-free: rows after its offset in (tx, id) order, and only
-- rows whose transaction is older than the oldest transaction still running when this
-- statement's snapshot was taken. Every running or future transaction has an xid at or above
-- that xmin, so nothing can ever appear before the last row returned. One row at a time while
-- isolating a rejected message (isolate_tx, isolate_id). A plain SQL function that PostgreSQL
-- inlines into the caller's statement: the rows stream straight from the index scan, with no
-- function result to store first (a plpgsql version took 2.0 ms for 1000 rows, this 0.3-0.5 ms).
-- Reading the rows needs SELECT on the tables, which the relay's role has.
-- A batch also stops before the row that would take it past p_max_bytes (payload and headers as
-- stored by outbox_publish, size_bytes), so a run of large messages cannot exhaust the relay's heap;
-- the first row always comes, alone when it is larger than the whole budget.
-- The running sum costs about 0.8 ms of server time per 1000-row batch, a 4 % lower poll rate
-- end to end (PollUpgradeBenchmark).
CREATE FUNCTION tide.relay_poll(p_pipeline text, p_outbox text, p_limit integer DEFAULT 1000,
                                p_group text DEFAULT NULL, p_max_bytes bigint DEFAULT 8388608,
                                p_partition integer DEFAULT 0, p_partitions integer DEFAULT 1)
RETURNS TABLE (pipeline text, outbox_name text, id bigint, tx xid8, key text, payload jsonb,
               headers jsonb, created_at timestamptz, message_id text)
LANGUAGE sql STABLE AS $$
    SELECT p_pipeline, w.outbox_name, w.id, w.tx, w.key, w.payload, w.headers, w.created_at,
           tide.message_id(w.outbox_name, w.id)
    FROM (
        SELECT m.outbox_name, m.id, m.tx, m.key, m.payload, m.headers, m.created_at,
               -- bytes of the rows before this one; a row inserted without outbox_publish counts its stored size
               coalesce(sum(coalesce(m.size_bytes, pg_catalog.pg_column_size(m.payload))) OVER (
                   ORDER BY m.tx, m.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before_bytes,
               coalesce(m.size_bytes, pg_catalog.pg_column_size(m.payload)) AS row_bytes
        FROM tide.outbox_messages m
        WHERE m.outbox_name = p_outbox
          AND (m.tx, m.id) > (SELECT s.last_tx, s.last_id
                              FROM tide.relay_poll_start(p_pipeline, p_outbox, p_group, pg_catalog.pg_current_snapshot(),
                                                         p_partition, p_partitions) s)
          -- snapshot and rows come from this one statement: the horizon can never be newer than the read
          AND m.tx < pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())
          -- implied by the offset, and a stable function of the arguments, so partitioned storage leaves out the
          -- partitions before it when the plan starts. Read with the statement's snapshot, at or behind what
          -- relay_poll_start reads (an offset only moves on)
          AND m.tx >= tide.relay_offset_tx(p_pipeline, p_outbox, p_group)
          -- a partition of a pipeline reads its own keys only (always true for an unpartitioned one)
          AND tide.key_partition(m.key, p_partitions) = p_partition
        ORDER BY m.tx, m.id
        LIMIT coalesce((SELECT 1 FROM tide.relay_consumer_offsets c
                        WHERE c.relay_group = coalesce(p_group, tide.relay_group()) AND c.pipeline = p_pipeline
                          AND c.outbox_name = p_outbox AND c.isolate_id IS NOT NULL
                          AND (c.last_tx, c.last_id) < (c.isolate_tx, c.isolate_id)),
                       greatest(p_limit, 1))
    ) w
    WHERE w.before_bytes = 0 OR w.before_bytes + w.row_bytes <= p_max_bytes
    ORDER BY w.tx, w.id
$$;

-- Moves a pipeline's offset forward to (p_tx, p_id). Fenced: refused unless this session holds
-- the pipeline's advisory lock, so a relay that lost ownership can never move the offset.
-- Monotonic: an offset at or behind the stored one is ignored (returns false).
CREATE FUNCTION tide.relay_advance(p_pipeline text, p_outbox text, p_tx xid8, p_id bigint,
                                   p_group text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := coalesce(p_group, tide.relay_group());
BEGIN
    PERFORM tide.relay_require_lock(p_pipeline, g, 'offset advance');
    IF p_tx IS NULL OR p_id IS NULL OR p_tx >= pg_snapshot_xmin(pg_current_snapshot()) THEN
        RAISE EXCEPTION 'pg_tide: offset (%, %) of pipeline "%" is not below the oldest running transaction',
            p_tx, p_id, p_pipeline USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE tide.relay_consumer_offsets o
    SET last_tx = p_tx, last_id = p_id, updated_at = now(), last_seen_at = now(),
        owner = coalesce(nullif(current_setting('application_name'), ''), 'relay') || ' (pid ' || pg_backend_pid() || ')',
        consecutive_failures = 0, gave_up_at = NULL
    WHERE o.relay_group = g AND o.pipeline = p_pipeline AND o.outbox_name = p_outbox
      AND (o.last_tx, o.last_id) < (p_tx, p_id);
    IF FOUND THEN
        RETURN true;
    END IF;
    -- delivered, but not ahead (a former owner advanced past it): the sink still took it, so the run of failures ends
    UPDATE tide.relay_consumer_offsets o SET consecutive_failures = 0, gave_up_at = NULL
    WHERE o.relay_group = g AND o.pipeline = p_pipeline AND o.outbox_name = p_outbox;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_tide: pipeline "%" on outbox "%" (relay group "%") is not registered', p_pipeline, p_outbox, g
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN false;
END $$;

-- A send of the pipeline's batch failed with p_error; p_gave_up: the batch used up its retries and goes back to be
-- polled again. Kept until the next delivery (tide.relay_advance) for tide.consumer_lag's state. Fenced like the
-- advance: a relay that lost the pipeline cannot write its failures over the new owner's.
CREATE FUNCTION tide.relay_failed(p_pipeline text, p_outbox text, p_error text, p_gave_up boolean DEFAULT false,
                                  p_group text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := coalesce(p_group, tide.relay_group());
BEGIN
    PERFORM tide.relay_require_lock(p_pipeline, g, 'failure record');
    UPDATE tide.relay_consumer_offsets o
    SET consecutive_failures = o.consecutive_failures + CASE WHEN p_gave_up THEN 0 ELSE 1 END,
        gave_up_at = CASE WHEN p_gave_up THEN now() ELSE o.gave_up_at END,
        last_error = left(coalesce(p_error, 'unknown error'), 2000), last_error_at = now()
    WHERE o.relay_group = g AND o.pipeline = p_pipeline AND o.outbox_name = p_outbox;
END $$;

------------------------------------------------------------------------------------------------
-- Operating pipelines: pause and resume
------------------------------------------------------------------------------------------------

-- Pauses (p_paused) or resumes a registered pipeline of group p_group, every partition of a partitioned one
-- included; false when none of its rows changed. What tide.relay_pause and tide.relay_resume share: not a
-- definer itself, it acts with the rights of those two.
CREATE FUNCTION tide.relay_set_paused(p_pipeline text, p_group text, p_paused boolean) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tide.relay_registered(p_pipeline, p_group);
    UPDATE tide.relay_consumer_offsets o
    SET paused_at = CASE WHEN p_paused THEN now() END, paused_by = CASE WHEN p_paused THEN session_user END
    WHERE o.relay_group = p_group AND p_pipeline IN (o.pipeline, o.partition_of) AND (o.paused_at IS NULL) = p_paused;
    RETURN FOUND;
END $$;

-- Pauses a pipeline on every relay of its group: from now on its polls return nothing, and the relay running it
-- stops it within one lock interval, once the batch in flight has advanced, and frees its lock. Stored with the
-- offset, so the pause outlives relay restarts. Returns false when the pipeline was paused already.
CREATE FUNCTION tide.relay_pause(p_pipeline text, p_group text DEFAULT NULL) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tide.relay_set_paused(p_pipeline, coalesce(p_group, tide.relay_group()), true)
$$;

-- Resumes a paused pipeline: one relay of the group takes its lock again within a lock interval and delivers from
-- its offset. Returns false when the pipeline was not paused.
CREATE FUNCTION tide.relay_resume(p_pipeline text, p_group text DEFAULT NULL) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tide.relay_set_paused(p_pipeline, coalesce(p_group, tide.relay_group()), false)
$$;

-- True while the pipeline is paused: the relay checks it before it takes the pipeline's lock, and for the locks it holds.
CREATE FUNCTION tide.relay_paused(p_pipeline text, p_group text DEFAULT NULL) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM tide.relay_consumer_offsets o
                   WHERE o.relay_group = coalesce(p_group, tide.relay_group()) AND o.pipeline = p_pipeline
                     AND o.paused_at IS NOT NULL)
$$;

-- Fails unless the pipeline has an offset row in the group: what an operator's act on a pipeline needs first.
CREATE FUNCTION tide.relay_registered(p_pipeline text, p_group text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM FROM tide.relay_consumer_offsets o
    WHERE o.relay_group = p_group AND p_pipeline IN (o.pipeline, o.partition_of);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_tide: pipeline "%" is not registered in relay group "%"', p_pipeline, p_group
            USING ERRCODE = 'undefined_object', HINT = 'A pipeline registers on its first poll; tide.consumer_lag lists them.';
    END IF;
END $$;

------------------------------------------------------------------------------------------------
-- Operating pipelines: rewind
------------------------------------------------------------------------------------------------

-- Every rewind of a pipeline's offset: who, when, from where to where, and why.
CREATE TABLE tide.relay_rewinds (
    rewind_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    relay_group text NOT NULL,
    pipeline    text NOT NULL,
    outbox_name text NOT NULL,
    from_tx     xid8 NOT NULL,
    from_id     bigint NOT NULL,
    to_tx       xid8 NOT NULL,
    to_id       bigint NOT NULL,
    rewound_by  text NOT NULL,
    rewound_at  timestamptz NOT NULL DEFAULT now(),
    note        text NOT NULL
);

-- Moves a paused pipeline's offset back to (p_to_tx, p_to_id): resumed, it delivers again every message after
-- that position, in order. Refused while the pipeline is not paused or a session holds its lock (the lock is
-- taken for this transaction, so no relay can start it meanwhile), forward of the offset (that would skip
-- messages), and below the retention floor (the last message retention deleted: what lies before it can no
-- longer be delivered again); the error names the oldest point a rewind may reach. Recorded in
-- tide.relay_rewinds. An operator's act: EXECUTE is granted explicitly (below), never to the relay's role.
CREATE FUNCTION tide.relay_rewind(p_pipeline text, p_to_tx xid8, p_to_id bigint, p_note text,
                                  p_group text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := coalesce(p_group, tide.relay_group());
    o tide.relay_consumer_offsets;
    c tide.tide_outbox_config;
    audit_id bigint;
BEGIN
    IF p_note IS NULL OR btrim(p_note) = '' THEN
        RAISE EXCEPTION 'pg_tide: a rewind of pipeline "%" needs a note saying why', p_pipeline
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM tide.relay_registered(p_pipeline, g);
    SELECT * INTO o FROM tide.relay_consumer_offsets r WHERE r.relay_group = g AND r.pipeline = p_pipeline FOR UPDATE;
    IF o.paused_at IS NULL THEN
        RAISE EXCEPTION 'pg_tide: pipeline "%" (relay group "%") is not paused; offset unchanged', p_pipeline, g
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Pause it first (SELECT tide.relay_pause(...)), then rewind, then resume.';
    END IF;
    IF NOT pg_try_advisory_xact_lock(tide.relay_lock_key(p_pipeline, g)) THEN
        RAISE EXCEPTION 'pg_tide: pipeline "%" (relay group "%") is still held by %; offset unchanged', p_pipeline, g,
            coalesce(tide.relay_lock_holder(p_pipeline, g), 'a session')
            USING ERRCODE = 'lock_not_available',
                  HINT = 'A relay stops a paused pipeline within a lock interval, after its batch in flight; try again then.';
    END IF;
    IF p_to_tx IS NULL OR p_to_id IS NULL OR (p_to_tx, p_to_id) > (o.last_tx, o.last_id) THEN
        RAISE EXCEPTION 'pg_tide: (%, %) is not at or before the offset (%, %) of pipeline "%"; offset unchanged',
            p_to_tx, p_to_id, o.last_tx, o.last_id, p_pipeline USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO c FROM tide.tide_outbox_config WHERE outbox_name = o.outbox_name;
    IF (p_to_tx, p_to_id) < (c.swept_tx, c.swept_id) THEN
        RAISE EXCEPTION 'pg_tide: (%, %) is below the retention floor of outbox "%"; offset unchanged', p_to_tx, p_to_id,
            o.outbox_name USING ERRCODE = 'invalid_parameter_value',
            HINT = format('The oldest rewindable point is (%s, %s): retention deleted message %s, and what came before it.',
                          c.swept_tx, c.swept_id, c.swept_id);
    END IF;
    UPDATE tide.relay_consumer_offsets r
    SET last_tx = p_to_tx, last_id = p_to_id, isolate_tx = NULL, isolate_id = NULL, updated_at = now()
    WHERE r.relay_group = g AND r.pipeline = p_pipeline AND r.outbox_name = o.outbox_name;
    INSERT INTO tide.relay_rewinds (relay_group, pipeline, outbox_name, from_tx, from_id, to_tx, to_id, rewound_by, note)
    VALUES (g, p_pipeline, o.outbox_name, o.last_tx, o.last_id, p_to_tx, p_to_id, session_user, p_note)
    RETURNING rewind_id INTO audit_id;
    RETURN audit_id;
END $$;

-- The configuration of the outbox a registered pipeline of group p_group delivers from: where the rewinds by time
-- and by message find their position. Not a definer itself, it reads with the rights of those two.
CREATE FUNCTION tide.relay_pipeline_outbox(p_pipeline text, p_group text) RETURNS tide.tide_outbox_config
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c tide.tide_outbox_config;
BEGIN
    PERFORM tide.relay_registered(p_pipeline, p_group);
    SELECT f.* INTO c FROM tide.relay_consumer_offsets o JOIN tide.tide_outbox_config f USING (outbox_name)
    WHERE o.relay_group = p_group AND o.pipeline = p_pipeline LIMIT 1;
    RETURN c;
END $$;

-- Rewinds a paused pipeline to just before the first message created at or after p_to (tide.relay_position_at):
-- resumed, it delivers again from that message on.
CREATE FUNCTION tide.relay_rewind(p_pipeline text, p_to timestamptz, p_note text, p_group text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := coalesce(p_group, tide.relay_group());
    c tide.tide_outbox_config := tide.relay_pipeline_outbox(p_pipeline, g);
    p record;
BEGIN
    IF p_to IS NULL OR p_to <= c.swept_created_at THEN
        RAISE EXCEPTION 'pg_tide: % is below the retention floor of outbox "%": retention deleted messages created up to %; offset unchanged',
            coalesce(p_to::text, 'NULL'), c.outbox_name, c.swept_created_at USING ERRCODE = 'invalid_parameter_value',
            HINT = format('The oldest rewindable point is (%s, %s), or a time after %s.', c.swept_tx, c.swept_id, c.swept_created_at);
    END IF;
    SELECT a.tx, a.id INTO p FROM tide.relay_position_at(c.outbox_name, p_to) a;
    RETURN tide.relay_rewind(p_pipeline, p.tx, p.id, p_note, g);
END $$;

-- Rewinds a paused pipeline to just before message p_message of its outbox: resumed, it delivers again from that
-- message on.
CREATE FUNCTION tide.relay_rewind(p_pipeline text, p_message bigint, p_note text, p_group text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := coalesce(p_group, tide.relay_group());
    p record;
BEGIN
    SELECT b.tx, b.id INTO p
    FROM tide.relay_position_before((tide.relay_pipeline_outbox(p_pipeline, g)).outbox_name, p_message) b;
    RETURN tide.relay_rewind(p_pipeline, p.tx, p.id, p_note, g);
END $$;

-- The messages a rewind of the pipeline to (p_from_tx, p_from_id) would deliver again, in order, up to its
-- offset (or up to and including (p_to_tx, p_to_id)), at most p_limit: what `pg-tide replay --preview` prints.
-- It moves nothing, and needs only SELECT on the tables. One range of the primary key.
CREATE FUNCTION tide.relay_replay_preview(p_pipeline text, p_from_tx xid8, p_from_id bigint, p_to_tx xid8 DEFAULT NULL,
                                          p_to_id bigint DEFAULT NULL, p_limit integer DEFAULT 1000,
                                          p_group text DEFAULT NULL)
RETURNS TABLE (outbox_name text, id bigint, tx xid8, key text, payload jsonb, headers jsonb, created_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT m.outbox_name, m.id, m.tx, m.key, m.payload, m.headers, m.created_at
    FROM tide.relay_consumer_offsets o
    JOIN tide.outbox_messages m ON m.outbox_name = o.outbox_name
    WHERE o.relay_group = coalesce(p_group, tide.relay_group()) AND o.pipeline = p_pipeline
      AND (m.tx, m.id) > (p_from_tx, p_from_id)
      AND (m.tx, m.id) <= (coalesce(p_to_tx, o.last_tx), coalesce(p_to_id, o.last_id))
    ORDER BY m.tx, m.id
    LIMIT greatest(p_limit, 1)
$$;

-- Rewinding is an operator's act the relay itself must not be able to do: EXECUTE is granted explicitly.
REVOKE EXECUTE ON FUNCTION tide.relay_rewind(text, xid8, bigint, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tide.relay_rewind(text, timestamptz, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tide.relay_rewind(text, bigint, text, text) FROM PUBLIC;

------------------------------------------------------------------------------------------------
-- Monitoring
------------------------------------------------------------------------------------------------

-- The transactions open now that have written (hold an xid), in any database, prepared ones
-- included, oldest first. A poll returns only rows below the oldest of them (relay_poll), so that
-- one holds back every message committed after it began. Definer rights: pg_stat_activity hides
-- other roles' rows.
CREATE FUNCTION tide.open_write_transactions()
RETURNS TABLE (pid integer, role text, database text, application_name text, state text,
               age_seconds double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.pid, t.role, t.database, t.application_name, t.state,
           extract(epoch FROM now() - t.began)::double precision
    FROM (
        SELECT a.pid, a.usename::text, a.datname::text, a.application_name, a.state, a.xact_start
        FROM pg_stat_activity a
        WHERE a.backend_xid IS NOT NULL AND a.xact_start IS NOT NULL
        UNION ALL
        SELECT NULL::integer, p.owner::text, p.database::text, 'prepared transaction ' || p.gid, 'prepared', p.prepared
        FROM pg_prepared_xacts p) t(pid, role, database, application_name, state, began)
    ORDER BY t.began
$$;

-- Age of the oldest open transaction that has written, 0 when there is none.
CREATE FUNCTION tide.oldest_open_write_tx_age() RETURNS double precision
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(max(t.age_seconds), 0)::double precision FROM tide.open_write_transactions() t
$$;

-- Per outbox, the committed messages no poll can return yet because an older transaction is still
-- open: those at or above the horizon of relay_poll. One index range per outbox.
CREATE FUNCTION tide.held_back_messages()
RETURNS TABLE (outbox_name text, messages bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.outbox_name, h.messages
    FROM tide.tide_outbox_config c
    CROSS JOIN LATERAL (
        SELECT count(*) FROM tide.outbox_messages m
        WHERE m.outbox_name = c.outbox_name
          AND m.tx >= pg_snapshot_xmin(pg_current_snapshot())) h(messages)
    WHERE h.messages > 0
    ORDER BY c.outbox_name
$$;

-- The session holding a pipeline's lock, as "application_name (pid N)", or NULL when none does.
-- Definer rights: pg_stat_activity hides other roles' sessions.
CREATE FUNCTION tide.relay_lock_holder(p_pipeline text, p_group text DEFAULT NULL) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(nullif(a.application_name, ''), 'session') || ' (pid ' || h.pid || ')'
    FROM tide.relay_lock_pids(ARRAY[p_pipeline], p_group) h
    LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = h.pid
    LIMIT 1
$$;

-- Per pipeline: where it stands and what it still has to deliver. unseen_seconds: time since the
-- pipeline last polled or advanced (to within 30 s). A registration nobody polls any more still holds
-- retention back at its offset; this column, not a silent growth of the outbox, shows it.
-- state, first that applies: paused (tide.relay_pause); unowned (no session holds its lock); failing (a batch
-- used up its retries since the last delivery and is polled again); retrying (a send failed since the last
-- delivery); running. consecutive_failures counts the failed sends since the last delivery.
CREATE VIEW tide.consumer_lag AS
SELECT o.relay_group,
       o.pipeline,
       o.outbox_name,
       o.last_tx,
       o.last_id,
       o.owner,
       o.updated_at,
       p.pending,
       coalesce(extract(epoch FROM now() - p.oldest), 0)::double precision AS oldest_pending_age_seconds,
       tide.oldest_open_write_tx_age() AS oldest_open_tx_age_seconds,
       h.holder AS lock_holder,
       extract(epoch FROM now() - o.last_seen_at)::double precision AS unseen_seconds,
       o.paused_at,
       o.paused_by,
       o.start_position,
       CASE WHEN o.paused_at IS NOT NULL THEN 'paused'
            WHEN h.holder IS NULL THEN 'unowned'
            WHEN o.gave_up_at IS NOT NULL THEN 'failing'
            WHEN o.consecutive_failures > 0 THEN 'retrying'
            ELSE 'running' END AS state,
       o.consecutive_failures,
       o.last_error,
       o.last_error_at,
       (SELECT count(*) FROM tide.relay_dlq d
        WHERE d.relay_group = o.relay_group AND d.pipeline = o.pipeline AND d.outbox_name = o.outbox_name
          AND d.resolved_at IS NULL) AS open_dead_letters,
       o.partition_of,
       o.key_partition,
       o.key_partitions
FROM tide.relay_consumer_offsets o
CROSS JOIN LATERAL (SELECT tide.relay_lock_holder(o.pipeline, o.relay_group) AS holder) h
CROSS JOIN LATERAL (
    SELECT count(*) AS pending, min(m.created_at) AS oldest
    FROM tide.outbox_messages m
    WHERE m.outbox_name = o.outbox_name AND (m.tx, m.id) > (o.last_tx, o.last_id)
      AND tide.key_partition(m.key, o.key_partitions) = o.key_partition) p;

-- Per outbox: messages kept, and messages not yet delivered by its slowest pipeline.
CREATE VIEW tide.outbox_pending AS
SELECT c.outbox_name,
       c.retention_hours,
       (SELECT count(*) FROM tide.outbox_messages m WHERE m.outbox_name = c.outbox_name) AS messages,
       coalesce(max(l.pending), 0) AS pending,
       coalesce(max(l.oldest_pending_age_seconds), 0)::double precision AS oldest_pending_age_seconds,
       count(l.pipeline) AS pipelines
FROM tide.tide_outbox_config c
LEFT JOIN tide.consumer_lag l ON l.outbox_name = c.outbox_name
GROUP BY c.outbox_name, c.retention_hours;

CREATE FUNCTION tide.outbox_status(p_name text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    result jsonb;
BEGIN
    SELECT jsonb_build_object(
               'outbox', p.outbox_name,
               'retention_hours', p.retention_hours,
               'messages', p.messages,
               'pending', p.pending,
               'oldest_pending_age_seconds', p.oldest_pending_age_seconds,
               'oldest_open_tx_age_seconds', tide.oldest_open_write_tx_age(),
               'pipelines', coalesce((
                   SELECT jsonb_agg(jsonb_build_object(
                              'relay_group', l.relay_group, 'pipeline', l.pipeline,
                              'last_tx', l.last_tx::text, 'last_id', l.last_id, 'owner', l.owner,
                              'updated_at', l.updated_at, 'pending', l.pending,
                              'oldest_pending_age_seconds', l.oldest_pending_age_seconds)
                              ORDER BY l.relay_group, l.pipeline)
                   FROM tide.consumer_lag l WHERE l.outbox_name = p.outbox_name), '[]'::jsonb))
    INTO result
    FROM tide.outbox_pending p WHERE p.outbox_name = p_name;
    IF result IS NULL THEN
        RAISE EXCEPTION 'pg_tide: outbox "%" does not exist', p_name USING ERRCODE = 'undefined_object';
    END IF;
    RETURN result;
END $$;

------------------------------------------------------------------------------------------------
-- Retention
------------------------------------------------------------------------------------------------

-- Deletes rows per outbox that are older than the outbox's retention and that every pipeline
-- registered on the outbox has passed: of the first p_batch rows of the outbox in (tx, id) order up
-- to the slowest offset, those older than the retention. Returns the number of rows deleted.
-- Each batch walks the primary key's range (outbox_name, tx, id) from its start and deletes by
-- ctid, so its cost is the batch, not the table (a DELETE by id alone scans the whole table).
-- A young row among old ones stays, and so may older rows behind it in (tx, id) order, until it ages
-- (a transaction's rows are as old as its start): retention is a minimum age, never a maximum.
CREATE FUNCTION tide.outbox_sweep(p_name text DEFAULT NULL, p_batch integer DEFAULT 10000) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c record;
    upto_tx xid8;
    upto_id bigint;
    deleted bigint := 0;
    n bigint;
BEGIN
    IF p_name IS NOT NULL THEN
        PERFORM FROM tide.tide_outbox_config WHERE outbox_name = p_name;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'pg_tide: outbox "%" does not exist', p_name USING ERRCODE = 'undefined_object';
        END IF;
    END IF;
    FOR c IN SELECT * FROM tide.tide_outbox_config
             WHERE p_name IS NULL OR outbox_name = p_name ORDER BY outbox_name LOOP
        -- the slowest pipeline's offset; with none registered, retention alone decides
        SELECT o.last_tx, o.last_id INTO upto_tx, upto_id
        FROM tide.relay_consumer_offsets o WHERE o.outbox_name = c.outbox_name
        ORDER BY o.last_tx, o.last_id LIMIT 1;
        IF NOT FOUND THEN
            upto_tx := pg_snapshot_xmin(pg_current_snapshot());
            upto_id := 9223372036854775807;
        END IF;
        -- the ctids come from this statement's snapshot, so none can have been reused; the last message
        -- deleted raises the outbox's retention floor (what a rewind may reach), read from the batch alone
        WITH gone AS (
            DELETE FROM tide.tide_outbox_messages m
            WHERE m.ctid = ANY (ARRAY(
                SELECT h.ctid FROM (
                    SELECT d.ctid, d.created_at FROM tide.tide_outbox_messages d
                    WHERE d.outbox_name = c.outbox_name
                      AND (d.tx, d.id) <= (upto_tx, upto_id)
                    ORDER BY d.tx, d.id
                    LIMIT greatest(p_batch, 1)) h
                WHERE h.created_at < now() - make_interval(hours => c.retention_hours)))
            RETURNING m.tx, m.id, m.created_at),
        floor AS (
            UPDATE tide.tide_outbox_config f SET swept_tx = l.tx, swept_id = l.id,
                swept_created_at = greatest(f.swept_created_at, (SELECT max(g.created_at) FROM gone g))
            FROM (SELECT g.tx, g.id FROM gone g ORDER BY g.tx DESC, g.id DESC LIMIT 1) l
            WHERE f.outbox_name = c.outbox_name AND (f.swept_tx, f.swept_id) < (l.tx, l.id))
        SELECT count(*) INTO n FROM gone;
        deleted := deleted + n;
    END LOOP;
    RETURN deleted;
END $$;

-- Keeps the partitions of partitioned outboxes (p_name, or all) and returns how many it created and dropped.
-- Creates tx ranges of partition_xids ahead, up to two ranges past the next transaction id; rows outside every
-- range land in the DEFAULT partition and are deleted by the rules below, row by row. Drops a range, oldest
-- first, once it is closed (the oldest running transaction is at or above its end: no row can land in it any
-- more), closed for longer than the retention, and its last row is at or before every registered pipeline's
-- offset (with none registered, retention alone decides); the first range kept stops the drops. A pipeline
-- that has read nothing keeps every range that holds a row. A drop raises the retention floor (swept_tx,
-- swept_id, swept_created_at) to the range's last row and the time it closed. Nothing on a standby; one
-- maintainer at a time. A change waits at most lock_timeout for the table's lock, then waits for the next run:
-- publishers would queue behind a DDL that waits for a long open transaction.
CREATE FUNCTION tide.outbox_maintain(p_name text DEFAULT NULL, OUT created integer, OUT dropped integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET lock_timeout = '100ms' AS $$
DECLARE
    -- taken before this function writes, so its own transaction id is not the horizon
    snap pg_snapshot := pg_current_snapshot();
    horizon xid8 := pg_snapshot_xmin(snap);
    next_xid bigint := pg_snapshot_xmax(snap)::text::bigint;
    c record;
    p record;
    top bigint;
    lo bigint;
    part text;
    upto_tx xid8;
    upto_id bigint;
    last_tx xid8;
    last_id bigint;
BEGIN
    created := 0;
    dropped := 0;
    IF pg_is_in_recovery() THEN
        RETURN;
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtextextended('pg_tide/#partitions', 0)) THEN
        RETURN;
    END IF;
    UPDATE tide.tide_outbox_partitions t SET closed_at = now() WHERE t.closed_at IS NULL AND t.hi <= horizon;
    FOR c IN SELECT * FROM tide.tide_outbox_config f
             WHERE f.partition_xids IS NOT NULL AND (p_name IS NULL OR f.outbox_name = p_name)
             ORDER BY f.outbox_name LOOP
        SELECT max(t.hi::text::bigint) INTO top FROM tide.tide_outbox_partitions t WHERE t.outbox_name = c.outbox_name;
        WHILE top IS NULL OR top < next_xid + 2 * c.partition_xids LOOP
            -- after a stop, a little past the next id: ids taken meanwhile put rows in the DEFAULT partition
            next_xid := pg_snapshot_xmax(pg_current_snapshot())::text::bigint;
            lo := CASE WHEN top IS NULL THEN next_xid
                       WHEN top < next_xid THEN next_xid + least(c.partition_xids, 10000)
                       ELSE top END;
            part := format('p%s_%s_%s', lo, left(md5(c.outbox_name), 8), left(c.outbox_name, 30));
            BEGIN
                EXECUTE format('CREATE TABLE tide.%I PARTITION OF tide.tide_outbox_partitioned FOR VALUES FROM (%L, %L) TO (%L, %L)',
                               part, c.outbox_name, lo, c.outbox_name, lo + c.partition_xids);
            -- check_violation: the DEFAULT partition already holds a row of the range (ids passed it meanwhile)
            EXCEPTION WHEN lock_not_available OR check_violation THEN
                EXIT;
            END;
            INSERT INTO tide.tide_outbox_partitions (partition_name, outbox_name, lo, hi)
            VALUES (part, c.outbox_name, lo::text::xid8, (lo + c.partition_xids)::text::xid8);
            top := lo + c.partition_xids;
            created := created + 1;
        END LOOP;
        SELECT o.last_tx, o.last_id INTO upto_tx, upto_id
        FROM tide.relay_consumer_offsets o WHERE o.outbox_name = c.outbox_name
        ORDER BY o.last_tx, o.last_id LIMIT 1;
        IF NOT FOUND THEN
            upto_tx := horizon;
            upto_id := 9223372036854775807;
        END IF;
        FOR p IN SELECT * FROM tide.tide_outbox_partitions t
                 WHERE t.outbox_name = c.outbox_name AND t.closed_at < now() - make_interval(hours => c.retention_hours)
                 ORDER BY t.lo LOOP
            last_tx := NULL;
            SELECT m.tx, m.id INTO last_tx, last_id FROM tide.tide_outbox_partitioned m
            WHERE m.outbox_name = c.outbox_name AND m.tx >= p.lo AND m.tx < p.hi
            ORDER BY m.tx DESC, m.id DESC LIMIT 1;
            EXIT WHEN (last_tx, last_id) > (upto_tx, upto_id);
            BEGIN
                EXECUTE format('DROP TABLE tide.%I', p.partition_name);
            EXCEPTION WHEN lock_not_available THEN
                EXIT;
            END;
            DELETE FROM tide.tide_outbox_partitions t WHERE t.partition_name = p.partition_name;
            UPDATE tide.tide_outbox_config f
            SET swept_tx = last_tx, swept_id = last_id, swept_created_at = greatest(f.swept_created_at, p.closed_at)
            WHERE f.outbox_name = c.outbox_name AND (f.swept_tx, f.swept_id) < (last_tx, last_id);
            dropped := dropped + 1;
        END LOOP;
        -- rows that found no range (before the first one, or while maintenance stopped) are deleted as the sweep
        -- deletes: there are few, and the DEFAULT partition's primary key finds them
        WITH gone AS (
            DELETE FROM tide.tide_outbox_partitioned_default m
            WHERE m.outbox_name = c.outbox_name AND (m.tx, m.id) <= (upto_tx, upto_id)
              AND m.created_at < now() - make_interval(hours => c.retention_hours)
            RETURNING m.tx, m.id, m.created_at)
        UPDATE tide.tide_outbox_config f
        SET swept_tx = l.tx, swept_id = l.id, swept_created_at = greatest(f.swept_created_at, l.newest)
        FROM (SELECT g.tx, g.id, (SELECT max(a.created_at) FROM gone a) AS newest
              FROM gone g ORDER BY g.tx DESC, g.id DESC LIMIT 1) l
        WHERE f.outbox_name = c.outbox_name AND (f.swept_tx, f.swept_id) < (l.tx, l.id);
    END LOOP;
END $$;

------------------------------------------------------------------------------------------------
-- Inboxes: the receiving end of a pipeline, in this database or another one with pg_tide.
-- The relay writes each batch with tide.inbox_write; an event id (the outbox's stable id,
-- "<outbox>:<id>") is stored once however often it is delivered, so the consuming application
-- sees every event exactly once and marks it processed or failed.
------------------------------------------------------------------------------------------------

CREATE TABLE tide.tide_inbox_config (
    inbox_name text PRIMARY KEY CHECK (tide.is_name(inbox_name) AND length(inbox_name) <= 57),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The table of a registered inbox, as an identifier inside schema tide ("inbox_<name>").
CREATE FUNCTION tide.inbox_table(p_name text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM FROM tide.tide_inbox_config WHERE inbox_name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_tide: inbox "%" does not exist', p_name
            USING ERRCODE = 'undefined_object', HINT = 'Create it with SELECT tide.inbox_create(...).';
    END IF;
    RETURN 'inbox_' || p_name;
END $$;

-- Creates inbox p_name as table tide."inbox_<name>" (or leaves an existing one alone) and returns
-- the table's name, for GRANTs to the consuming application. Caller's rights: it needs CREATE on
-- schema tide. The name is one of check_name's names of at most 57 characters, so that
-- "inbox_<name>" stays within PostgreSQL's 63-byte identifiers and is never truncated.
CREATE FUNCTION tide.inbox_create(p_name text) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tide.check_name('inbox', p_name);
    IF length(p_name) > 57 THEN
        RAISE EXCEPTION 'pg_tide: invalid inbox name % (% characters; an inbox name has at most 57)',
            quote_literal(p_name), length(p_name) USING ERRCODE = 'invalid_name';
    END IF;
    IF to_regclass(format('tide.%I', 'inbox_' || p_name)) IS NULL THEN
        EXECUTE format($ddl$
            CREATE TABLE tide.%I (
                id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- arrival order
                event_id     text NOT NULL UNIQUE,                             -- "<outbox>:<id>", the stable id
                source       text,                                             -- the outbox it came from
                key          text,
                headers      jsonb NOT NULL DEFAULT '{}'::jsonb,
                payload      jsonb NOT NULL,
                received_at  timestamptz NOT NULL DEFAULT now(),
                processed_at timestamptz,
                attempts     integer NOT NULL DEFAULT 0,
                last_error   text)$ddl$, 'inbox_' || p_name);
        -- what the consuming application reads: unprocessed events in arrival order (the index
        -- name is PostgreSQL's choice: "inbox_<name>_..." could exceed 63 bytes)
        EXECUTE format('CREATE INDEX ON tide.%I (id) WHERE processed_at IS NULL', 'inbox_' || p_name);
    END IF;
    INSERT INTO tide.tide_inbox_config (inbox_name) VALUES (p_name) ON CONFLICT DO NOTHING;
    RETURN format('tide.%I', 'inbox_' || p_name);
END $$;

-- Removes an inbox and its events.
CREATE FUNCTION tide.inbox_drop(p_name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('DROP TABLE tide.%I', tide.inbox_table(p_name));
    DELETE FROM tide.tide_inbox_config WHERE inbox_name = p_name;
END $$;

-- Writes one batch in one statement and returns how many events were new. p_events is a JSON
-- array of {"id": "<outbox>:<id>", "key": ..., "headers": {...}, "payload": ..., "source": ...}
-- (source defaults to the outbox part of the id). An id already in the inbox is skipped, so a
-- batch delivered again after a failure lands once. Events are stored in array order.
-- Definer rights, and no EXECUTE for PUBLIC (granted below): a role that may write inboxes
-- needs EXECUTE on this function, not INSERT on their tables.
CREATE FUNCTION tide.inbox_write(p_name text, p_events jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t text := tide.inbox_table(p_name);
    bad bigint;
    n integer;
BEGIN
    IF p_events IS NULL OR jsonb_typeof(p_events) <> 'array' THEN
        RAISE EXCEPTION 'pg_tide: events for inbox "%" must be a JSON array, not %', p_name,
            coalesce(jsonb_typeof(p_events), 'NULL') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT min(a.n) INTO bad FROM jsonb_array_elements(p_events) WITH ORDINALITY AS a(e, n)
    WHERE jsonb_typeof(a.e) IS DISTINCT FROM 'object' OR jsonb_typeof(a.e -> 'id') IS DISTINCT FROM 'string'
       OR NOT a.e ? 'payload'
       OR (a.e ? 'headers' AND jsonb_typeof(a.e -> 'headers') NOT IN ('object', 'null'));
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'pg_tide: event % of the batch for inbox "%" is not {"id": "<text>", "payload": ..., "headers": {...}}: %',
            bad, p_name, left((p_events -> (bad::int - 1))::text, 200) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE format($dml$
        INSERT INTO tide.%I (event_id, source, key, headers, payload)
        SELECT a.e ->> 'id',
               coalesce(a.e ->> 'source', tide.message_outbox(a.e ->> 'id')),
               a.e ->> 'key',
               coalesce(nullif(a.e -> 'headers', 'null'::jsonb), '{}'::jsonb),
               a.e -> 'payload'
        FROM jsonb_array_elements($1) WITH ORDINALITY AS a(e, n)
        ORDER BY a.n
        ON CONFLICT (event_id) DO NOTHING$dml$, t) USING p_events;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- For the consuming application, in the transaction that handles the event: marks it processed.
-- Returns false, changing nothing, when it was processed already (a second handler rolls back).
CREATE FUNCTION tide.inbox_mark_processed(p_name text, p_event_id text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t text := tide.inbox_table(p_name);
    known boolean;
    n bigint;
BEGIN
    EXECUTE format('UPDATE tide.%I SET processed_at = now(), attempts = attempts + 1, last_error = NULL
                    WHERE event_id = $1 AND processed_at IS NULL', t) USING p_event_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        RETURN true;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT FROM tide.%I WHERE event_id = $1)', t) INTO known USING p_event_id;
    IF NOT known THEN
        RAISE EXCEPTION 'pg_tide: inbox "%" has no event %', p_name, coalesce(quote_literal(p_event_id), 'NULL')
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN false;
END $$;

-- For the consuming application: records a failed attempt and its error; the event stays
-- unprocessed. Returns false, changing nothing, when it was processed already.
CREATE FUNCTION tide.inbox_mark_failed(p_name text, p_event_id text, p_error text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t text := tide.inbox_table(p_name);
    known boolean;
    n bigint;
BEGIN
    EXECUTE format('UPDATE tide.%I SET attempts = attempts + 1, last_error = $2
                    WHERE event_id = $1 AND processed_at IS NULL', t) USING p_event_id, p_error;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        RETURN true;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT FROM tide.%I WHERE event_id = $1)', t) INTO known USING p_event_id;
    IF NOT known THEN
        RAISE EXCEPTION 'pg_tide: inbox "%" has no event %', p_name, coalesce(quote_literal(p_event_id), 'NULL')
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN false;
END $$;

-- Writing and marking events is granted explicitly (GRANT EXECUTE ON FUNCTION ... TO role):
-- with definer rights, EXECUTE for PUBLIC would let any role with USAGE on schema tide forge
-- or settle events in every inbox.
REVOKE EXECUTE ON FUNCTION tide.inbox_write(text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tide.inbox_mark_processed(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tide.inbox_mark_failed(text, text, text) FROM PUBLIC;

------------------------------------------------------------------------------------------------
-- Dead letters: messages a sink rejected for good, set aside so their neighbours flow on
------------------------------------------------------------------------------------------------

-- The sink rejected a batch for good: deliver one message at a time up to (p_tx, p_id). Fenced.
CREATE FUNCTION tide.relay_isolate(p_pipeline text, p_outbox text, p_tx xid8, p_id bigint,
                                   p_group text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := coalesce(p_group, tide.relay_group());
BEGIN
    PERFORM tide.relay_require_lock(p_pipeline, g, 'isolation');
    UPDATE tide.relay_consumer_offsets o SET isolate_tx = p_tx, isolate_id = p_id
    WHERE o.relay_group = g AND o.pipeline = p_pipeline AND o.outbox_name = p_outbox
      AND (o.isolate_id IS NULL OR (o.isolate_tx, o.isolate_id) < (p_tx, p_id));
END $$;

-- The sink rejected the message (p_tx, p_id) for good: set it aside in tide.relay_dlq and move the
-- offset past it, in one statement, so the offset never moves unless the dead letter is written. Fenced.
CREATE FUNCTION tide.relay_dead_letter(p_pipeline text, p_outbox text, p_tx xid8, p_id bigint, p_error text,
                                       p_attempts integer, p_group text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := coalesce(p_group, tide.relay_group());
BEGIN
    INSERT INTO tide.relay_dlq (relay_group, pipeline, outbox_name, message_id, tx, key, payload, headers, error, attempts)
    SELECT g, p_pipeline, m.outbox_name, m.id, m.tx, m.key, m.payload, m.headers,
           coalesce(p_error, 'rejected'), greatest(p_attempts, 1)
    FROM tide.outbox_messages m
    WHERE m.outbox_name = p_outbox AND m.tx = p_tx AND m.id = p_id
    ON CONFLICT (relay_group, pipeline, outbox_name, message_id)
    DO UPDATE SET error = excluded.error, attempts = tide.relay_dlq.attempts + excluded.attempts,
                  failed_at = now(), resolved_at = NULL, resolution = NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_tide: message % of outbox "%" does not exist', p_id, p_outbox
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN tide.relay_advance(p_pipeline, p_outbox, p_tx, p_id, g);
END $$;

-- Puts a dead letter back into its outbox as a new message (same key, payload and headers, plus the
-- header pg_tide_requeued_from), for every pipeline of the outbox, and closes it. Returns the new id.
CREATE FUNCTION tide.dlq_requeue(p_dlq_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d tide.relay_dlq;
    new_id bigint;
BEGIN
    SELECT * INTO d FROM tide.relay_dlq WHERE dlq_id = p_dlq_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_tide: dead letter % does not exist', p_dlq_id USING ERRCODE = 'undefined_object';
    END IF;
    IF d.resolved_at IS NOT NULL THEN
        RAISE EXCEPTION 'pg_tide: dead letter % was closed already (%)', p_dlq_id, d.resolution
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- a publish: whichever storage form the outbox has, and it wakes a waiting pipeline
    new_id := tide.outbox_publish(d.outbox_name, d.payload,
        d.headers || jsonb_build_object('pg_tide_requeued_from', tide.message_id(d.outbox_name, d.message_id)), d.key);
    UPDATE tide.relay_dlq SET resolved_at = now(), resolution = 'requeued as ' || new_id WHERE dlq_id = p_dlq_id;
    RETURN new_id;
END $$;

-- Closes a dead letter without delivering it. Returns false when it was closed already.
CREATE FUNCTION tide.dlq_resolve(p_dlq_id bigint, p_note text DEFAULT 'resolved') RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE tide.relay_dlq SET resolved_at = now(), resolution = coalesce(p_note, 'resolved')
    WHERE dlq_id = p_dlq_id AND resolved_at IS NULL;
    IF FOUND THEN
        RETURN true;
    END IF;
    PERFORM FROM tide.relay_dlq WHERE dlq_id = p_dlq_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_tide: dead letter % does not exist', p_dlq_id USING ERRCODE = 'undefined_object';
    END IF;
    RETURN false;
END $$;

-- Requeueing and resolving are operators' acts: granted explicitly, not to PUBLIC.
REVOKE EXECUTE ON FUNCTION tide.dlq_requeue(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tide.dlq_resolve(bigint, text) FROM PUBLIC;

-- Open dead letters per pipeline.
CREATE VIEW tide.dead_letters AS
SELECT relay_group, pipeline, outbox_name, count(*) AS open_dead_letters, max(failed_at) AS last_failed_at
FROM tide.relay_dlq WHERE resolved_at IS NULL
GROUP BY relay_group, pipeline, outbox_name;

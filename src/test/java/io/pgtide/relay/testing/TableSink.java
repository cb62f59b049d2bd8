package io.pgtide.relay.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;

/**
 * A pipeline whose sink is a table of the relay's own database ({@code public.delivered}): each delivered message
 * is a row, in arrival order, copies included, so a test reads exactly what reached the sink and when.
 */
public final class TableSink {

    private final TestDatabase db;

    private TableSink(TestDatabase db) {
        this.db = db;
    }

    /** Creates the table and writes the pipeline file {@code <pipeline>.yaml}, reading {@code tide:<source>}. */
    public static TableSink create(TestDatabase db, Path routes, String pipeline, String source)
            throws SQLException, IOException {
        db.execute("CREATE TABLE IF NOT EXISTS public.delivered (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                + " pipeline text NOT NULL, id bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())");
        Files.writeString(routes.resolve(pipeline + ".yaml"), """
                - route:
                    id: %1$s
                    from:
                      uri: "tide:%2$s"
                      steps:
                        - process: { ref: "#class:io.pgtide.relay.sink.InboxBatch" }
                        - to:
                            uri: "sql:INSERT INTO public.delivered (pipeline, id) SELECT '%1$s', split_part(e ->> 'id', ':', 2)::bigint FROM jsonb_array_elements(CAST(:#${body} AS jsonb)) WITH ORDINALITY a(e, n) ORDER BY n"
                            parameters:
                              dataSource: "#pgTide"
                """.formatted(pipeline, source));
        return new TableSink(db);
    }

    /** The number of the last arrival (0 before any): messages that reached the sink, copies included. */
    public long lastArrival() throws SQLException {
        return db.queryOne(Long.class, "SELECT coalesce(max(seq), 0) FROM public.delivered");
    }

    /** The ids that reached the sink after arrival number {@code after}, in arrival order. */
    public List<Long> idsAfter(long after) throws SQLException {
        return db.queryList(Long.class, "SELECT id FROM public.delivered WHERE seq > ? ORDER BY seq", after);
    }

    /** The outbox's ids after the offset (tx, id), in (tx, id) order: what a pipeline there delivers next. */
    public List<Long> outboxAfter(String outbox, String tx, long id) throws SQLException {
        return db.queryList(Long.class, "SELECT id FROM tide.outbox_messages WHERE outbox_name = ?"
                + " AND (tx, id) > (?::xid8, ?) ORDER BY tx, id", outbox, tx, id);
    }
}

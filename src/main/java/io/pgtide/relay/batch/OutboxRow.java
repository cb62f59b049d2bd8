package io.pgtide.relay.batch;

import java.util.Map;

/**
 * One row of a poll ({@code tide.relay_poll}), the columns the relay uses, as text the way PostgreSQL prints them.
 *
 * @param pipeline the pipeline named in the poll
 * @param outbox   the outbox the row belongs to
 * @param id       the row's id
 * @param tx       its writing transaction (xid8 as text)
 * @param key      its ordering key, or null
 * @param payload  the JSON payload
 * @param headers  the JSON object of headers, or null
 * @param created  when the row was written (timestamptz as text), read as {@link CreatedAt} only by the steps that
 *                 need it: most pipelines never parse it
 * @param messageId its stable id, {@code tide.message_id}
 */
public record OutboxRow(String pipeline, String outbox, long id, String tx, String key, String payload, String headers,
        String created, String messageId) {

    /** The columns of a poll, in the order of the record's components. */
    static final String[] COLUMNS = {"pipeline", "outbox_name", "id", "tx", "key", "payload", "headers", "created_at",
        "message_id"};

    /** A row that came as a column map (a poll through a row mapper other than {@link OutboxRowMapperFactory}'s). */
    static OutboxRow of(Map<?, ?> row) {
        return new OutboxRow(text(row.get(COLUMNS[0])), text(row.get(COLUMNS[1])), ((Number) row.get(COLUMNS[2])).longValue(),
                text(row.get(COLUMNS[3])), text(row.get(COLUMNS[4])), text(row.get(COLUMNS[5])), text(row.get(COLUMNS[6])),
                created(row.get(COLUMNS[7])), text(row.get(COLUMNS[8])));
    }

    /** A column map holds the driver's Timestamp, printed here the way PostgreSQL prints it in UTC. */
    private static String created(Object value) {
        return value instanceof java.sql.Timestamp time ? CreatedAt.text(time.toInstant()) : text(value);
    }

    /** jsonb and xid8 arrive as driver objects whose toString is their text form. */
    private static String text(Object value) {
        return value == null ? null : value.toString();
    }
}

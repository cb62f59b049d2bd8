package io.pgtide.relay.offset;

/**
 * One polled batch of a pipeline: where it ends, so the offset can move there once the sink
 * acknowledged every message of it.
 *
 * @param pipeline the pipeline named in the poll
 * @param outbox   the outbox the rows came from
 * @param lastTx   the writing transaction of the batch's last row (xid8 as text)
 * @param lastId   the id of the batch's last row
 * @param size     number of messages in the batch
 */
public record Batch(String pipeline, String outbox, String lastTx, long lastId, int size) {

    /** Exchange property holding the batch of the exchange. */
    public static final String PROPERTY = "PgTideBatch";
}

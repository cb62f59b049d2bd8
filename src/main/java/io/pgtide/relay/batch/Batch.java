package io.pgtide.relay.batch;

import java.util.List;

/**
 * One polled batch of a pipeline: where each of its messages stands in (tx, id) order, so the offset can move to
 * the end once the sink acknowledged every message, or to the end of an acknowledged prefix when one fails.
 *
 * @param pipeline  the pipeline named in the poll
 * @param outbox    the outbox the rows came from
 * @param positions the (tx, id) of each message, in the batch's order; never empty
 */
public record Batch(String pipeline, String outbox, List<Position> positions) {

    /**
     * Where one message stands: its writing transaction (xid8 as text) and its id, and when it was written.
     *
     * @param created the row's created_at as PostgreSQL printed it; {@link CreatedAt} reads it
     */
    public record Position(String tx, long id, String created) {
    }

    public Batch {
        positions = List.copyOf(positions);
    }

    /** The writing transaction of the batch's last row (xid8 as text). */
    public String lastTx() {
        return last().tx();
    }

    /** The id of the batch's last row. */
    public long lastId() {
        return last().id();
    }

    /** Number of messages in the batch. */
    public int size() {
        return positions.size();
    }

    /** The position of the message with this id, or -1 when it is not in the batch. */
    public int indexOf(long id) {
        for (int i = 0; i < positions.size(); i++) {
            if (positions.get(i).id() == id) {
                return i;
            }
        }
        return -1;
    }

    private Position last() {
        return positions.get(positions.size() - 1);
    }
}

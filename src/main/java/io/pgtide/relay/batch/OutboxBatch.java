package io.pgtide.relay.batch;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * The body of a polled exchange: its outbox messages in (tx, id) order, one Camel {@link Message} each. A List, so
 * that Camel's splitter and camel-kafka's batch send take it as they take any list of messages.
 */
public final class OutboxBatch extends AbstractList<Message> implements RandomAccess {

    private final List<Message> messages;

    public OutboxBatch(List<Message> messages) {
        this.messages = List.copyOf(messages);
    }

    /** The exchange's batch; fails, naming the step, when a step before it replaced the body. */
    public static List<Message> of(Exchange exchange, String step) {
        List<Message> messages = orNull(exchange);
        if (messages == null || messages.isEmpty()) {
            throw new IllegalArgumentException(step + " expects the batch of outbox messages (a List of Messages)"
                    + " as the body; it must come before any step that replaces the body");
        }
        return messages;
    }

    /** The exchange's batch, or its one message when a split made one exchange of each. */
    public static List<Message> messages(Exchange exchange) {
        List<Message> messages = orNull(exchange);
        return messages != null ? messages : List.of(exchange.getMessage());
    }

    /** The batch in the body, also when a step made a plain list of its messages; null when the body is no batch. */
    @SuppressWarnings("unchecked")
    public static List<Message> orNull(Exchange exchange) {
        Object body = exchange.getMessage().getBody();
        if (body instanceof OutboxBatch batch) {
            return batch;
        }
        if (body instanceof List<?> list && (list.isEmpty() || list.get(0) instanceof Message)) {
            return (List<Message>) list;
        }
        return null;
    }

    @Override
    public Message get(int index) {
        return messages.get(index);
    }

    @Override
    public int size() {
        return messages.size();
    }
}

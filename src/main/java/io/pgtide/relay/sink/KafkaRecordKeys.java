package io.pgtide.relay.sink;

import io.pgtide.relay.offset.OutboxMessages;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/** Gives each outbox message bound for Kafka its row's key as the record key, so a key keeps its partition. */
public final class KafkaRecordKeys implements Processor {

    /** camel-kafka's per-message key header (KafkaConstants.KEY). */
    static final String KAFKA_KEY = "kafka.KEY";

    @Override
    public void process(Exchange exchange) {
        if (exchange.getMessage().getBody() instanceof Iterable<?> messages) {
            for (Object element : messages) {
                if (element instanceof Message message) {
                    copyKey(message);
                }
            }
        } else {
            copyKey(exchange.getMessage());
        }
    }

    private static void copyKey(Message message) {
        Object key = message.getHeader(OutboxMessages.KEY);
        if (key != null && message.getHeader(KAFKA_KEY) == null) {
            message.setHeader(KAFKA_KEY, key);
        }
    }
}

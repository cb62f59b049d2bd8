package io.pgtide.relay.sink;

import io.pgtide.relay.batch.OutboxBatch;
import io.pgtide.relay.batch.TideConstants;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/** Gives each outbox message bound for Kafka its row's key as the record key, so a key keeps its partition. */
public final class KafkaRecordKeys implements Processor {

    /** camel-kafka's per-message key header (KafkaConstants.KEY). */
    static final String KAFKA_KEY = "kafka.KEY";

    @Override
    public void process(Exchange exchange) {
        for (Message message : OutboxBatch.messages(exchange)) {
            copyKey(message);
        }
    }

    private static void copyKey(Message message) {
        Object key = message.getHeader(TideConstants.KEY);
        if (key != null && message.getHeader(KAFKA_KEY) == null) {
            message.setHeader(KAFKA_KEY, key);
        }
    }
}

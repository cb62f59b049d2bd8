package io.pgtide.relay.sink;

import io.pgtide.relay.batch.OutboxHeaderFilter;

/**
 * camel-kafka's header filter rules on the relay's filter: a message's headers go out as record headers except null
 * ones and those starting, in any case, with {@code camel}, {@code org.apache.camel.} or {@code kafka.}.
 */
public final class KafkaHeaderFilter extends OutboxHeaderFilter {

    public KafkaHeaderFilter() {
        super("kafka.");
    }
}

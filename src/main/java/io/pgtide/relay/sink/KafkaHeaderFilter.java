package io.pgtide.relay.sink;

import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaHeaderFilterStrategy;

/**
 * camel-kafka's header filter with the same rules, checked without building a lower-case copy of every header
 * name: a message's headers go out as record headers except null ones and those starting, in any case, with
 * {@code camel}, {@code org.apache.camel.} or {@code kafka.}. Filtering five headers per record the default way
 * showed in the drain's profile.
 */
public final class KafkaHeaderFilter extends KafkaHeaderFilterStrategy {

    private static final String[] INTERNAL = {"camel", "org.apache.camel.", "kafka."};

    @Override
    public boolean applyFilterToCamelHeaders(String headerName, Object headerValue, Exchange exchange) {
        if (headerName == null || headerValue == null) {
            return true;
        }
        for (String prefix : INTERNAL) {
            if (headerName.regionMatches(true, 0, prefix, 0, prefix.length())) {
                return true;
            }
        }
        return false;
    }
}

package io.pgtide.relay.batch;

import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultHeaderFilterStrategy;

/**
 * Which headers of an outbox message a sink sends on as data: all but null ones and Camel's own (starting, in any
 * case, with {@code camel} or {@code org.apache.camel.}), which are instructions to components, such as a topic
 * override. Checked without building a lower-case copy of each name: with five headers a message, the default way
 * showed in the drain's profile.
 */
public class OutboxHeaderFilter extends DefaultHeaderFilterStrategy {

    private static final String[] CAMEL = {"camel", "org.apache.camel."};

    private final String[] internal;

    /** @param internalPrefixes more prefixes a sink's component keeps for itself, e.g. {@code kafka.} */
    public OutboxHeaderFilter(String... internalPrefixes) {
        internal = new String[CAMEL.length + internalPrefixes.length];
        System.arraycopy(CAMEL, 0, internal, 0, CAMEL.length);
        System.arraycopy(internalPrefixes, 0, internal, CAMEL.length, internalPrefixes.length);
    }

    /** True for a header that is not data of the message. */
    public boolean internal(String name, Object value) {
        if (name == null || value == null) {
            return true;
        }
        for (String prefix : internal) {
            if (name.regionMatches(true, 0, prefix, 0, prefix.length())) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean applyFilterToCamelHeaders(String headerName, Object headerValue, Exchange exchange) {
        return internal(headerName, headerValue);
    }
}

package io.pgtide.relay.route;

import io.pgtide.relay.support.Causes;
import java.net.URISyntaxException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePropertyKey;
import org.apache.camel.util.URISupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says in the relay's words when a pipeline's sink starts failing, and when it delivers again: one line per change
 * of state, not one per attempt (a sink that is down fails every retry of every batch the same way). A failure
 * counts as a change when the pipeline delivered since, or when the sink now fails with another kind of error.
 */
public final class SinkStateLog {

    private static final Logger LOG = LoggerFactory.getLogger(SinkStateLog.class);

    /** Per failing pipeline, the endpoint and kind of error last reported. */
    private final Map<String, String> failing = new ConcurrentHashMap<>();

    /** For the error handler's onExceptionOccurred: a send of the pipeline's batch failed. */
    public void failed(Exchange exchange) {
        Exception error = Causes.of(exchange);
        String pipeline = exchange.getFromRouteId();
        String uri = exchange.getProperty(ExchangePropertyKey.TO_ENDPOINT, String.class);
        Throwable cause = Causes.innermost(error);
        String state = uri + " " + (cause == null ? "" : cause.getClass().getName());
        if (pipeline == null || state.equals(failing.put(pipeline, state))) {
            return;
        }
        // the innermost cause says why; an outer message may name the setting at fault (a sink's target URL)
        String reason = Causes.reason(error);
        if (uri != null && uri.startsWith("kafka:") && cause instanceof org.apache.kafka.common.errors.TimeoutException) {
            LOG.warn("Pipeline {}: its sink cannot reach a Kafka broker at {} ({}); retrying until it can",
                    pipeline, brokers(uri), reason);
        } else {
            LOG.warn("Pipeline {}: its sink {} fails ({}); retrying, and saying so again only when this changes",
                    pipeline, uri == null ? "" : URISupport.sanitizeUri(uri), reason);
        }
    }

    /** A batch of the pipeline was delivered: a failure after this is news again. */
    public void delivered(String pipeline) {
        if (pipeline != null && failing.remove(pipeline) != null) {
            LOG.info("Pipeline {}: its sink delivers again", pipeline);
        }
    }

    private static Object brokers(String uri) {
        int query = uri.indexOf('?');
        try {
            return query < 0 ? null : URISupport.parseQuery(uri.substring(query + 1)).get("brokers");
        } catch (URISyntaxException e) {
            return null;
        }
    }
}

package io.pgtide.relay.sink;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.pgtide.relay.batch.OutboxBatch;
import io.pgtide.relay.batch.TideConstants;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * Turns one polled batch into one webhook request body: a JSON array with an element
 * {@code {"id", "key", "headers", "payload"}} per outbox message, in (tx, id) order, and sets
 * {@code Idempotency-Key: <first id>..<last id>} (stable ids, e.g. {@code orders:101..orders:1100}).
 *
 * <p>The key names the batch exactly: rows are polled only below the oldest running transaction, so
 * no row can ever appear between two delivered rows, and the same first..last always holds the same
 * messages. A retry of the batch sends the same bytes with the same key. A batch that is polled again
 * after failing may be cut differently (it can grow up to the poll limit), so a receiver that needs
 * exactly-once handling deduplicates on each element's {@code id}.
 */
public final class WebhookBatch implements Processor {

    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    private static final JsonFactory JSON = new JsonFactory();

    @Override
    public void process(Exchange exchange) throws Exception {
        List<Message> messages = OutboxBatch.of(exchange, "WebhookBatch");
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 * messages.size());
        try (JsonGenerator json = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            BatchJson.writeArray(json, messages, false);
        }
        Message first = messages.get(0);
        Message last = messages.get(messages.size() - 1);
        exchange.getMessage().setHeader(IDEMPOTENCY_KEY, first.getHeader(TideConstants.MESSAGE_ID) + ".."
                + last.getHeader(TideConstants.MESSAGE_ID));
        exchange.getMessage().setBody(out.toByteArray());
    }
}

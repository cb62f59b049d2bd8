package io.pgtide.relay.sink;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.pgtide.relay.batch.OutboxBatch;
import java.io.StringWriter;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * Turns one polled batch into the argument of {@code tide.inbox_write}: a JSON array (as text) with an
 * element {@code {"id", "source", "key", "headers", "payload"}} per outbox message, in (tx, id) order,
 * so the whole batch is written to the inbox in one statement.
 */
public final class InboxBatch implements Processor {

    private static final JsonFactory JSON = new JsonFactory();

    @Override
    public void process(Exchange exchange) throws Exception {
        List<Message> messages = OutboxBatch.of(exchange, "InboxBatch");
        StringWriter out = new StringWriter(256 * messages.size());
        try (JsonGenerator json = JSON.createGenerator(out)) {
            BatchJson.writeArray(json, messages, true);
        }
        exchange.getMessage().setBody(out.toString());
    }
}

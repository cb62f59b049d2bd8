package io.pgtide.relay.sink;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.pgtide.relay.offset.OutboxMessages;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * Turns one polled batch into the argument of {@code tide.inbox_write}: a JSON array (as text) with an
 * element {@code {"id", "source", "key", "headers", "payload"}} per outbox message, in (tx, id) order,
 * so the whole batch is written to the inbox in one statement.
 */
public final class InboxBatch implements Processor {

    /** The relay's own headers: carried by id, source and key, not repeated in headers. */
    private static final Set<String> RELAY_HEADERS =
            Set.of(OutboxMessages.MESSAGE_ID, OutboxMessages.OUTBOX, OutboxMessages.ID, OutboxMessages.KEY);

    private static final JsonFactory JSON = new JsonFactory();

    @Override
    public void process(Exchange exchange) throws Exception {
        Object body = exchange.getMessage().getBody();
        if (!(body instanceof List<?> messages) || messages.isEmpty() || !(messages.get(0) instanceof Message)) {
            throw new IllegalArgumentException("InboxBatch expects the batch of outbox messages (a List of Messages)"
                    + " as the body; it must come before any step that replaces the body");
        }
        StringWriter out = new StringWriter(256 * messages.size());
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartArray();
            for (Object element : messages) {
                write(json, (Message) element);
            }
            json.writeEndArray();
        }
        exchange.getMessage().setBody(out.toString());
    }

    private static void write(JsonGenerator json, Message message) throws Exception {
        json.writeStartObject();
        json.writeStringField("id", message.getHeader(OutboxMessages.MESSAGE_ID, String.class));
        json.writeStringField("source", message.getHeader(OutboxMessages.OUTBOX, String.class));
        json.writeStringField("key", message.getHeader(OutboxMessages.KEY, String.class));
        json.writeObjectFieldStart("headers");
        for (Map.Entry<String, Object> header : message.getHeaders().entrySet()) {
            String name = header.getKey();
            if (RELAY_HEADERS.contains(name) || name.regionMatches(true, 0, "Camel", 0, 5)) {
                continue;
            }
            json.writeStringField(name, header.getValue() == null ? null : header.getValue().toString());
        }
        json.writeEndObject();
        json.writeFieldName("payload");
        String payload = message.getBody(String.class);
        if (payload == null) {
            json.writeNull();
        } else {
            // jsonb's text form, valid JSON already: embedded as JSON, not parsed again
            json.writeRawValue(payload);
        }
        json.writeEndObject();
    }
}

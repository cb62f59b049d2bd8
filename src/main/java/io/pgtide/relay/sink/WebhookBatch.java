package io.pgtide.relay.sink;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.pgtide.relay.offset.OutboxMessages;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    /** The relay's own headers: carried by {@code id} and {@code key}, not repeated in {@code headers}. */
    private static final Set<String> RELAY_HEADERS =
            Set.of(OutboxMessages.MESSAGE_ID, OutboxMessages.OUTBOX, OutboxMessages.ID, OutboxMessages.KEY);

    private static final JsonFactory JSON = new JsonFactory();

    @Override
    public void process(Exchange exchange) throws Exception {
        Object body = exchange.getMessage().getBody();
        if (!(body instanceof List<?> messages) || messages.isEmpty() || !(messages.get(0) instanceof Message)) {
            throw new IllegalArgumentException("WebhookBatch expects the batch of outbox messages (a List of Messages)"
                    + " as the body; it must come before any step that replaces the body");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 * messages.size());
        try (JsonGenerator json = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            json.writeStartArray();
            for (Object element : messages) {
                write(json, (Message) element);
            }
            json.writeEndArray();
        }
        Message first = (Message) messages.get(0);
        Message last = (Message) messages.get(messages.size() - 1);
        exchange.getMessage().setHeader(IDEMPOTENCY_KEY, first.getHeader(OutboxMessages.MESSAGE_ID) + ".."
                + last.getHeader(OutboxMessages.MESSAGE_ID));
        exchange.getMessage().setBody(out.toByteArray());
    }

    private static void write(JsonGenerator json, Message message) throws Exception {
        json.writeStartObject();
        json.writeStringField("id", message.getHeader(OutboxMessages.MESSAGE_ID, String.class));
        json.writeFieldName("key");
        Object key = message.getHeader(OutboxMessages.KEY);
        if (key == null) {
            json.writeNull();
        } else {
            json.writeString(key.toString());
        }
        json.writeObjectFieldStart("headers");
        for (Map.Entry<String, Object> header : message.getHeaders().entrySet()) {
            String name = header.getKey();
            if (RELAY_HEADERS.contains(name) || name.regionMatches(true, 0, "Camel", 0, 5)) {
                continue;
            }
            json.writeFieldName(name);
            if (header.getValue() == null) {
                json.writeNull();
            } else {
                json.writeString(header.getValue().toString());
            }
        }
        json.writeEndObject();
        json.writeFieldName("payload");
        Object payload = message.getBody();
        if (payload == null) {
            json.writeNull();
        } else {
            // the payload is jsonb's text form, valid JSON already: embedded as JSON, not as a string,
            // and not parsed again
            json.writeRawValue(payload.toString());
        }
        json.writeEndObject();
    }
}

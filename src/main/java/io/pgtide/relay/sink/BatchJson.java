package io.pgtide.relay.sink;

import com.fasterxml.jackson.core.JsonGenerator;
import io.pgtide.relay.offset.OutboxMessages;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * One polled batch as a JSON array, an element {@code {"id", ["source",] "key", "headers", "payload"}} per
 * outbox message in (tx, id) order, for sinks that take a whole batch in one request or statement.
 */
final class BatchJson {

    /** The relay's own headers: carried by id, source and key, not repeated in headers. */
    private static final Set<String> RELAY_HEADERS =
            Set.of(OutboxMessages.MESSAGE_ID, OutboxMessages.OUTBOX, OutboxMessages.ID, OutboxMessages.KEY);

    private BatchJson() {
    }

    /** The exchange's batch of outbox messages; fails, naming the step, when a step before it replaced the body. */
    static List<?> messages(Exchange exchange, String step) {
        Object body = exchange.getMessage().getBody();
        if (!(body instanceof List<?> messages) || messages.isEmpty() || !(messages.get(0) instanceof Message)) {
            throw new IllegalArgumentException(step + " expects the batch of outbox messages (a List of Messages)"
                    + " as the body; it must come before any step that replaces the body");
        }
        return messages;
    }

    static void writeArray(JsonGenerator json, List<?> messages, boolean withSource) throws IOException {
        json.writeStartArray();
        for (Object element : messages) {
            write(json, (Message) element, withSource);
        }
        json.writeEndArray();
    }

    private static void write(JsonGenerator json, Message message, boolean withSource) throws IOException {
        json.writeStartObject();
        json.writeStringField("id", message.getHeader(OutboxMessages.MESSAGE_ID, String.class));
        if (withSource) {
            json.writeStringField("source", message.getHeader(OutboxMessages.OUTBOX, String.class));
        }
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
            // jsonb's text form, valid JSON already: embedded as JSON, not as a string, not parsed again
            json.writeRawValue(payload);
        }
        json.writeEndObject();
    }
}

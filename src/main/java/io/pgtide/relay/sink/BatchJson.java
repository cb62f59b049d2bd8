package io.pgtide.relay.sink;

import com.fasterxml.jackson.core.JsonGenerator;
import io.pgtide.relay.batch.OutboxHeaderFilter;
import io.pgtide.relay.batch.TideConstants;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.camel.Message;

/**
 * One polled batch as a JSON array, an element {@code {"id", ["source",] "key", "headers", "payload"}} per
 * outbox message in (tx, id) order, for sinks that take a whole batch in one request or statement.
 */
final class BatchJson {

    private static final OutboxHeaderFilter FILTER = new OutboxHeaderFilter();
    /** The relay's own headers: carried by id, source and key, not repeated in headers. */
    private static final Set<String> RELAY_HEADERS =
            Set.of(TideConstants.MESSAGE_ID, TideConstants.OUTBOX, TideConstants.ID, TideConstants.KEY);

    private BatchJson() {
    }

    static void writeArray(JsonGenerator json, List<Message> messages, boolean withSource) throws IOException {
        json.writeStartArray();
        for (Message message : messages) {
            write(json, message, withSource);
        }
        json.writeEndArray();
    }

    private static void write(JsonGenerator json, Message message, boolean withSource) throws IOException {
        json.writeStartObject();
        json.writeStringField("id", message.getHeader(TideConstants.MESSAGE_ID, String.class));
        if (withSource) {
            json.writeStringField("source", message.getHeader(TideConstants.OUTBOX, String.class));
        }
        json.writeStringField("key", message.getHeader(TideConstants.KEY, String.class));
        json.writeObjectFieldStart("headers");
        for (Map.Entry<String, Object> header : message.getHeaders().entrySet()) {
            String name = header.getKey();
            if (!RELAY_HEADERS.contains(name) && !FILTER.internal(name, header.getValue())) {
                json.writeStringField(name, header.getValue().toString());
            }
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

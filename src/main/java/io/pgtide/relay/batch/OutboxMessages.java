package io.pgtide.relay.batch;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.support.DefaultMessage;

/**
 * Turns the rows of one poll ({@code tide.relay_poll}) into an {@link OutboxBatch} of Camel messages, one per outbox
 * row, in (tx, id) order: body = the JSON payload as text, headers = the row's headers plus those of
 * {@link TideConstants}. Remembers where each message stands in {@link TideConstants#BATCH} before any step can
 * change the body.
 */
public final class OutboxMessages implements Processor {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Built once: resolving the target type on every row showed up in the drain's profile. */
    private static final ObjectReader HEADERS = JSON.readerFor(new TypeReference<Map<String, Object>>() { });

    @Override
    public void process(Exchange exchange) throws Exception {
        Object body = exchange.getMessage().getBody();
        List<?> rows = body instanceof List<?> list ? list : body instanceof Map<?, ?> row ? List.of(row) : null;
        if (rows == null || rows.isEmpty() || !(rows.get(0) instanceof OutboxRow || rows.get(0) instanceof Map<?, ?>)) {
            return;
        }
        List<Message> messages = new ArrayList<>(rows.size());
        // the rows of an outbox tend to share a few header sets: each distinct one is parsed once a batch
        Map<String, Map<String, Object>> parsedHeaders = new HashMap<>();
        List<Batch.Position> positions = new ArrayList<>(rows.size());
        OutboxRow last = null;
        for (Object element : rows) {
            last = element instanceof OutboxRow row ? row : OutboxRow.of((Map<?, ?>) element);
            messages.add(toMessage(exchange, last, parsedHeaders));
            positions.add(new Batch.Position(last.tx(), last.id(), last.created()));
        }
        exchange.setProperty(TideConstants.BATCH, new Batch(last.pipeline(), last.outbox(), positions));
        exchange.getMessage().setBody(new OutboxBatch(messages));
    }

    private static Message toMessage(Exchange exchange, OutboxRow row, Map<String, Map<String, Object>> parsedHeaders)
            throws Exception {
        DefaultMessage message = new DefaultMessage(exchange);
        String headers = row.headers();
        if (headers != null && headers.length() > 2) {
            Map<String, Object> parsed = parsedHeaders.get(headers);
            if (parsed == null) {
                parsed = headerValues(headers);
                parsedHeaders.put(headers, parsed);
            }
            message.getHeaders().putAll(parsed);
        }
        message.setHeader(TideConstants.OUTBOX, row.outbox());
        message.setHeader(TideConstants.ID, Long.toString(row.id()));
        message.setHeader(TideConstants.MESSAGE_ID, row.messageId());
        if (row.key() != null) {
            message.setHeader(TideConstants.KEY, row.key());
        }
        message.setMessageId(row.messageId());
        message.setBody(row.payload());
        return message;
    }

    /** A row's headers, each value as text: JSON strings as they are, other JSON values in their JSON form. */
    private static Map<String, Object> headerValues(String headers) throws Exception {
        Map<String, Object> parsed = HEADERS.readValue(headers);
        for (Map.Entry<String, Object> header : parsed.entrySet()) {
            Object value = header.getValue();
            if (value != null && !(value instanceof String)) {
                header.setValue(JSON.writeValueAsString(value));
            }
        }
        return parsed;
    }
}

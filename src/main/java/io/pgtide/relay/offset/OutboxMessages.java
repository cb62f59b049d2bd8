package io.pgtide.relay.offset;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.support.DefaultMessage;

/**
 * Turns the rows of one poll ({@code tide.relay_poll}) into Camel messages, one per outbox row, in
 * (tx, id) order: body = the JSON payload as text, headers = the row's headers plus its stable id.
 * Remembers where the batch ends in {@link Batch#PROPERTY} before any step can change the body.
 */
public final class OutboxMessages implements Processor {

    /** Stable message id, {@code <outbox>:<id>}: the same on every redelivery, for deduplication. */
    public static final String MESSAGE_ID = "pg_tide_message_id";
    public static final String OUTBOX = "pg_tide_outbox";
    public static final String ID = "pg_tide_id";
    /** The row's key (ordering / partition key); absent when the row has none. */
    public static final String KEY = "pg_tide_key";

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Built once: resolving the target type on every row showed up in the drain's profile. */
    private static final ObjectReader HEADERS = JSON.readerFor(new TypeReference<Map<String, Object>>() { });

    @Override
    public void process(Exchange exchange) throws Exception {
        Object body = exchange.getMessage().getBody();
        List<?> rows = body instanceof List<?> list ? list : body instanceof Map<?, ?> row ? List.of(row) : null;
        if (rows == null || rows.isEmpty() || !(rows.get(0) instanceof Map<?, ?>)) {
            return;
        }
        List<Message> messages = new ArrayList<>(rows.size());
        for (Object row : rows) {
            messages.add(toMessage(exchange, (Map<?, ?>) row));
        }
        Map<?, ?> last = (Map<?, ?>) rows.get(rows.size() - 1);
        exchange.setProperty(Batch.PROPERTY, new Batch(text(last.get("pipeline")), text(last.get("outbox_name")),
                text(last.get("tx")), ((Number) last.get("id")).longValue(), rows.size()));
        exchange.getMessage().setBody(Collections.unmodifiableList(messages));
    }

    private static Message toMessage(Exchange exchange, Map<?, ?> row) throws Exception {
        String outbox = text(row.get("outbox_name"));
        String id = text(row.get("id"));
        DefaultMessage message = new DefaultMessage(exchange);
        String headers = text(row.get("headers"));
        if (headers != null && headers.length() > 2) {
            Map<String, Object> parsed = HEADERS.readValue(headers);
            for (Map.Entry<String, Object> header : parsed.entrySet()) {
                Object value = header.getValue();
                message.setHeader(header.getKey(), value == null || value instanceof String ? value : JSON.writeValueAsString(value));
            }
        }
        message.setHeader(OUTBOX, outbox);
        message.setHeader(ID, id);
        message.setHeader(MESSAGE_ID, outbox + ":" + id);
        String key = text(row.get("key"));
        if (key != null) {
            message.setHeader(KEY, key);
        }
        message.setMessageId(outbox + ":" + id);
        message.setBody(text(row.get("payload")));
        return message;
    }

    /** jsonb and xid8 arrive as driver objects whose toString is their text form. */
    private static String text(Object value) {
        return value == null ? null : value.toString();
    }
}

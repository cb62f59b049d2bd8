package io.pgtide.relay.trace;

import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import org.apache.camel.Message;

/** A Camel message's headers as OpenTelemetry's carrier: the W3C context is read from and written to them. */
enum MessageHeaders implements TextMapGetter<Message>, TextMapSetter<Message> {
    INSTANCE;

    @Override
    public Iterable<String> keys(Message message) {
        return message.getHeaders().keySet();
    }

    @Override
    public String get(Message message, String name) {
        Object value = message == null ? null : message.getHeader(name);
        return value == null ? null : value.toString();
    }

    @Override
    public void set(Message message, String name, String value) {
        message.setHeader(name, value);
    }
}

package io.pgtide.relay.trace;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.pgtide.relay.batch.Batch;
import io.pgtide.relay.batch.CreatedAt;
import io.pgtide.relay.batch.OutboxBatch;
import io.pgtide.relay.batch.TideConstants;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * One send span per outbox message of a batch, child of the W3C context ({@code traceparent}, {@code tracestate})
 * its publisher put in the message's headers, or a root when there is none. A message that came with a context
 * leaves with the send span's in the same headers, which each sink carries its own way (Kafka record headers, HTTP
 * headers, AMQP properties, MQTT user properties, NATS headers, the Redis entry's headers field). The spans end
 * when the batch is acknowledged or fails for good.
 */
public final class SendSpans implements Processor {

    /** Exchange property holding the batch's spans, in the batch's order. */
    static final String PROPERTY = "PgTideSendSpans";

    private static final TextMapPropagator W3C = W3CTraceContextPropagator.getInstance();

    private final Tracer tracer;

    SendSpans(Tracer tracer) {
        this.tracer = tracer;
    }

    /** Starts the spans: after the rows became messages, before any step of the pipeline. */
    @Override
    public void process(Exchange exchange) {
        Batch batch = exchange.getProperty(TideConstants.BATCH, Batch.class);
        List<Message> messages = OutboxBatch.orNull(exchange);
        if (batch == null || messages == null) {
            return;
        }
        Instant polled = Instant.now();
        List<Sent> spans = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            spans.add(start(messages.get(i), batch, batch.positions().get(i), polled));
        }
        exchange.setProperty(PROPERTY, spans);
    }

    private Sent start(Message message, Batch batch, Batch.Position position, Instant polled) {
        // the publisher's context only, never the batch's: each message joins the trace that published it
        Context parent = W3C.extract(Context.root(), message, MessageHeaders.INSTANCE);
        boolean joined = Span.fromContext(parent).getSpanContext().isValid();
        Instant created = CreatedAt.parse(position.created());
        // the relay's and the database's clocks differ: a send never starts before the row was written
        Instant start = later(polled, created);
        Span span = tracer.spanBuilder("send " + batch.pipeline())
                .setSpanKind(SpanKind.PRODUCER)
                .setParent(parent)
                .setStartTimestamp(start)
                .setAttribute("messaging.system", "pg_tide")
                .setAttribute("messaging.operation.type", "send")
                .setAttribute("messaging.message.id", String.valueOf(message.getHeader(TideConstants.MESSAGE_ID)))
                .setAttribute("pg_tide.pipeline", batch.pipeline())
                .setAttribute("pg_tide.outbox", batch.outbox())
                .setAttribute("pg_tide.created_at", created.toString())
                .startSpan();
        if (joined) {
            W3C.inject(Context.root().with(span), message, MessageHeaders.INSTANCE);
        }
        return new Sent(span, start);
    }

    /** Ends the spans of an acknowledged batch. */
    public void delivered(Exchange exchange) {
        Instant now = Instant.now();
        for (Sent sent : spans(exchange)) {
            sent.end(now);
        }
    }

    /** Ends the spans of a batch that failed after its retries: each says so, with the failure. */
    public void failed(Exchange exchange) {
        Throwable failure = exchange.getException() != null ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        Instant now = Instant.now();
        for (Sent sent : spans(exchange)) {
            sent.span().setStatus(StatusCode.ERROR, failure == null ? "not acknowledged" : failure.getMessage());
            if (failure != null) {
                sent.span().recordException(failure);
            }
            sent.end(now);
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Sent> spans(Exchange exchange) {
        List<Sent> spans = exchange.getProperty(PROPERTY, List.class);
        return spans == null ? List.of() : spans;
    }

    private static Instant later(Instant a, Instant b) {
        return a.isBefore(b) ? b : a;
    }

    /** A started span and when it started, which may be ahead of the relay's clock (see {@link #start}). */
    private record Sent(Span span, Instant start) {
        void end(Instant now) {
            span.end(later(now, start));
        }
    }
}

package io.pgtide.relay.route;

import io.pgtide.relay.cloudevents.CloudEventMessages;
import io.pgtide.relay.cloudevents.HttpCloudEventHeaders;
import io.pgtide.relay.deadletter.DeadLetters;
import io.pgtide.relay.deadletter.PermanentFailures;
import io.pgtide.relay.health.DeliveryFailures;
import io.pgtide.relay.deadletter.Poison;
import io.pgtide.relay.metrics.RelayMetrics;
import io.pgtide.relay.offset.OffsetAdvance;
import io.pgtide.relay.batch.OutboxMessages;
import io.pgtide.relay.sink.KafkaRecordKeys;
import io.pgtide.relay.trace.SendSpans;
import java.util.Optional;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteConfigurationBuilder;
import org.apache.camel.model.InterceptDefinition;
import org.apache.camel.model.OnCompletionDefinition;
import org.apache.camel.model.RouteConfigurationDefinition;
import org.apache.camel.model.errorhandler.DefaultErrorHandlerDefinition;

/**
 * The shared part of every pipeline route ({@code routeConfigurationId: pg-tide}): each polled batch
 * becomes one Camel message per outbox row, a failed send is retried with backoff, and only a batch
 * the sink acknowledged in full advances the pipeline's offset. Pipelines that ask for it send CloudEvents; with
 * tracing on, each message gets a send span.
 */
public final class PipelineRouteConfiguration extends RouteConfigurationBuilder {

    public static final String ID = "pg-tide";

    private final OffsetAdvance offsetAdvance;
    private final DeadLetters deadLetters;
    private final PermanentFailures permanentFailures;
    private final DeliveryFailures deliveryFailures;
    private final Poison poison;
    private final RelayMetrics metrics;
    private final Optional<SendSpans> sendSpans;
    private final SinkStateLog sinkState = new SinkStateLog();

    public PipelineRouteConfiguration(OffsetAdvance offsetAdvance, DeadLetters deadLetters,
            PermanentFailures permanentFailures, DeliveryFailures deliveryFailures, RelayMetrics metrics,
            Optional<SendSpans> sendSpans) {
        this.deliveryFailures = deliveryFailures;
        this.sendSpans = sendSpans;
        this.offsetAdvance = offsetAdvance;
        this.deadLetters = deadLetters;
        this.permanentFailures = permanentFailures;
        this.poison = new Poison(permanentFailures);
        this.metrics = metrics;
    }

    @Override
    public void configuration() {
        RouteConfigurationDefinition pipeline = routeConfiguration(ID);
        // a batch that still fails after these is not acknowledged: the next poll delivers it again, unless
        // one of its messages is a poison (below)
        DefaultErrorHandlerDefinition retries = defaultErrorHandler();
        retries.getRedeliveryPolicy()
                .maximumRedeliveries("{{pg-tide.redelivery.maximum:5}}")
                .redeliveryDelay("{{pg-tide.redelivery.delay:500}}")
                .maximumRedeliveryDelay("{{pg-tide.redelivery.maximumDelay:10000}}")
                .useExponentialBackOff()
                .backOffMultiplier(2)
                // +-15 % jitter: relays retrying against one recovering sink do not stampede it together
                .useCollisionAvoidance()
                // each attempt is logged by sinkState, once per change of state, in the relay's own words
                .retryAttemptedLogLevel(LoggingLevel.DEBUG)
                // the exhausted line names the exception, the route and its file:line; a trace of the client's
                // threads adds nothing for an outage, the expected failure here
                .logStackTrace(false)
                // a stop does not wait out a failing sink's backoff: the batch stays unacknowledged, its offset
                // unmoved, and the next owner delivers it
                .allowRedeliveryWhileStopping(false);
        retries.onExceptionOccurred(exchange -> {
            sinkState.failed(exchange);
            deliveryFailures.sendFailed(exchange);
        });
        pipeline.errorHandler(retries);
        // a rejection of the message itself is not retried: isolate the poison, set it aside, go on
        pipeline.onException(Exception.class).onWhen(permanentFailures).handled(false).process(deadLetters);
        // the envelope and the trace context are set before the pipeline's own steps: a signature signs what is sent
        InterceptDefinition messages = pipeline.interceptFrom().process(new OutboxMessages())
                .process(new CloudEventMessages());
        pipeline.interceptSendToEndpoint("kafka:*").process(new KafkaRecordKeys());
        pipeline.interceptSendToEndpoint("http*").process(new HttpCloudEventHeaders());
        // success only, in the consumer's thread: the next poll starts after the offset moved
        OnCompletionDefinition delivered = pipeline.onCompletion().onCompleteOnly().process(offsetAdvance)
                .process(exchange -> sinkState.delivered(exchange.getFromRouteId()));
        // tracing off adds no step at all
        sendSpans.ifPresent(spans -> {
            messages.process(spans);
            delivered.process(spans::delivered);
            pipeline.onCompletion().onFailureOnly().process(spans::failed);
        });
        pipeline.onCompletion().onFailureOnly()
                .process(exchange -> metrics.failed(exchange.getFromRouteId(), RelayMetrics.SINK))
                .process(deliveryFailures::gaveUp);
        // any other failure but an outage, once retried, is a poison's too: set it aside (or hold), go on
        pipeline.onCompletion().onFailureOnly().onWhen(poison).process(deadLetters);
    }
}

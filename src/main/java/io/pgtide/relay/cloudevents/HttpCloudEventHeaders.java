package io.pgtide.relay.cloudevents;

import io.pgtide.relay.batch.TideConstants;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.cloudevents.CloudEvent;

/**
 * The HTTP binding of a CloudEvent, right before an HTTP sink sends one outbox message: binary mode's attributes go
 * as {@code ce-} headers (Camel's names for them), and a structured envelope goes as
 * {@code application/cloudevents+json} whatever Content-Type a step of the pipeline set.
 */
public final class HttpCloudEventHeaders implements Processor {

    @Override
    public void process(Exchange exchange) {
        Message message = exchange.getMessage();
        // a batch sent as one request (a JSON array) is not one event
        if (message.getHeader(TideConstants.MESSAGE_ID) == null) {
            return;
        }
        CloudEventsOptions options = CloudEventsOptions.of(exchange);
        if (options == null) {
            return;
        }
        if (options.mode().equals(CloudEventsOptions.STRUCTURED)) {
            message.setHeader(Exchange.CONTENT_TYPE, CloudEventMessages.ENVELOPE_TYPE);
            return;
        }
        for (CloudEvent.Attribute attribute : CloudEventMessages.HEADER_ATTRIBUTES) {
            Object value = message.removeHeader(CloudEventMessages.KAFKA_PREFIX + attribute.json());
            if (value != null) {
                message.setHeader(attribute.http(), value);
            }
        }
    }
}

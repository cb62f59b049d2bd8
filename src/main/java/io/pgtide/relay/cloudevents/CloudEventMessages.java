package io.pgtide.relay.cloudevents;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.pgtide.relay.batch.Batch;
import io.pgtide.relay.batch.CreatedAt;
import io.pgtide.relay.batch.OutboxBatch;
import io.pgtide.relay.batch.TideConstants;
import java.io.IOException;
import java.io.StringWriter;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.cloudevents.CloudEvent;
import org.apache.camel.cloudevents.CloudEvents;

/**
 * Makes each outbox message of a pipeline with {@code cloudEvents=} a CloudEvent (1.0), before any step of the
 * pipeline: {@code id} = the stable message id, {@code source} and {@code type} from the options, {@code time} =
 * the row's created_at, {@code datacontenttype} = application/json. Structured: the body becomes the JSON envelope
 * with the payload as {@code data}. Binary: the payload stays, the attributes go in {@code ce_} headers (the Kafka
 * binding; {@link HttpCloudEventHeaders} renames them for HTTP). Attribute names are Camel's (camel-api's
 * {@link CloudEvents#v1_0}).
 */
public final class CloudEventMessages implements Processor {

    static final CloudEvent SPEC = CloudEvents.v1_0;
    static final List<CloudEvent.Attribute> HEADER_ATTRIBUTES = List.of(
            SPEC.mandatoryAttribute(CloudEvent.CAMEL_CLOUD_EVENT_VERSION),
            SPEC.mandatoryAttribute(CloudEvent.CAMEL_CLOUD_EVENT_ID),
            SPEC.mandatoryAttribute(CloudEvent.CAMEL_CLOUD_EVENT_SOURCE),
            SPEC.mandatoryAttribute(CloudEvent.CAMEL_CLOUD_EVENT_TYPE),
            SPEC.mandatoryAttribute(CloudEvent.CAMEL_CLOUD_EVENT_TIME));
    /** The Kafka binding's attribute header prefix; its content type header is {@link #CONTENT_TYPE}. */
    static final String KAFKA_PREFIX = "ce_";
    /** Lower case as the Kafka binding writes it (record headers are case-sensitive); Camel reads it in any case. */
    static final String CONTENT_TYPE = "content-type";
    static final String ENVELOPE_TYPE = "application/cloudevents+json";
    private static final String DATA_TYPE = "application/json";
    private static final String DATA_CONTENT_TYPE = SPEC.jsonAttribute(CloudEvent.CAMEL_CLOUD_EVENT_DATA_CONTENT_TYPE);
    private static final JsonFactory JSON = new JsonFactory();

    @Override
    public void process(Exchange exchange) throws IOException {
        CloudEventsOptions options = CloudEventsOptions.of(exchange);
        Batch batch = exchange.getProperty(TideConstants.BATCH, Batch.class);
        List<Message> messages = OutboxBatch.orNull(exchange);
        if (options == null || batch == null || messages == null) {
            return;
        }
        boolean structured = options.mode().equals(CloudEventsOptions.STRUCTURED);
        for (int i = 0; i < messages.size(); i++) {
            Message message = messages.get(i);
            String[] values = {SPEC.version(), message.getHeader(TideConstants.MESSAGE_ID, String.class),
                    options.source(message), options.type(message),
                    DateTimeFormatter.ISO_INSTANT.format(CreatedAt.parse(batch.positions().get(i).created()))};
            if (structured) {
                message.setBody(envelope(values, message.getBody(String.class)));
                message.setHeader(CONTENT_TYPE, ENVELOPE_TYPE);
            } else {
                for (int a = 0; a < values.length; a++) {
                    message.setHeader(KAFKA_PREFIX + HEADER_ATTRIBUTES.get(a).json(), values[a]);
                }
                message.setHeader(CONTENT_TYPE, DATA_TYPE);
            }
        }
    }

    /** The JSON envelope; the payload (jsonb printed by PostgreSQL, so valid JSON) goes in as {@code data} unparsed. */
    private static String envelope(String[] values, String payload) throws IOException {
        StringWriter text = new StringWriter(payload.length() + 256);
        try (JsonGenerator json = JSON.createGenerator(text)) {
            json.writeStartObject();
            for (int a = 0; a < values.length; a++) {
                json.writeStringField(HEADER_ATTRIBUTES.get(a).json(), values[a]);
            }
            json.writeStringField(DATA_CONTENT_TYPE, DATA_TYPE);
            json.writeFieldName("data");
            json.writeRawValue(payload);
            json.writeEndObject();
        }
        return text.toString();
    }
}

package io.pgtide.relay.cloudevents;

import io.pgtide.relay.config.SettingException;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Route;

/**
 * A pipeline's CloudEvents options, from its source {@code tide:<outbox>?cloudEvents=structured|binary&ceSource=..
 * &ceType=..}, kept as route properties. {@code ceSource} and {@code ceType} are a fixed value, or
 * {@code header:<name>} to take each message's own header of that name.
 *
 * @param mode   {@link #STRUCTURED} or {@link #BINARY}
 * @param source the event source, or {@code header:<name>}
 * @param type   the event type, or {@code header:<name>}
 */
public record CloudEventsOptions(String mode, String source, String type) {

    public static final String STRUCTURED = "structured";
    public static final String BINARY = "binary";

    /** Route properties holding the options of a pipeline that sends CloudEvents. */
    public static final String MODE_PROPERTY = "pgTideCloudEvents";
    public static final String SOURCE_PROPERTY = "pgTideCeSource";
    public static final String TYPE_PROPERTY = "pgTideCeType";

    /** The {@code tide:} options that set CloudEvents, each with its meaning, as an error lists them. */
    public static final Map<String, String> OPTIONS = Map.of(
            "cloudEvents", "send each message as a CloudEvent, " + STRUCTURED + " (a JSON envelope) or " + BINARY
                    + " (the payload as it is, ce_ attributes in Kafka headers, ce- in HTTP headers)",
            "ceSource", "the CloudEvents source, a value or header:<name> (default /pg_tide/<outbox>)",
            "ceType", "the CloudEvents type, a value or header:<name> (default pg_tide.message)");

    static final String HEADER = "header:";
    private static final String DEFAULT_TYPE = "pg_tide.message";

    /**
     * The options of a {@code tide:} URI (removed from {@code options}), or null when it sets no {@code cloudEvents};
     * the error names the URI and the option.
     */
    public static CloudEventsOptions take(String uri, String outbox, Map<String, Object> options) {
        Object mode = options.remove("cloudEvents");
        Object source = options.remove("ceSource");
        Object type = options.remove("ceType");
        if (mode == null) {
            if (source != null || type != null) {
                throw new SettingException(uri + ": " + (source != null ? "ceSource" : "ceType")
                        + " needs cloudEvents=" + STRUCTURED + " or cloudEvents=" + BINARY);
            }
            return null;
        }
        if (!mode.equals(STRUCTURED) && !mode.equals(BINARY)) {
            throw new SettingException(uri + ": cloudEvents=" + mode + " is not a mode: " + OPTIONS.get("cloudEvents"));
        }
        return new CloudEventsOptions(mode.toString(), checked(uri, "ceSource", source, "/pg_tide/" + outbox),
                checked(uri, "ceType", type, DEFAULT_TYPE));
    }

    private static String checked(String uri, String option, Object value, String fallback) {
        String text = value == null ? fallback : value.toString().strip();
        if (text.isEmpty() || text.equals(HEADER)) {
            throw new SettingException(uri + ": " + option + " is empty: " + OPTIONS.get(option));
        }
        return text;
    }

    /** The options of the route an exchange came from, or null when it sends no CloudEvents. */
    static CloudEventsOptions of(Exchange exchange) {
        Route route = exchange.getContext().getRoute(exchange.getFromRouteId());
        Map<String, Object> properties = route == null ? Map.of() : route.getProperties();
        Object mode = properties.get(MODE_PROPERTY);
        return mode == null ? null : new CloudEventsOptions(mode.toString(),
                properties.get(SOURCE_PROPERTY).toString(), properties.get(TYPE_PROPERTY).toString());
    }

    /** Each option as the route property that keeps it. */
    public Map<String, String> routeProperties() {
        return Map.of(MODE_PROPERTY, mode, SOURCE_PROPERTY, source, TYPE_PROPERTY, type);
    }

    String source(Message message) {
        return resolve("ceSource", source, message);
    }

    String type(Message message) {
        return resolve("ceType", type, message);
    }

    private static String resolve(String option, String value, Message message) {
        if (!value.startsWith(HEADER)) {
            return value;
        }
        String header = value.substring(HEADER.length());
        Object found = message.getHeader(header);
        if (found == null || found.toString().isEmpty()) {
            // a CloudEvent without it is not one: the message is refused, not sent incomplete
            throw new IllegalArgumentException(option + "=" + value + ": message " + message.getMessageId()
                    + " has no header \"" + header + "\"");
        }
        return found.toString();
    }
}

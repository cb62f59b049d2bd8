package io.pgtide.relay.route;

import io.pgtide.relay.Relay;
import io.pgtide.relay.cloudevents.CloudEventsOptions;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.config.SettingException;
import io.pgtide.relay.deadletter.DeadLetters;
import java.net.URISyntaxException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.camel.util.URISupport;

/**
 * The source of a pipeline as its file writes it,
 * {@code tide:<outbox>[?batchSize=..&delay=..&onPoison=..&keyGroups=..&partitions=..&start=..&cloudEvents=..]}, and the camel-sql
 * consumer it stands for: {@code tide.relay_poll} over that outbox, one exchange per batch, greedy, woken by new
 * messages. The relay completes a pipeline route with it at load ({@link PipelineCompletion}).
 *
 * @param outbox    the outbox the pipeline reads
 * @param batchSize the most rows one batch holds (the poll's limit)
 * @param delay     milliseconds between polls while the outbox is idle (a new message wakes the pipeline at once)
 * @param onPoison  what the pipeline does with a message that still fails after its retries for a reason of its
 *                  own: {@link DeadLetters#DEAD_LETTER} or {@link DeadLetters#HOLD}
 * @param keyGroups how many keys the pipeline's split sends at once, each key in order ({@link KeyGroups}); 1 sends
 *                  one message after the other
 * @param partitions how many partitions the pipeline runs as ({@link #partitionId}), each over the keys whose
 *                  {@code tide.key_partition} is its number, under a lock and an offset of its own; 1 runs it whole
 * @param start     where the pipeline starts when it registers: {@code earliest}, {@code latest} or an ISO-8601
 *                  timestamp (tide.relay_register); a registered pipeline keeps its offset
 * @param cloudEvents how each message goes as a CloudEvent, or null when it goes as it is
 */
public record PipelineSource(String outbox, int batchSize, long delay, String onPoison, int keyGroups, int partitions,
                             String start,
                             CloudEventsOptions cloudEvents) {

    public static final String SCHEME = "tide";

    /** The options a {@code tide:} URI takes, each with its meaning, as the error for an unknown one lists them. */
    static final Map<String, String> OPTIONS = Stream.concat(Map.of(
            "batchSize", "the most messages in one batch, 1 to 10000 (default 1000)",
            "delay", "milliseconds between polls while the outbox is idle, 10 or more (default 2000)",
            "onPoison", "what to do with a message that still fails after its retries, " + DeadLetters.DEAD_LETTER
                    + " (default: set it aside in tide.relay_dlq and go on) or " + DeadLetters.HOLD
                    + " (stop at it until it is delivered)",
            "keyGroups", "how many keys the split over the batch sends at once, each key's messages in order,"
                    + " 1 to 1000 (default 1: one message after the other)",
            "partitions", "how many partitions the pipeline runs as, each with its own lock and offset over its share of"
                    + " the keys, spread over the relays of the group, 1 to 1024 (default 1)",
            "start", "where a new pipeline starts when it registers: earliest (default: the oldest message kept),"
                    + " latest (only what commits after it registers) or a timestamp such as 2026-12-01T00:00:00Z")
            .entrySet().stream(),
            CloudEventsOptions.OPTIONS.entrySet().stream()).collect(Collectors.toUnmodifiableMap(Map.Entry::getKey,
                    Map.Entry::getValue));

    public static final String EARLIEST = "earliest";
    public static final String LATEST = "latest";
    private static final int DEFAULT_BATCH_SIZE = 1000;
    private static final int MAX_BATCH_SIZE = 10_000;
    private static final long DEFAULT_DELAY = 2000;
    private static final long MIN_DELAY = 10;
    private static final int MAX_KEY_GROUPS = 1000;
    private static final int MAX_PARTITIONS = 1024;

    /** True when the endpoint URI is a pipeline source. */
    public static boolean isSource(String uri) {
        return uri != null && uri.startsWith(SCHEME + ":");
    }

    /** Reads a {@code tide:} URI; the error names the part that is wrong. */
    public static PipelineSource parse(String uri) {
        String rest = uri.substring(SCHEME.length() + 1);
        int query = rest.indexOf('?');
        String outbox = (query < 0 ? rest : rest.substring(0, query)).replaceFirst("^//", "");
        RelaySettings.name("outbox in " + uri, outbox);
        Map<String, Object> options;
        try {
            options = new LinkedHashMap<>(URISupport.parseQuery(query < 0 ? "" : rest.substring(query + 1)));
        } catch (URISyntaxException e) {
            throw new SettingException(uri + ": " + e.getMessage());
        }
        int batchSize = (int) number(uri, options.remove("batchSize"), "batchSize", DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE);
        long delay = number(uri, options.remove("delay"), "delay", DEFAULT_DELAY, MIN_DELAY, Long.MAX_VALUE);
        int keyGroups = (int) number(uri, options.remove("keyGroups"), "keyGroups", 1, 1, MAX_KEY_GROUPS);
        int partitions = (int) number(uri, options.remove("partitions"), "partitions", 1, 1, MAX_PARTITIONS);
        String onPoison = String.valueOf(options.getOrDefault("onPoison", DeadLetters.DEAD_LETTER));
        options.remove("onPoison");
        if (!onPoison.equals(DeadLetters.DEAD_LETTER) && !onPoison.equals(DeadLetters.HOLD)) {
            throw new SettingException(uri + ": onPoison=" + onPoison + " is not " + OPTIONS.get("onPoison"));
        }
        String start = start(uri, options.remove("start"));
        CloudEventsOptions cloudEvents = CloudEventsOptions.take(uri, outbox, options);
        if (!options.isEmpty()) {
            throw new SettingException(uri + ": unknown option " + options.keySet().iterator().next()
                    + " (a tide: source takes " + String.join(", ", new TreeSet<>(OPTIONS.keySet()))
                    + "; Camel's SQL consumer options are the relay's to set)");
        }
        return new PipelineSource(outbox, batchSize, delay, onPoison, keyGroups, partitions, start, cloudEvents);
    }

    private static String start(String uri, Object value) {
        String start = value == null ? EARLIEST : value.toString().strip();
        if (start.equals(EARLIEST) || start.equals(LATEST)) {
            return start;
        }
        try {
            return OffsetDateTime.parse(start).toString();
        } catch (DateTimeParseException e) {
            throw new SettingException(uri + ": start=" + start + " is not " + OPTIONS.get("start"));
        }
    }

    private static long number(String uri, Object value, String option, long fallback, long min, long max) {
        if (value == null) {
            return fallback;
        }
        try {
            long parsed = Long.parseLong(value.toString().strip());
            if (parsed >= min && parsed <= max) {
                return parsed;
            }
        } catch (NumberFormatException ignored) {
            // reported below with the option's meaning
        }
        throw new SettingException(uri + ": " + option + "=" + value + " is out of range: " + OPTIONS.get(option));
    }

    /** The camel-sql consumer URI that polls this source for the pipeline (a partition's own id, when partitioned). */
    public String sqlUri(String pipeline, int partition) {
        String partitionArguments = partitions == 1 ? ""
                : ", p_partition => " + partition + ", p_partitions => " + partitions;
        return "sql:SELECT * FROM tide.relay_poll('" + pipeline + "', '" + outbox + "', " + batchSize
                + partitionArguments + ")"
                + "?useIterator=false&greedy=true&delay=" + delay + "&scheduler=%23" + Relay.WAKEUP_SCHEDULER;
    }

    /**
     * The id of one partition of a partitioned pipeline, {@code <pipeline>.<partition>}: it names the partition's
     * route, lock and offset, so metrics, {@code tide.consumer_lag} and {@code pg-tide status} show each one.
     */
    public static String partitionId(String pipeline, int partition) {
        return pipeline + "." + partition;
    }
}

package io.pgtide.relay.sink;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The relay's defaults for camel-kafka, as {@code camel.component.kafka.<option>} settings any pipeline may override. */
public final class KafkaDefaults {

    /** Option name to value, in the syntax of Camel's property binding. */
    public static final Map<String, String> OPTIONS = options();

    private KafkaDefaults() {
    }

    private static Map<String, String> options() {
        Map<String, String> options = new LinkedHashMap<>();
        // a batch is a list of outbox messages: each Kafka record carries its own message's headers
        options.put("batchWithIndividualHeaders", "true");
        // nothing reads the acknowledged records' metadata: skip collecting it for every record
        options.put("recordMetadata", "false");
        // camel-kafka's header rules, without a lower-cased copy of every header name of every record
        options.put("headerFilterStrategy", "#class:" + KafkaHeaderFilter.class.getName());
        // a batch is sent, then its acknowledgements awaited in the consumer's thread: the wait flushes the producer
        // (ADR 7), and no worker thread is needed to resume the route
        options.put("synchronous", "true");
        // a send waits this long for a broker (60 s by Kafka's default): a pipeline whose broker cannot be reached says
        // so within seconds, and a stop is not held up by a send that cannot start; the batch is retried, nothing lost
        options.put("maxBlockMs", "5000");
        options.put("kafkaClientFactory", "#class:" + FlushingKafkaClientFactory.class.getName());
        return Collections.unmodifiableMap(options);
    }
}

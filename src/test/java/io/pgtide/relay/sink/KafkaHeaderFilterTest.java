package io.pgtide.relay.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.apache.camel.component.kafka.KafkaHeaderFilterStrategy;
import org.junit.jupiter.api.Test;

/** The relay's Kafka header filter keeps camel-kafka's rules: the same headers go out as record headers. */
class KafkaHeaderFilterTest {

    @Test
    void filtersExactlyTheHeadersCamelKafkaFilters() {
        KafkaHeaderFilter relay = new KafkaHeaderFilter();
        KafkaHeaderFilterStrategy camel = new KafkaHeaderFilterStrategy();
        List<String> names = Arrays.asList("type", "pg_tide_id", "pg_tide_message_id", "Type", "CamelSqlRowCount",
                "camelHttpUri", "CAMELX", "cam", "camel", "org.apache.camel.Foo", "ORG.APACHE.CAMEL.bar", "org.apache.camelx",
                "kafka.KEY", "Kafka.PARTITION_KEY", "kafka", "kafkax", "traceparent", "", "ünïcode", null);
        for (String name : names) {
            for (Object value : new Object[] {"v", null, 42}) {
                assertEquals(camel.applyFilterToCamelHeaders(name, value, null), relay.applyFilterToCamelHeaders(name, value, null),
                        "header " + name + " = " + value);
            }
        }
    }
}

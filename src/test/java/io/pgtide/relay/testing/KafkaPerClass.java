package io.pgtide.relay.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** An in-process Kafka broker shared by the tests of one class: {@code @RegisterExtension static KafkaPerClass}. */
public final class KafkaPerClass implements BeforeAllCallback, AfterAllCallback {

    private KafkaBroker broker;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        broker = KafkaBroker.start();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        broker.close();
    }

    public String bootstrapServers() {
        return broker.bootstrapServers();
    }
}

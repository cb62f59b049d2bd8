package io.pgtide.relay.sink;

import io.pgtide.relay.testing.KafkaBroker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** For a test class whose pipelines go to Kafka and to the signed webhook: a broker, and the signing secret set. */
final class KafkaAndWebhook implements BeforeAllCallback, AfterAllCallback {

    private KafkaBroker broker;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        broker = KafkaBroker.start();
        HttpSinkTest.secret();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        HttpSinkTest.clearSecret();
        broker.close();
    }

    String bootstrapServers() {
        return broker.bootstrapServers();
    }

    /** A loopback webhook server checking the signature with the secret the signer reads. */
    HttpSinkTest.WebhookServer webhook() throws IOException {
        return HttpSinkTest.WebhookServer.start(HttpSinkTest.SECRET.getBytes(StandardCharsets.UTF_8));
    }
}

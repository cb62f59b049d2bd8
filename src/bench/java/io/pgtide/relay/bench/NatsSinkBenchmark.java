package io.pgtide.relay.bench;

import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.StreamConfiguration;
import io.pgtide.relay.testing.Names;
import io.pgtide.relay.testing.TestDatabase;
import java.time.Duration;

/**
 * Backlog drain through examples/routes/orders-to-nats.yaml into a JetStream file stream on the machine's NATS
 * server (one synchronous, acknowledged publish per message). Prints msg/s from the first advanced offset to
 * the last row.
 * <pre>mvn -q -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.NatsSinkBenchmark [-Dbench.messages=20000]</pre>
 */
public final class NatsSinkBenchmark {

    private NatsSinkBenchmark() {
    }

    public static void main(String[] args) {
        BenchmarkMain.exit(NatsSinkBenchmark::run);
    }

    private static void run(int messages) throws Exception {
        String name = Names.unique("pgtidebench");
        String subject = "pg-tide-bench." + name;
        try (Connection nats = Nats.connect("nats://127.0.0.1:4222"); TestDatabase db = TestDatabase.withExtension()) {
            JetStreamManagement jsm = nats.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name(name).subjects(subject)
                    .duplicateWindow(Duration.ofMinutes(2)).build());
            try {
                double rate = BenchmarkMain.drain(db, messages, "orders-to-nats", "nats:orders", "nats:" + subject,
                        "{{nats.servers:localhost:4222}}", "127.0.0.1:4222");
                long stored = jsm.getStreamInfo(name).getStreamState().getMsgCount();
                BenchmarkMain.report("outbox -> NATS JetStream (file stream, sync publish + ack, Nats-Msg-Id)", messages, rate,
                        stored + " messages in the stream");
            } finally {
                jsm.deleteStream(name);
            }
        }
    }
}

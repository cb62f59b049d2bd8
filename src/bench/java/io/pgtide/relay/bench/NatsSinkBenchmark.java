package io.pgtide.relay.bench;

import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.StreamConfiguration;
import io.pgtide.relay.testing.Names;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * Backlog drain through examples/routes/orders-to-nats.yaml into a JetStream file stream on the machine's NATS
 * server (one synchronous, acknowledged publish per message). Prints msg/s from the first advanced offset to
 * the last row. Also holds the pipeline file and report the other sink benchmarks share.
 * <pre>mvn -q -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.NatsSinkBenchmark [-Dbench.messages=20000]</pre>
 */
public final class NatsSinkBenchmark {

    private NatsSinkBenchmark() {
    }

    public static void main(String[] args) {
        // exit, also on failure: the client's threads would keep exec:java waiting
        System.exit(BenchmarkMain.run(NatsSinkBenchmark::run));
    }

    private static void run(int messages) throws Exception {
        String name = Names.unique("pgtidebench");
        String subject = "pg-tide-bench." + name;
        try (Connection nats = Nats.connect("nats://127.0.0.1:4222"); TestDatabase db = TestDatabase.withExtension()) {
            JetStreamManagement jsm = nats.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name(name).subjects(subject)
                    .duplicateWindow(Duration.ofMinutes(2)).build());
            try {
                Path routes = pipeline("examples/routes/orders-to-nats.yaml", "nats:orders", "nats:" + subject,
                        "{{nats.servers:localhost:4222}}", "127.0.0.1:4222");
                Backlog.fill(db, messages);
                double rate = Backlog.drainRate(db, routes, "orders-to-nats");
                long stored = jsm.getStreamInfo(name).getStreamState().getMsgCount();
                report("outbox -> NATS JetStream (file stream, sync publish + ack, Nats-Msg-Id)", messages, rate,
                        stored + " messages in the stream");
            } finally {
                jsm.deleteStream(name);
            }
        }
    }

    /** The example pipeline in a fresh routes folder with two texts replaced (the target and the address). */
    static Path pipeline(String example, String target, String benchTarget, String address, String benchAddress)
            throws Exception {
        Path routes = Files.createTempDirectory("bench-routes");
        Files.writeString(routes.resolve("bench.yaml"), Files.readString(Path.of(example))
                .replace(target, benchTarget).replace(address, benchAddress));
        return routes;
    }

    static void report(String what, int messages, double rate, String check) {
        System.out.printf(Locale.ROOT, "%nbacklog drain %s, 1 KiB JSON%n", what);
        System.out.printf(Locale.ROOT, "  %,d msgs  %,.0f msg/s  (%s)%n", messages, rate, check);
    }
}

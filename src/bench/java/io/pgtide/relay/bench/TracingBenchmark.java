package io.pgtide.relay.bench;

import com.sun.net.httpserver.HttpServer;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.KafkaBroker;
import io.pgtide.relay.testing.TestDatabase;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The cost of {@code PG_TIDE_TRACING}: the shipped Kafka pipeline drains the same backlog, every row with a
 * {@code traceparent} of its own, with tracing off and on, alternating (off, on, off, on...) in relay JVMs of their
 * own. With tracing on the spans go over OTLP/HTTP to a receiver on loopback that takes them and answers 200, with
 * the SDK's default batching unless OTEL_BSP_* says otherwise here.
 *
 * <pre>mvn -q -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.TracingBenchmark
 *     [-Dbench.messages=100000 -Dbench.rounds=2]</pre>
 */
public final class TracingBenchmark {

    private TracingBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        // read by Backlog when it is first used, below
        System.setProperty("bench.traceparent", "true");
        int messages = Integer.getInteger("bench.messages", 100_000);
        int rounds = Integer.getInteger("bench.rounds", 2);
        AtomicLong exports = new AtomicLong();
        AtomicLong exportedBytes = new AtomicLong();
        HttpServer collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        collector.createContext("/", exchange -> {
            try (exchange; InputStream body = exchange.getRequestBody()) {
                exportedBytes.addAndGet(body.readAllBytes().length);
                exports.incrementAndGet();
                exchange.sendResponseHeaders(200, -1);
            }
        });
        collector.start();
        Map<String, String> on = Map.of(RelaySettings.TRACING.name(), "true",
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + collector.getAddress().getPort(),
                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
        System.out.printf(Locale.ROOT, "%ntracing cost: outbox -> Kafka, %,d messages a pass, each with a traceparent%n",
                messages);
        try (KafkaBroker broker = KafkaBroker.start()) {
            for (int round = 1; round <= rounds; round++) {
                for (Map<String, String> settings : List.of(Map.<String, String>of(), on)) {
                    long exportsBefore = exports.get();
                    long bytesBefore = exportedBytes.get();
                    DrainBenchmark.RelayRun run;
                    try (TestDatabase db = TestDatabase.withExtension()) {
                        Backlog.fill(db, messages);
                        run = DrainBenchmark.relay(db, broker, messages, settings, false);
                    }
                    System.out.printf(Locale.ROOT, "  round %d tracing %-3s  first pass %,7.0f msg/s %5.1f us CPU/msg"
                                    + "   warm pass %,7.0f msg/s %5.1f us CPU/msg   peak RSS %3.0f MiB   OTLP %d requests"
                                    + " %,d bytes%n", round, settings.isEmpty() ? "off" : "on",
                            run.cold().rate(), run.cold().cpuMicrosPerMessage(), run.warm().rate(),
                            run.warm().cpuMicrosPerMessage(), run.peakRssMiB(), exports.get() - exportsBefore,
                            exportedBytes.get() - bytesBefore);
                }
            }
        } finally {
            collector.stop(0);
        }
        System.exit(0);
    }
}

package io.pgtide.relay.bench;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.ChildRelay;
import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaBroker;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One hot outbox to Kafka (issue 14): one pipeline on one relay, 4 partitions on one relay, 4 partitions over two
 * relays, each a new pipeline over the same backlog, against the physical limit measured in the same run (the raw
 * JDBC poll of the same SQL and a plain Kafka producer, the smaller of the two). Prints each figure as it is
 * measured, with the relays' CPU per message.
 * <pre>mvn -q -B -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.PartitionBenchmark [-Dbench.messages=200000]</pre>
 */
public final class PartitionBenchmark {

    private static final int BATCH = 1000;

    private PartitionBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int messages = Integer.getInteger("bench.messages", 200_000);
        try (KafkaBroker broker = KafkaBroker.start(); TestDatabase db = TestDatabase.withExtension()) {
            Backlog.fill(db, messages);
            System.out.printf(Locale.ROOT, "one hot outbox -> Kafka, %,d messages%n", messages);
            double read = RawRead.drain(db, "raw-read", "orders", BATCH).rowsPerSecond();
            System.out.printf(Locale.ROOT, "  raw JDBC poll+advance            %,9.0f msg/s%n", read);
            String payload = db.queryOne(String.class, "SELECT payload::text FROM tide.tide_outbox_messages ORDER BY id LIMIT 1");
            double produce = DrainBenchmark.rawProducer(broker, payload, messages, BATCH);
            System.out.printf(Locale.ROOT, "  raw producer, %d then acks     %,9.0f msg/s%n", BATCH, produce);
            double limit = Math.min(read, produce);
            System.out.printf(Locale.ROOT, "  limit (the smaller)              %,9.0f msg/s%n", limit);
            run(db, broker, "one", 1, 1, messages, limit);
            run(db, broker, "p4-one-relay", 4, 1, messages, limit);
            run(db, broker, "p4-two-relays", 4, 2, messages, limit);
        }
    }

    /**
     * Drains the backlog with a new pipeline of {@code partitions} on {@code relays} relay processes, then again with
     * a second new pipeline in the same, now warm, processes (the first one's file removed, so the relays share only
     * the second's partitions); prints both.
     */
    private static void run(TestDatabase db, KafkaBroker broker, String pipeline, int partitions, int relays,
            int messages, double limit) throws Exception {
        Path routes = Files.createTempDirectory("bench-partitions");
        List<ChildRelay> started = new ArrayList<>();
        try {
            Path cold = pipelineFile(routes, broker, pipeline, partitions);
            for (int r = 0; r < relays; r++) {
                started.add(ChildRelay.startAsShipped(db, routes, pipeline + "-" + r,
                        Map.of(RelaySettings.POOL_SIZE.name(), String.valueOf(2 * partitions + 4))));
            }
            drain(db, started, pipeline, partitions, relays, "cold", limit);
            Files.delete(cold);
            pipelineFile(routes, broker, pipeline + "-warm", partitions);
            drain(db, started, pipeline + "-warm", partitions, relays, "warm", limit);
        } catch (Exception e) {
            System.out.printf(Locale.ROOT, "  %s failed: %s%n", pipeline, e);
        } finally {
            for (ChildRelay relay : started) {
                relay.close();
            }
        }
    }

    private static Path pipelineFile(Path routes, KafkaBroker broker, String pipeline, int partitions) throws Exception {
        Kafka.createTopic(broker.bootstrapServers(), pipeline, 1);
        Path file = Pipelines.kafkaPipeline(routes, pipeline, "orders", pipeline, broker.bootstrapServers());
        if (partitions > 1) {
            Files.writeString(file, Files.readString(file).replace("tide:orders", "tide:orders?partitions=" + partitions));
        }
        return file;
    }

    /** Measures the running pipeline's drain (Backlog.drainPartitions) and prints it. */
    private static void drain(TestDatabase db, List<ChildRelay> relays, String pipeline, int partitions, int relayCount,
            String pass, double limit) throws Exception {
        Backlog.Drain drain = Backlog.drainPartitions(db, pipeline, partitions, () -> cpu(relays));
        System.out.printf(Locale.ROOT, "  %-18s %d partition(s), %d relay(s), %s %,9.0f msg/s  %3.0f %% of the limit"
                + "  relay CPU %,5.1f us/msg%n", pipeline, partitions, relayCount, pass, drain.rate(),
                100 * drain.rate() / limit, drain.cpuMicrosPerMessage());
    }

    private static double cpu(List<ChildRelay> relays) {
        return relays.stream().mapToDouble(relay -> ProcessStats.cpuSeconds(relay.process().pid())).sum();
    }
}

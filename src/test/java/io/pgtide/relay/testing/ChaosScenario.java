package io.pgtide.relay.testing;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.db.SchemaCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The chaos run, outbox → Kafka with real processes: producers commit with random delays and roll some
 * transactions back while the pipeline's owning relay is killed with -9 again and again, the private
 * PostgreSQL server restarts once, the broker is down for a while once, and one message is too large for
 * Kafka. Then everything is read back and checked ({@link ChaosResult}).
 */
public final class ChaosScenario {

    /** Rows per poll: tide.relay_poll's default limit, so the most one fault can make go out again. */
    public static final int BATCH = 1000;

    private static final String PIPELINE = "chaos-to-kafka";
    private static final String OUTBOX = "orders";
    private static final String TOPIC = "chaos";
    /** Twice the Kafka producer's default max.request.size: rejected for good, a dead letter. */
    private static final int POISON_BYTES = 2 * 1024 * 1024;
    // three relay JVMs, a broker and a server starting together on 2 loaded cores may take a minute to settle
    private static final Duration OWNER_TIMEOUT = Duration.ofSeconds(120);

    /**
     * The size of a run. Producing goes on until {@code messages} committed and every fault happened: the
     * PostgreSQL restart at a quarter of the messages, the poison at half, the Kafka outage at three quarters,
     * and at least {@code minKills} kills -9 of the owner. A fault every {@code faultEveryMin} to
     * {@code faultEveryMax}: a kill, or a one-off fault that is due. With {@code partitions} above 1 the pipeline
     * runs as that many partitions, each sending its batch one message after the other over {@code keyGroups} keys at
     * once, and a kill hits the owner of a partition picked at random.
     */
    public record Plan(int messages, int producers, int keys, int relays, Duration faultEveryMin, Duration faultEveryMax,
            int minKills, Duration kafkaOutage, int maxCommitDelayMillis, int rollbackPercent, Duration drainTimeout,
            int partitions, int keyGroups) {

        /** The pipeline (or partition) whose owner a kill may hit. */
        String killTarget() {
            return partitions == 1 ? PIPELINE : PIPELINE + "." + ThreadLocalRandom.current().nextInt(partitions);
        }
    }

    private final Plan plan;
    private final KafkaBroker broker;
    private final PgCluster pg;
    private final TestDatabase db;
    private int pgRestarts;
    private Duration kafkaDown;
    private Long poison;

    private ChaosScenario(Plan plan, KafkaBroker broker, PgCluster pg, TestDatabase db) {
        this.plan = plan;
        this.broker = broker;
        this.pg = pg;
        this.db = db;
    }

    /** Runs the plan on a new broker and a new PostgreSQL server, both removed afterwards. */
    public static ChaosResult run(Plan plan) throws Exception {
        Path routes = Files.createTempDirectory("pg-tide-chaos-routes");
        try (KafkaBroker broker = KafkaBroker.start(); PgCluster pg = PgCluster.primary();
             TestDatabase db = TestDatabase.create(pg)) {
            // the relay's own install path: this tree's script, whatever the server's extension folder holds
            db.execute(SchemaCheck.script());
            db.execute("SELECT tide.outbox_create('" + OUTBOX + "')");
            Kafka.createTopic(broker.bootstrapServers(), TOPIC, 1);
            Path pipeline = plan.partitions() == 1
                    ? Pipelines.kafkaPipeline(routes, PIPELINE, OUTBOX, TOPIC, broker.bootstrapServers())
                    : partitionedPipeline(routes, plan, broker.bootstrapServers());
            try {
                return new ChaosScenario(plan, broker, pg, db).run(routes);
            } finally {
                Files.delete(pipeline);
            }
        } finally {
            Files.delete(routes);
        }
    }

    private ChaosResult run(Path routes) throws Exception {
        // a relay started while the server restarts waits for it instead of exiting
        Map<String, String> env = Map.of(RelaySettings.STARTUP_TIMEOUT.name(), "120");
        try (RelayFleet fleet = RelayFleet.start(db, routes, plan.relays(), env)) {
            fleet.awaitOwner(plan.killTarget(), OWNER_TIMEOUT);
            long start = System.nanoTime();
            ChaosProducers producers = ChaosProducers.start(db, OUTBOX, plan.producers(), plan.keys(),
                    plan.maxCommitDelayMillis(), plan.rollbackPercent());
            try (producers) {
                while (!done(producers, fleet)) {
                    Thread.sleep(faultPause().toMillis());
                    // a one-off fault in place of a kill: it hits an owner that has been running a while
                    if (!oneOffFault(producers.committedCount() / (double) plan.messages())) {
                        fleet.killOwner(plan.killTarget(), OWNER_TIMEOUT);
                    }
                }
                producers.stop();
            }
            boolean drained = drain();
            List<Long> delivered = Kafka.idsInOrder(broker.bootstrapServers(), TOPIC, Duration.ofSeconds(60));
            double elapsed = (System.nanoTime() - start) / 1e9;
            ChaosResult.Observed seen = new ChaosResult.Observed(producers.committed(), producers.rolledBack(),
                    producers.inDoubt(), poison, OutboxRows.of(db, OUTBOX), delivered,
                    db.queryList(Long.class, "SELECT message_id FROM tide.relay_dlq"), drained);
            // a fault may make each partition's batch in flight go out again
            return ChaosResult.of(seen, new ChaosResult.Faults(fleet.kills(), pgRestarts, kafkaDown, 1),
                    BATCH * plan.partitions(), elapsed);
        }
    }

    /**
     * The Kafka pipeline split per message, so that key groups apply: each partition sends its batch's keys at once,
     * each key's messages one after the other, every send acknowledged before the next of its key.
     */
    private static Path partitionedPipeline(Path routes, Plan plan, String brokers) throws Exception {
        Path file = routes.resolve(PIPELINE + ".yaml");
        Files.writeString(file, """
                - route:
                    id: %s
                    from:
                      uri: "tide:%s?partitions=%d&keyGroups=%d"
                      steps:
                        - split:
                            simple: "${body}"
                            stopOnException: true
                            steps:
                              - to:
                                  uri: "kafka:%s"
                                  parameters: { brokers: "%s", requestRequiredAcks: all, enableIdempotence: true }
                """.formatted(PIPELINE, OUTBOX, plan.partitions(), plan.keyGroups(), TOPIC, brokers));
        return file;
    }

    private boolean done(ChaosProducers producers, RelayFleet fleet) {
        return pgRestarts > 0 && poison != null && kafkaDown != null
                && producers.committedCount() >= plan.messages() && fleet.kills() >= plan.minKills();
    }

    private Duration faultPause() {
        long min = plan.faultEveryMin().toMillis();
        return Duration.ofMillis(ThreadLocalRandom.current().nextLong(min, plan.faultEveryMax().toMillis() + 1));
    }

    /** The next one-off fault once its share of the messages has committed; false when none is due. */
    private boolean oneOffFault(double progress) throws Exception {
        if (pgRestarts == 0 && progress >= 0.25) {
            pg.restart();
            pgRestarts++;
        } else if (poison == null && progress >= 0.5) {
            poison = db.queryOne(Long.class, "SELECT tide.outbox_publish(?, jsonb_build_object('poison', repeat('x', ?)),"
                    + " '{}', 'k0')", OUTBOX, POISON_BYTES);
        } else if (kafkaDown == null && progress >= 0.75) {
            long down = System.nanoTime();
            broker.stop();
            Thread.sleep(plan.kafkaOutage().toMillis());
            broker.restart();
            kafkaDown = Duration.ofNanos(System.nanoTime() - down);
        } else {
            return false;
        }
        return true;
    }

    /** Waits until no partition of the pipeline has a message left to deliver; false when it did not in time. */
    private boolean drain() throws Exception {
        long deadline = System.nanoTime() + plan.drainTimeout().toNanos();
        while (db.queryOne(Long.class, "SELECT coalesce(sum(pending), -1)::bigint FROM tide.consumer_lag"
                + " WHERE ? IN (pipeline, partition_of)", PIPELINE) != 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }
}

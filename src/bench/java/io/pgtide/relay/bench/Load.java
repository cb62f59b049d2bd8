package io.pgtide.relay.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;

/**
 * Where a run's time went, between two samples: how busy the machine's cores were, how many cores PostgreSQL's
 * processes, the relay's threads (Camel's and its Kafka producer's) and the rest of this JVM (the broker, the
 * publishers, the collector, GC) used, and the relay's batches from its /metrics.
 */
record Load(double machineBusy, int cores, double postgresCores, double relayCores, double restOfJvmCores,
            double batchesPerSecond, double messagesPerBatch, double millisPerBatch) {

    /** The counters a load is the difference of. */
    record Sample(long nanos, double[] machine, double postgres, double jvm, double relay, double batches,
                  double messages, double batchSeconds) {

        /** Reads the counters now, the relay's from its metrics port. */
        static Sample take(int metricsPort) throws Exception {
            String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            return new Sample(System.nanoTime(), ProcessStats.machineCpuSeconds(), ProcessStats.cpuSecondsOf("postgres"),
                    ProcessStats.cpuSeconds(ProcessHandle.current().pid()), relayThreadsCpuSeconds(),
                    sum(metrics, "pg_tide_relay_batch_size_count"), sum(metrics, "pg_tide_relay_batch_size_sum"),
                    sum(metrics, "pg_tide_relay_batch_duration_seconds_sum"));
        }

        /** CPU seconds of the live threads the relay runs on: Camel's and its Kafka producer's. */
        private static double relayThreadsCpuSeconds() {
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            double nanos = 0;
            for (ThreadInfo thread : threads.getThreadInfo(threads.getAllThreadIds())) {
                if (thread != null && (thread.getThreadName().startsWith("Camel (")
                        || thread.getThreadName().startsWith("kafka-producer-network-thread"))) {
                    nanos += Math.max(0, threads.getThreadCpuTime(thread.getThreadId()));
                }
            }
            return nanos / 1e9;
        }

        /** The sum of a metric over its label sets, in Prometheus' text format. */
        private static double sum(String metrics, String name) {
            return metrics.lines().filter(line -> line.startsWith(name + "{") || line.startsWith(name + " "))
                    .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
        }
    }

    static Load between(Sample from, Sample to) {
        double seconds = (to.nanos() - from.nanos()) / 1e9;
        double batches = to.batches() - from.batches();
        return new Load((to.machine()[0] - from.machine()[0]) / (to.machine()[1] - from.machine()[1]),
                Runtime.getRuntime().availableProcessors(), (to.postgres() - from.postgres()) / seconds,
                (to.relay() - from.relay()) / seconds,
                (to.jvm() - from.jvm() - (to.relay() - from.relay())) / seconds, batches / seconds,
                batches == 0 ? 0 : (to.messages() - from.messages()) / batches,
                batches == 0 ? 0 : 1000 * (to.batchSeconds() - from.batchSeconds()) / batches);
    }

    String line() {
        return String.format(Locale.ROOT, "  load: machine %.0f %% of %d cores busy; PostgreSQL %.2f cores, relay %.2f,"
                + " broker + publishers + rest of the JVM %.2f; relay %.0f batches/s of %.1f messages, %.1f ms each",
                100 * machineBusy, cores, postgresCores, relayCores, restOfJvmCores, batchesPerSecond, messagesPerBatch,
                millisPerBatch);
    }
}

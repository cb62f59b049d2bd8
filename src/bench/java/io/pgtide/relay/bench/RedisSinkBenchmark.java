package io.pgtide.relay.bench;

import io.pgtide.relay.testing.Names;
import io.pgtide.relay.testing.TestDatabase;
import redis.clients.jedis.RedisClient;

/**
 * Backlog drain through examples/routes/orders-to-redis.yaml into a Redis stream on the machine's Redis (one
 * XADD per message, each batch pipelined in one round trip). Prints msg/s from the first advanced offset to the
 * last row.
 * <pre>mvn -q -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.RedisSinkBenchmark [-Dbench.messages=20000]</pre>
 */
public final class RedisSinkBenchmark {

    private RedisSinkBenchmark() {
    }

    public static void main(String[] args) {
        BenchmarkMain.exit(RedisSinkBenchmark::run);
    }

    private static void run(int messages) throws Exception {
        String stream = Names.unique("pg-tide-bench:");
        try (RedisClient redis = RedisClient.create("redis://127.0.0.1:6379"); TestDatabase db = TestDatabase.withExtension()) {
            try {
                double rate = BenchmarkMain.drain(db, messages, "orders-to-redis", "\"pg-tide:orders\"",
                        "\"" + stream + "\"", "{{redis.url:redis://localhost:6379}}", "redis://127.0.0.1:6379");
                BenchmarkMain.report("outbox -> Redis stream (XADD per message, pipelined per batch)", messages, rate,
                        redis.xlen(stream) + " entries in the stream");
            } finally {
                redis.del(stream);
            }
        }
    }
}

package io.pgtide.relay.bench;

import io.pgtide.relay.testing.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Backlog drain, outbox → HTTP webhook on loopback, with the two example pipelines as shipped: one signed
 * POST per message (examples/routes/orders-to-webhook.yaml) and one signed POST per batch
 * (examples/routes/orders-to-webhook-batch.yaml). The receiver is a Vert.x server on the same machine
 * (one event loop; it is on the relay's classpath) that checks every signature and answers 200: it is fast
 * enough not to be the bottleneck (~14k signed 1 KiB POSTs/s from one sequential client here; the JDK's
 * com.sun.net.httpserver managed ~4k and held the relay at ~1.3k msg/s). msg/s from the first advanced
 * offset to the last row.
 * <pre>mvn -q -B -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.HttpSinkBenchmark [-Dbench.messages=20000] [-Dbench.pipelines=single,batch]</pre>
 */
public final class HttpSinkBenchmark {

    private static final String SECRET_VARIABLE = "PG_TIDE_WEBHOOK_SECRET";

    private HttpSinkBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int messages = Integer.getInteger("bench.messages", 20_000);
        String secret = System.getenv(SECRET_VARIABLE);
        if (secret == null || secret.isEmpty()) {
            secret = "bench-secret";
            System.setProperty(SECRET_VARIABLE, secret);    // the signer's fallback when the variable is unset
        }
        byte[] key = secret.getBytes(StandardCharsets.UTF_8);
        String which = System.getProperty("bench.pipelines", "single,batch");
        Result single = which.contains("single")
                ? run("examples/routes/orders-to-webhook.yaml", "orders-to-webhook", messages, key) : null;
        Result batch = which.contains("batch")
                ? run("examples/routes/orders-to-webhook-batch.yaml", "orders-to-webhook-batch", messages, key) : null;
        System.out.printf(Locale.ROOT, "%nbacklog drain outbox -> HTTP webhook on loopback, 1 KiB JSON, HMAC-SHA256 signed%n");
        if (single != null) {
            System.out.printf(Locale.ROOT, "  one POST per message  %,7d msgs  %,8.0f msg/s  (%,d requests, %d bad signatures)%n",
                    messages, single.rate, single.requests, single.badSignatures);
        }
        if (batch != null) {
            System.out.printf(Locale.ROOT, "  one POST per batch    %,7d msgs  %,8.0f msg/s  (%,d requests, %d bad signatures)%n",
                    messages, batch.rate, batch.requests, batch.badSignatures);
        }
        System.exit(0);
    }

    private record Result(double rate, int requests, int badSignatures) {
    }

    private static Result run(String example, String pipeline, int messages, byte[] secret) throws Exception {
        try (Receiver server = Receiver.start(secret); TestDatabase db = TestDatabase.withExtension()) {
            Backlog.fill(db, messages);
            Path routes = Files.createTempDirectory("bench-routes");
            Files.writeString(routes.resolve(pipeline + ".yaml"), Files.readString(Path.of(example))
                    .replace("{{webhook.url:http://localhost:8080/orders}}", server.url("/orders")));
            double rate = Backlog.drainRate(db, routes, pipeline);
            return new Result(rate, server.accepted.get(), server.badSignatures.get());
        }
    }

    /** A webhook receiver that checks X-Pg-Tide-Signature (its own HMAC, not the signer's code) and counts. */
    private static final class Receiver implements AutoCloseable {
        private final Vertx vertx = Vertx.vertx();
        private final AtomicInteger accepted = new AtomicInteger();
        private final AtomicInteger badSignatures = new AtomicInteger();
        private int port;

        static Receiver start(byte[] secret) throws Exception {
            Receiver receiver = new Receiver();
            HttpServer server = receiver.vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
                boolean signed = MessageDigest.isEqual(signature(secret, body.getBytes()),
                        String.valueOf(request.getHeader("X-Pg-Tide-Signature")).getBytes(StandardCharsets.US_ASCII));
                (signed ? receiver.accepted : receiver.badSignatures).incrementAndGet();
                request.response().setStatusCode(signed ? 200 : 401).end();
            }));
            receiver.port = server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS).actualPort();
            return receiver;
        }

        String url(String path) {
            return "http://127.0.0.1:" + port + path;
        }

        private static byte[] signature(byte[] secret, byte[] body) {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(secret, "HmacSHA256"));
                return ("sha256=" + HexFormat.of().formatHex(mac.doFinal(body))).getBytes(StandardCharsets.US_ASCII);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() throws Exception {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}

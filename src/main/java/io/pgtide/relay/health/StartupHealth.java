package io.pgtide.relay.health;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.config.SettingException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The health endpoints while the relay starts, before Camel's server takes the metrics port over: liveness is
 * UP (the process works, so a kubelet never kills a relay that is only waiting for its database), readiness is
 * DOWN with the reason, and {@code /metrics} has nothing yet. Binding the port first also finds a port that is
 * taken, as a one-line error naming the setting, before anything else starts.
 */
public final class StartupHealth implements AutoCloseable {

    private final HttpServer server;
    private volatile String reason = "starting";

    private StartupHealth(HttpServer server) {
        this.server = server;
    }

    /** Listens on the metrics port at once, on every address, as Camel's server will. */
    public static StartupHealth listen(int port) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(port), 0);
        } catch (BindException e) {
            throw new SettingException(RelaySettings.METRICS_PORT.name() + ": port " + port
                    + " is in use by another process: stop it or choose another port");
        } catch (IOException e) {
            throw new SettingException(RelaySettings.METRICS_PORT.name() + ": cannot listen on port " + port + ": " + e.getMessage());
        }
        StartupHealth health = new StartupHealth(server);
        server.createContext("/observe/health/live", exchange -> answer(exchange, 200, "{\"status\":\"UP\"}"));
        server.createContext("/observe/health", exchange -> answer(exchange, 503,
                "{\"status\":\"DOWN\",\"reason\":\"" + health.reason.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}"));
        server.createContext("/", exchange -> answer(exchange, 503, "{\"status\":\"DOWN\",\"reason\":\"starting\"}"));
        server.start();
        return health;
    }

    /** What the relay waits for, as readiness reports it. */
    public void waiting(String reason) {
        this.reason = reason;
    }

    private static void answer(HttpExchange exchange, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /** Frees the port for Camel's server. */
    @Override
    public void close() {
        server.stop(0);
    }
}

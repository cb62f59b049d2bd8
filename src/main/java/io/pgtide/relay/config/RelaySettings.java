package io.pgtide.relay.config;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The relay's own settings, read from the environment (the container contract) or, for each
 * variable, the same name as a JVM system property ({@code -DPG_TIDE_RELAY_GROUP=...}).
 * Camel's settings stay in {@code camel.*} properties.
 */
public final class RelaySettings {

    public static final String POSTGRES_URL = "PG_TIDE_RELAY_POSTGRES_URL";
    public static final String POSTGRES_URL_SHORT = "PG_TIDE_POSTGRES_URL";
    public static final String GROUP = "PG_TIDE_RELAY_GROUP";
    public static final String ROUTES = "PG_TIDE_ROUTES";
    public static final String INSTANCE = "PG_TIDE_RELAY_INSTANCE";
    public static final String POOL_SIZE = "PG_TIDE_POOL_SIZE";
    public static final String LOCK_INTERVAL = "PG_TIDE_LOCK_INTERVAL_MS";
    public static final String METRICS_PORT = "PG_TIDE_METRICS_PORT";
    public static final String METRICS_INTERVAL = "PG_TIDE_METRICS_INTERVAL_MS";
    public static final String RELOAD_INTERVAL = "PG_TIDE_RELOAD_INTERVAL_MS";
    public static final String SWEEP_INTERVAL = "PG_TIDE_SWEEP_INTERVAL_S";
    public static final String STARTUP_TIMEOUT = "PG_TIDE_STARTUP_TIMEOUT_S";
    public static final String PERMANENT_FAILURES = "PG_TIDE_PERMANENT_FAILURES";
    public static final String CAMEL_CLI = "PG_TIDE_CAMEL_CLI";
    public static final String TRACING = "PG_TIDE_TRACING";

    /** tide.is_name's rule, for names checked before a database is at hand (ExtensionInputTest). */
    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,62}");

    private final Function<String, String> source;

    public RelaySettings(Function<String, String> source) {
        this.source = source;
    }

    /** Settings from system properties first, then the environment. */
    public static RelaySettings fromEnvironment() {
        Map<String, String> env = System.getenv();
        return new RelaySettings(name -> {
            String value = System.getProperty(name);
            return value != null ? value : env.get(name);
        });
    }

    public String get(String name) {
        String value = source.apply(name);
        return value == null || value.isBlank() ? null : value.strip();
    }

    /** True when any form of the database URL is set. */
    public boolean hasPostgresUrl() {
        for (String name : new String[] {POSTGRES_URL, POSTGRES_URL_SHORT}) {
            if (get(name) != null || get(name + "_FILE") != null) {
                return true;
            }
        }
        return false;
    }

    /** The database to relay from: the first of the URL settings (or their _FILE forms) that is set. */
    public PostgresUrl postgresUrl() {
        for (String name : new String[] {POSTGRES_URL, POSTGRES_URL_SHORT}) {
            String direct = get(name);
            if (direct != null) {
                return PostgresUrl.parse(name, direct);
            }
            String file = get(name + "_FILE");
            if (file != null) {
                return PostgresUrl.parse(name + "_FILE (" + file + ")", readSecret(name + "_FILE", file));
            }
        }
        throw new SettingException(POSTGRES_URL + " is not set: give the database URL"
                + " (postgresql://user:password@host:5432/db, e.g. the uri key of a CloudNativePG <cluster>-app secret),"
                + " or " + POSTGRES_URL + "_FILE naming a file that holds it");
    }

    private static String readSecret(String setting, String file) {
        try {
            return Files.readString(Path.of(file)).strip();
        } catch (IOException e) {
            throw new SettingException(setting + ": cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** Relay group: relays of one group share pipelines; other groups keep their own locks and offsets. */
    public String group() {
        return name(GROUP, get(GROUP) == null ? "default" : get(GROUP));
    }

    /** Folder of pipeline route files. */
    public Path routesDirectory() {
        return Path.of(get(ROUTES) == null ? "routes" : get(ROUTES));
    }

    /** The routes folder, which must exist for the relay to run; else the error names the setting and the path. */
    public Path existingRoutesDirectory() {
        Path folder = routesDirectory();
        if (!Files.isDirectory(folder)) {
            throw new SettingException(ROUTES + (get(ROUTES) == null ? " is not set, and the default routes folder "
                    : ": the routes folder ") + folder.toAbsolutePath().normalize() + " does not exist");
        }
        return folder;
    }

    /** Names this relay process in lock owners and offset rows. */
    public String instance() {
        String value = get(INSTANCE);
        if (value != null) {
            return value;
        }
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "relay";
        }
        return host + ":" + ProcessHandle.current().pid();
    }

    public int poolSize() {
        return positiveInt(POOL_SIZE, 16);
    }

    /** How often each pipeline's lock session is checked, and how often a free lock is tried. */
    public Duration lockInterval() {
        return Duration.ofMillis(positiveInt(LOCK_INTERVAL, 1000));
    }

    /** How often pending counts and ages are read from the database for the metrics. */
    public Duration metricsInterval() {
        return Duration.ofMillis(positiveInt(METRICS_INTERVAL, 10_000));
    }

    /** How often the routes folder is checked for edits; 0 turns hot reload off. */
    public Duration reloadInterval() {
        return Duration.ofMillis(nonNegativeInt(RELOAD_INTERVAL, 2000));
    }

    /** How often delivered messages past their retention are swept; 0 turns the schedule off. */
    public Duration sweepInterval() {
        return Duration.ofSeconds(nonNegativeInt(SWEEP_INTERVAL, 300));
    }

    /** How long start-up waits for an unreachable database; 0 fails at once. */
    public Duration startupTimeout() {
        return Duration.ofSeconds(nonNegativeInt(STARTUP_TIMEOUT, 0));
    }

    /** More exception classes (comma-separated names) that mean the sink rejected the message for good. */
    public List<String> permanentFailures() {
        String value = get(PERMANENT_FAILURES);
        return value == null ? List.of() : Arrays.stream(value.split(",")).map(String::strip)
                .filter(name -> !name.isEmpty()).toList();
    }

    /** Whether Camel's CLI ({@code camel ps}, {@code camel get route}) may see this relay through ~/.camel. */
    public boolean camelCli() {
        return bool(CAMEL_CLI, true);
    }

    /**
     * Whether each message gets a send span, child of the publisher's W3C trace context in its headers, exported
     * as the OTEL_* variables say (OpenTelemetry's SDK autoconfiguration).
     */
    public boolean tracing() {
        return bool(TRACING, false);
    }

    private boolean bool(String name, boolean fallback) {
        String value = get(name);
        if (value == null) {
            return fallback;
        }
        if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(value);
        }
        throw new SettingException(name + " must be true or false, not \"" + value + "\"");
    }

    public int metricsPort() {
        return wholeNumber(METRICS_PORT, 9610, 1, 65535, "a port number, 1 to 65535");
    }

    private int positiveInt(String name, int fallback) {
        return wholeNumber(name, fallback, 1, Integer.MAX_VALUE, "a positive whole number");
    }

    private int nonNegativeInt(String name, int fallback) {
        return wholeNumber(name, fallback, 0, Integer.MAX_VALUE, "a whole number, 0 or more");
    }

    private int wholeNumber(String name, int fallback, int min, int max, String expected) {
        String value = get(name);
        if (value == null) {
            return fallback;
        }
        try {
            int parsed = Integer.parseInt(value);
            if (parsed >= min && parsed <= max) {
                return parsed;
            }
        } catch (NumberFormatException ignored) {
            // reported below with the setting's name
        }
        throw new SettingException(name + " must be " + expected + ", not \"" + value + "\"");
    }

    /** Checks a pipeline, outbox or group name; the error names the setting. */
    public static String name(String setting, String value) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw new SettingException(setting + " \"" + value + "\" is not a valid name: a letter, then at most 62"
                    + " letters, digits, '_', '.' or '-'");
        }
        return value;
    }
}

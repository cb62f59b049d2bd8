package io.pgtide.relay.config;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
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

    // One declaration per setting, in the order of the README's table, which must agree (ReadmeSettingsTest).
    public static final Setting<String> POSTGRES_URL = Setting.text("PG_TIDE_RELAY_POSTGRES_URL", null,
            "required: the database, a `postgresql://user:pass@host:port/db?sslmode=...` URI (the `uri` key of a"
                    + " CloudNativePG `<cluster>-app` secret) or a `jdbc:postgresql:` URL").or("PG_TIDE_POSTGRES_URL");
    public static final Setting<String> POSTGRES_URL_FILE = Setting.text("PG_TIDE_RELAY_POSTGRES_URL_FILE", null,
            "a file holding the URL (a mounted secret)").or("PG_TIDE_POSTGRES_URL_FILE");
    public static final Setting<String> GROUP = Setting.text("PG_TIDE_RELAY_GROUP", "default",
            "relays of one group share pipelines; another group has its own locks and offsets")
            .checked(RelaySettings::name);
    public static final Setting<String> ROUTES = Setting.text("PG_TIDE_ROUTES", "routes",
            "folder of pipeline files (`*.yaml`)");
    public static final Setting<String> INSTANCE = Setting.text("PG_TIDE_RELAY_INSTANCE", null,
            "this relay's name in lock sessions and offset owners; unset: host:pid");
    public static final Setting<Duration> LOCK_INTERVAL = Setting.duration("PG_TIDE_LOCK_INTERVAL_MS", 1000, 1,
            ChronoUnit.MILLIS, "lock check and takeover interval");
    public static final Setting<Integer> POOL_SIZE = Setting.number("PG_TIDE_POOL_SIZE", 16, 1, Integer.MAX_VALUE,
            "a positive whole number", "connection pool size (each running pipeline holds one while it polls)");
    /** Read by the launcher (bin/pg-tide), not by the relay. */
    public static final Setting<String> LIB = Setting.text("PG_TIDE_LIB", null,
            "extra jar folder, read by the launcher; unset: `lib/` beside `bin/`");
    public static final Setting<Integer> METRICS_PORT = Setting.number("PG_TIDE_METRICS_PORT", 9610, 1, 65535,
            "a port number, 1 to 65535", "port of `/metrics` and the probes");
    public static final Setting<Duration> METRICS_INTERVAL = Setting.duration("PG_TIDE_METRICS_INTERVAL_MS", 10_000, 1,
            ChronoUnit.MILLIS, "how often pending counts and ages are read from the database for the metrics");
    public static final Setting<Duration> RELOAD_INTERVAL = Setting.duration("PG_TIDE_RELOAD_INTERVAL_MS", 2000, 0,
            ChronoUnit.MILLIS, "how often the routes folder is checked for edits (0: never)");
    public static final Setting<Duration> SWEEP_INTERVAL = Setting.duration("PG_TIDE_SWEEP_INTERVAL_S", 300, 0,
            ChronoUnit.SECONDS, "how often delivered messages past their retention are swept (0: never)");
    public static final Setting<Duration> STARTUP_TIMEOUT = Setting.duration("PG_TIDE_STARTUP_TIMEOUT_S", 0, 0,
            ChronoUnit.SECONDS, "how long start-up waits for an unreachable database (a sidecar starts with its"
                    + " server); 0 fails at once");
    public static final Setting<List<String>> PERMANENT_FAILURES = Setting.list("PG_TIDE_PERMANENT_FAILURES",
            "more exception classes (comma-separated names) that mean the sink rejected the message for good");
    public static final Setting<Boolean> CAMEL_CLI = Setting.flag("PG_TIDE_CAMEL_CLI", true,
            "let Camel's CLI (`camel ps`, `camel get route`) see this relay through `~/.camel`");
    public static final Setting<Boolean> TRACING = Setting.flag("PG_TIDE_TRACING", false,
            "a send span per message, child of the publisher's trace context, exported as the `OTEL_*` variables"
                    + " say (OpenTelemetry's SDK autoconfiguration)");

    /** Every setting, in the README's order. */
    public static final List<Setting<?>> ALL = List.of(POSTGRES_URL, POSTGRES_URL_FILE, GROUP, ROUTES, INSTANCE,
            LOCK_INTERVAL, POOL_SIZE, LIB, METRICS_PORT, METRICS_INTERVAL, RELOAD_INTERVAL, SWEEP_INTERVAL,
            STARTUP_TIMEOUT, PERMANENT_FAILURES, CAMEL_CLI, TRACING);

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

    /** The setting's value: the variable, else its alias, else the default; a wrong value names the setting. */
    public <T> T value(Setting<T> setting) {
        String raw = get(setting.name());
        if (raw == null && setting.alias() != null) {
            raw = get(setting.alias());
        }
        return setting.rule().read(setting.name(), raw != null ? raw : setting.fallback());
    }

    /** True when any form of the database URL is set. */
    public boolean hasPostgresUrl() {
        return value(POSTGRES_URL) != null || value(POSTGRES_URL_FILE) != null;
    }

    /** The database to relay from: the first of the URL settings (or their _FILE forms) that is set. */
    public PostgresUrl postgresUrl() {
        for (String name : new String[] {POSTGRES_URL.name(), POSTGRES_URL.alias()}) {
            String direct = get(name);
            if (direct != null) {
                return PostgresUrl.parse(name, direct);
            }
            String file = get(name + "_FILE");
            if (file != null) {
                return PostgresUrl.parse(name + "_FILE (" + file + ")", readSecret(name + "_FILE", file));
            }
        }
        throw new SettingException(POSTGRES_URL.name() + " is not set: give the database URL"
                + " (postgresql://user:password@host:5432/db, e.g. the uri key of a CloudNativePG <cluster>-app secret),"
                + " or " + POSTGRES_URL_FILE.name() + " naming a file that holds it");
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
        return value(GROUP);
    }

    /** Folder of pipeline route files. */
    public Path routesDirectory() {
        return Path.of(value(ROUTES));
    }

    /** The routes folder, which must exist for the relay to run; else the error names the setting and the path. */
    public Path existingRoutesDirectory() {
        Path folder = routesDirectory();
        if (!Files.isDirectory(folder)) {
            throw new SettingException(ROUTES.name() + (get(ROUTES.name()) == null
                    ? " is not set, and the default routes folder " : ": the routes folder ")
                    + folder.toAbsolutePath().normalize() + " does not exist");
        }
        return folder;
    }

    /** Names this relay process in lock owners and offset rows. */
    public String instance() {
        String value = value(INSTANCE);
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

    /** Checks a pipeline, outbox or group name; the error names the setting. */
    public static String name(String setting, String value) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw new SettingException(setting + " \"" + value + "\" is not a valid name: a letter, then at most 62"
                    + " letters, digits, '_', '.' or '-'");
        }
        return value;
    }
}

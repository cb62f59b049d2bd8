package io.pgtide.relay.config;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * A PostgreSQL connection target parsed from a libpq URI ({@code postgresql://user:pass@host:port/db?...},
 * as CloudNativePG's {@code <cluster>-app} secret holds under {@code uri}) or a {@code jdbc:postgresql:} URL.
 * The JDBC URL it produces carries no credentials: user and password travel in {@link #properties()},
 * and {@link #toString()} masks the password, so the value can be logged.
 */
public final class PostgresUrl {

    /** libpq parameters and the PgJDBC property each maps to. */
    private static final Map<String, String> LIBPQ_TO_JDBC = Map.ofEntries(
            Map.entry("sslmode", "sslmode"),
            Map.entry("sslcert", "sslcert"),
            Map.entry("sslkey", "sslkey"),
            Map.entry("sslrootcert", "sslrootcert"),
            Map.entry("sslpassword", "sslpassword"),
            Map.entry("sslnegotiation", "sslNegotiation"),
            Map.entry("channel_binding", "channelBinding"),
            Map.entry("gssencmode", "gssEncMode"),
            Map.entry("krbsrvname", "kerberosServerName"),
            Map.entry("application_name", "ApplicationName"),
            Map.entry("options", "options"),
            Map.entry("connect_timeout", "connectTimeout"),
            Map.entry("keepalives", "tcpKeepAlive"),
            Map.entry("target_session_attrs", "targetServerType"),
            Map.entry("load_balance_hosts", "loadBalanceHosts"));

    private static final String HOST_PATTERN = "(\\[[0-9A-Fa-f:.]+]|[A-Za-z0-9._-]+)(:\\d{1,5})?";
    private static final Pattern HOST = Pattern.compile(HOST_PATTERN);
    private static final Pattern HOSTS_THEN_PATH = Pattern.compile(HOST_PATTERN + "(," + HOST_PATTERN + ")*(/|\\?|$)");

    private final String setting;
    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final Properties properties;

    private PostgresUrl(String setting, String jdbcUrl, String user, String password, Properties properties) {
        this.setting = setting;
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
        this.properties = properties;
    }

    /**
     * Parses a URL given by the setting {@code setting}; errors name that setting and never echo the password.
     */
    public static PostgresUrl parse(String setting, String url) {
        if (url == null || url.isBlank()) {
            throw new SettingException(setting + " is empty: give a postgresql://user:password@host:port/database URI"
                    + " or a jdbc:postgresql: URL");
        }
        String value = url.strip();
        if (value.startsWith("jdbc:postgresql:")) {
            return fromJdbc(setting, value);
        }
        if (value.startsWith("postgresql://") || value.startsWith("postgres://")) {
            return fromUri(setting, value);
        }
        throw new SettingException(setting + " must start with postgresql://, postgres:// or jdbc:postgresql:"
                + " (it starts with \"" + scheme(value) + "\")");
    }

    private static String scheme(String value) {
        int colon = value.indexOf(':');
        return colon < 0 ? "" : value.substring(0, Math.min(colon, 20)) + ":";
    }

    private static PostgresUrl fromJdbc(String setting, String value) {
        int question = value.indexOf('?');
        String base = question < 0 ? value : value.substring(0, question);
        if (base.indexOf('@') >= 0) {
            throw new SettingException(setting + ": a jdbc:postgresql: URL takes credentials as ?user=...&password=...,"
                    + " not before the host");
        }
        String user = null;
        String password = null;
        StringBuilder clean = new StringBuilder(base);
        Properties properties = new Properties();
        if (question >= 0) {
            char separator = '?';
            for (String pair : value.substring(question + 1).split("&")) {
                int eq = pair.indexOf('=');
                String name = eq < 0 ? pair : pair.substring(0, eq);
                String val = eq < 0 ? "" : decode(setting, pair.substring(eq + 1));
                switch (name) {
                    case "" -> { }
                    case "user" -> user = val;
                    case "password" -> password = val;
                    // secrets travel as properties, never in the (loggable) URL
                    case "sslpassword" -> properties.setProperty(name, val);
                    default -> {
                        clean.append(separator).append(pair);
                        separator = '&';
                    }
                }
            }
        }
        if (org.postgresql.Driver.parseURL(clean.toString(), new Properties()) == null) {
            throw new SettingException(setting + ": the jdbc:postgresql: URL is not valid");
        }
        return new PostgresUrl(setting, clean.toString(), user, password, properties);
    }

    private static PostgresUrl fromUri(String setting, String value) {
        String rest = value.substring(value.indexOf("://") + 3);
        String user = null;
        String password = null;
        int at = userInfoEnd(rest);
        if (at >= 0) {
            String userInfo = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int colon = userInfo.indexOf(':');
            user = decode(setting, colon < 0 ? userInfo : userInfo.substring(0, colon));
            password = colon < 0 ? null : decode(setting, userInfo.substring(colon + 1));
        }
        String query = "";
        int question = rest.indexOf('?');
        if (question >= 0) {
            query = rest.substring(question + 1);
            rest = rest.substring(0, question);
        }
        String database = "";
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            database = decode(setting, rest.substring(slash + 1));
            rest = rest.substring(0, slash);
        }
        String hosts = rest.isEmpty() ? "localhost" : rest;
        for (String host : hosts.split(",")) {
            checkHost(setting, host);
        }

        Map<String, String> params = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(setting, eq < 0 ? pair : pair.substring(0, eq));
            String val = eq < 0 ? "" : decode(setting, pair.substring(eq + 1));
            params.put(name, val);
        }
        Properties properties = new Properties();
        for (Map.Entry<String, String> p : params.entrySet()) {
            String name = p.getKey();
            switch (name) {
                case "user" -> user = p.getValue();
                case "password" -> password = p.getValue();
                case "dbname" -> database = p.getValue();
                case "host", "port", "hostaddr" -> throw new SettingException(setting + ": the URI parameter \""
                        + name + "\" is not supported; put host and port before the database name");
                default -> {
                    String jdbcName = LIBPQ_TO_JDBC.get(name);
                    if (jdbcName == null) {
                        throw new SettingException(setting + ": the libpq parameter \"" + name
                                + "\" has no PgJDBC equivalent; remove it or use a jdbc:postgresql: URL");
                    }
                    properties.setProperty(jdbcName, jdbcValue(setting, name, p.getValue()));
                }
            }
        }
        String jdbcUrl = "jdbc:postgresql://" + hosts + "/" + encodePath(database);
        return new PostgresUrl(setting, jdbcUrl, user, password, properties);
    }

    /**
     * Where the user info ends: the last '@' that is followed by a host list, so an unescaped '/', '?'
     * or '@' in a password still stays out of the host (and out of every message).
     */
    private static int userInfoEnd(String rest) {
        for (int at = rest.lastIndexOf('@'); at >= 0; at = rest.lastIndexOf('@', at - 1)) {
            if (HOSTS_THEN_PATH.matcher(rest.substring(at + 1)).lookingAt()) {
                return at;
            }
        }
        // no host list after any '@': still split there, so a bad host is reported without the password
        int query = rest.indexOf('?');
        return (query < 0 ? rest : rest.substring(0, query)).lastIndexOf('@');
    }

    private static void checkHost(String setting, String host) {
        if (!HOST.matcher(host).matches()) {
            throw new SettingException(setting + ": \"" + host + "\" is not a host[:port]");
        }
    }

    private static String jdbcValue(String setting, String name, String value) {
        return switch (name) {
            case "keepalives" -> String.valueOf(!value.equals("0"));
            case "target_session_attrs" -> switch (value) {
                case "any" -> "any";
                case "read-write", "primary" -> "primary";
                case "read-only", "standby" -> "secondary";
                case "prefer-standby" -> "preferSecondary";
                default -> throw new SettingException(setting + ": target_session_attrs=" + value
                        + " is not one of any, read-write, primary, read-only, standby, prefer-standby");
            };
            case "load_balance_hosts" -> String.valueOf(value.equals("random"));
            default -> value;
        };
    }

    private static String decode(String setting, String part) {
        try {
            // '+' is a literal plus in a URI path or user info, not a space
            return URLDecoder.decode(part.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new SettingException(setting + ": a percent-escape is broken (write % as %25)");
        }
    }

    private static String encodePath(String database) {
        StringBuilder out = new StringBuilder();
        for (byte b : database.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (Character.isLetterOrDigit(c) && c < 128 || "-._~".indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }

    /** The setting the URL came from, for messages that tell what to fix. */
    public String setting() {
        return setting;
    }

    /** Where the URL points: {@code host:port} for each of its hosts, comma-separated. */
    public String hostsAndPorts() {
        Properties parsed = org.postgresql.Driver.parseURL(jdbcUrl, new Properties());
        String[] hosts = parsed.getProperty("PGHOST", "localhost").split(",");
        String[] ports = parsed.getProperty("PGPORT", "5432").split(",");
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < hosts.length; i++) {
            all.append(i == 0 ? "" : ",").append(hosts[i]).append(':').append(ports[Math.min(i, ports.length - 1)]);
        }
        return all.toString();
    }

    /** The JDBC URL without user or password. */
    public String jdbcUrl() {
        return jdbcUrl;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    /** Connection properties for the driver: user, password and the mapped libpq parameters. */
    public Properties properties() {
        Properties all = new Properties();
        all.putAll(properties);
        if (user != null) {
            all.setProperty("user", user);
        }
        if (password != null) {
            all.setProperty("password", password);
        }
        return all;
    }

    @Override
    public String toString() {
        return jdbcUrl + (user == null ? "" : " as " + user) + (password == null ? "" : " (password ****)");
    }
}

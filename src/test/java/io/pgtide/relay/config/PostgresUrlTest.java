package io.pgtide.relay.config;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PostgresUrlTest {

    private static final String SETTING = "PG_TIDE_RELAY_POSTGRES_URL";
    /** A password distinctive enough that finding it in a string is never a coincidence. */
    private static final String SECRET = "Zq9secretPw";

    private static PostgresUrl parse(String url) {
        return PostgresUrl.parse(SETTING, url);
    }

    private static SettingException parseFails(String url) {
        return assertThrows(SettingException.class, () -> parse(url));
    }

    private static void assertMessageHides(SettingException e, String password) {
        assertFalse(e.getMessage().contains(password),
                () -> "exception message leaks the password: " + e.getMessage());
    }

    private static void assertToStringHides(PostgresUrl url, String password) {
        String text = url.toString();
        assertFalse(text.contains(password), () -> "toString() leaks the password: " + text);
        assertFalse(url.jdbcUrl().contains(password), () -> "jdbcUrl() leaks the password: " + url.jdbcUrl());
        assertTrue(text.contains("****"), () -> "toString() should say a password is set: " + text);
    }

    // ---- CloudNativePG / libpq URIs -----------------------------------------------------------

    @Test
    void parsesCloudNativePgSecretUri() {
        PostgresUrl url = parse("postgresql://app:secret@my-cluster-rw.default.svc:5432/app?sslmode=require");

        assertEquals("jdbc:postgresql://my-cluster-rw.default.svc:5432/app", url.jdbcUrl());
        assertEquals("app", url.user());
        assertEquals("secret", url.password());
        Properties props = url.properties();
        assertEquals("require", props.getProperty("sslmode"));
        assertEquals(3, props.size(), () -> "unexpected properties " + props);
    }

    @Test
    void acceptsPostgresScheme() {
        PostgresUrl url = parse("postgres://app:secret@my-cluster-rw.default.svc:5432/app?sslmode=require");

        assertEquals("jdbc:postgresql://my-cluster-rw.default.svc:5432/app", url.jdbcUrl());
        assertEquals("app", url.user());
        assertEquals("secret", url.password());
        assertEquals("require", url.properties().getProperty("sslmode"));
    }

    @Test
    void stripsSurroundingWhitespace() {
        PostgresUrl url = parse("  postgresql://app:secret@db:5432/app\n");

        assertEquals("jdbc:postgresql://db:5432/app", url.jdbcUrl());
        assertEquals("secret", url.password());
    }

    @Test
    void uriWithoutCredentialsOrDatabase() {
        PostgresUrl url = parse("postgresql://db.example.com");

        assertEquals("jdbc:postgresql://db.example.com/", url.jdbcUrl());
        assertNull(url.user());
        assertNull(url.password());
        assertTrue(url.properties().isEmpty());
        assertEquals("jdbc:postgresql://db.example.com/", url.toString());
    }

    @Test
    void emptyHostDefaultsToLocalhost() {
        PostgresUrl url = parse("postgresql:///app?user=app");

        assertEquals("jdbc:postgresql://localhost/app", url.jdbcUrl());
        assertEquals("app", url.user());
    }

    @Test
    void userWithoutPassword() {
        PostgresUrl url = parse("postgresql://app@db/app");

        assertEquals("app", url.user());
        assertNull(url.password());
        assertEquals("app", url.properties().getProperty("user"));
        assertFalse(url.properties().containsKey("password"));
        assertEquals("jdbc:postgresql://db/app as app", url.toString());
    }

    // ---- percent escapes ----------------------------------------------------------------------

    @Test
    void decodesPercentEscapedPassword() {
        PostgresUrl url = parse("postgresql://app:p%40ss%3Aw%25rd@db:5432/app");

        assertEquals("p@ss:w%rd", url.password());
        assertEquals("app", url.user());
        assertEquals("jdbc:postgresql://db:5432/app", url.jdbcUrl());
        assertToStringHides(url, "p@ss:w%rd");
        assertToStringHides(url, "p%40ss%3Aw%25rd");
    }

    @Test
    void unescapedAtSignInPasswordUsesLastAt() {
        PostgresUrl url = parse("postgresql://app:p@ss@db:5432/app");

        assertEquals("p@ss", url.password());
        assertEquals("jdbc:postgresql://db:5432/app", url.jdbcUrl());
    }

    @Test
    void decodesPercentEscapedUser() {
        PostgresUrl url = parse("postgresql://app%40corp:secret@db/app");

        assertEquals("app@corp", url.user());
        assertEquals("secret", url.password());
        assertEquals("app@corp", url.properties().getProperty("user"));
    }

    @Test
    void plusStaysLiteralPlus() {
        PostgresUrl url = parse("postgresql://a+b:pa+ss@db/my+db?application_name=x+y");

        assertEquals("a+b", url.user());
        assertEquals("pa+ss", url.password());
        assertEquals("x+y", url.properties().getProperty("ApplicationName"));
        // '+' is not unreserved, so it is re-escaped in the JDBC path
        assertEquals("jdbc:postgresql://db/my%2Bdb", url.jdbcUrl());
    }

    @Test
    void databaseNameIsDecodedAndReEncoded() {
        PostgresUrl url = parse("postgresql://app:secret@db/my%20db");

        assertEquals("jdbc:postgresql://db/my%20db", url.jdbcUrl());
    }

    // ---- libpq parameters ---------------------------------------------------------------------

    @Test
    void mapsLibpqParametersToPgJdbcProperties() {
        PostgresUrl url = parse("postgresql://app:secret@db/app?application_name=pg_tide%20relay"
                + "&connect_timeout=10&target_session_attrs=read-write&keepalives=0"
                + "&options=-c%20search_path%3Dtide&sslmode=verify-full&sslrootcert=/etc/ca.crt");

        Properties props = url.properties();
        assertAll(
                () -> assertEquals("pg_tide relay", props.getProperty("ApplicationName")),
                () -> assertEquals("10", props.getProperty("connectTimeout")),
                () -> assertEquals("primary", props.getProperty("targetServerType")),
                () -> assertEquals("false", props.getProperty("tcpKeepAlive")),
                () -> assertEquals("-c search_path=tide", props.getProperty("options")),
                () -> assertEquals("verify-full", props.getProperty("sslmode")),
                () -> assertEquals("/etc/ca.crt", props.getProperty("sslrootcert")),
                () -> assertEquals("app", props.getProperty("user")),
                () -> assertEquals("secret", props.getProperty("password")),
                () -> assertEquals(9, props.size(), () -> "unexpected properties " + props));
        // parameters travel as properties, not in the URL
        assertEquals("jdbc:postgresql://db/app", url.jdbcUrl());
    }

    @Test
    void keepalivesOtherThanZeroMeansTrue() {
        assertEquals("true", parse("postgresql://db/app?keepalives=1").properties().getProperty("tcpKeepAlive"));
    }

    @Test
    void mapsEveryTargetSessionAttrsValue() {
        assertAll(
                () -> assertEquals("any", targetServerType("any")),
                () -> assertEquals("primary", targetServerType("read-write")),
                () -> assertEquals("primary", targetServerType("primary")),
                () -> assertEquals("secondary", targetServerType("read-only")),
                () -> assertEquals("secondary", targetServerType("standby")),
                () -> assertEquals("preferSecondary", targetServerType("prefer-standby")));
    }

    private static String targetServerType(String attrs) {
        return parse("postgresql://h1,h2/app?target_session_attrs=" + attrs).properties()
                .getProperty("targetServerType");
    }

    @Test
    void mapsLoadBalanceHosts() {
        assertEquals("true", parse("postgresql://h1,h2/app?load_balance_hosts=random")
                .properties().getProperty("loadBalanceHosts"));
        assertEquals("false", parse("postgresql://h1,h2/app?load_balance_hosts=disable")
                .properties().getProperty("loadBalanceHosts"));
    }

    @Test
    void userPasswordAndDbnameAsQueryParameters() {
        PostgresUrl url = parse("postgresql://db:5432?user=app&password=p%40ss&dbname=appdb&sslmode=require");

        assertEquals("app", url.user());
        assertEquals("p@ss", url.password());
        assertEquals("jdbc:postgresql://db:5432/appdb", url.jdbcUrl());
        Properties props = url.properties();
        assertEquals("app", props.getProperty("user"));
        assertEquals("p@ss", props.getProperty("password"));
        assertEquals("require", props.getProperty("sslmode"));
        assertFalse(props.containsKey("dbname"));
        assertToStringHides(url, "p@ss");
    }

    @Test
    void queryParametersOverrideUserInfoAndPath() {
        PostgresUrl url = parse("postgresql://old:oldpw@db/olddb?user=new&password=newpw&dbname=newdb");

        assertEquals("new", url.user());
        assertEquals("newpw", url.password());
        assertEquals("jdbc:postgresql://db/newdb", url.jdbcUrl());
    }

    @ParameterizedTest
    @ValueSource(strings = {"service=foo", "passfile=x", "requiressl=1", "sslcompression=1"})
    void unmappableLibpqParameterFails(String param) {
        SettingException e = parseFails("postgresql://app:" + SECRET + "@db/app?sslmode=require&" + param);

        String name = param.substring(0, param.indexOf('='));
        assertTrue(e.getMessage().contains(SETTING), e.getMessage());
        assertTrue(e.getMessage().contains("\"" + name + "\""), e.getMessage());
        assertMessageHides(e, SECRET);
    }

    @ParameterizedTest
    @ValueSource(strings = {"host=db2", "port=5433", "hostaddr=10.0.0.1"})
    void hostAndPortParametersFail(String param) {
        SettingException e = parseFails("postgresql://app:" + SECRET + "@db/app?" + param);

        assertTrue(e.getMessage().contains(SETTING), e.getMessage());
        assertTrue(e.getMessage().contains(param.substring(0, param.indexOf('='))), e.getMessage());
        assertMessageHides(e, SECRET);
    }

    // ---- scheme and emptiness -----------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "\n"})
    void emptyValueFails(String value) {
        SettingException e = parseFails(value);

        assertTrue(e.getMessage().contains(SETTING), e.getMessage());
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }

    /** A URL refused for its form: the error names the setting and what is wrong, and never echoes the password. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "postgresql://app:Zq9secretPw%zz@db/app | percent-escape",
            "postgresql://app:Zq9secretPw%4@db/app | ",
            "postgresql://app:Zq9secretPw@db/app?application_name=100% | ",
            "postgresql://app:Zq9secretPw@db/app?target_session_attrs=writable | target_session_attrs=writable",
            "postgresql://db/app?user=app&password=Zq9secretPw&service=foo | service",
            "mysql://app:Zq9secretPw@db:3306/app | \"mysql:\"",
            "app:Zq9secretPw@db:5432/app | ",
            "jdbc:mysql://db/app?password=Zq9secretPw | ",
            "postgresql://u:Zq9secretPw@h1:5432,bad host:5433/db | bad host:5433"})
    void aMalformedUrlFailsNamingTheSettingAndTheProblemNotThePassword(String url, String problem) {
        SettingException e = parseFails(url);

        assertTrue(e.getMessage().contains(SETTING), e.getMessage());
        assertTrue(problem == null || e.getMessage().contains(problem), e.getMessage());
        assertMessageHides(e, SECRET);
    }

    @Test
    void nullValueFails() {
        SettingException e = parseFails(null);

        assertTrue(e.getMessage().contains(SETTING), e.getMessage());
    }

    // ---- hosts --------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"bad host", "db:port", "db:123456", "db;drop", "[::1", "[zz::1]:5432", "h1,,h2"})
    void badHostFails(String host) {
        SettingException e = parseFails("postgresql://app:" + SECRET + "@" + host + "/app");

        assertTrue(e.getMessage().contains(SETTING), e.getMessage());
        assertTrue(e.getMessage().contains("host[:port]"), e.getMessage());
        assertMessageHides(e, SECRET);
    }

    @Test
    void multiHostUri() {
        PostgresUrl url = parse("postgresql://u:p@h1:5432,h2:5433/db");

        assertEquals("jdbc:postgresql://h1:5432,h2:5433/db", url.jdbcUrl());
        assertEquals("u", url.user());
        assertEquals("p", url.password());
    }

    @Test
    void multiHostUriWithTargetSessionAttrs() {
        PostgresUrl url = parse("postgresql://u:" + SECRET + "@h1:5432,h2:5433,h3/db?target_session_attrs=primary");

        assertEquals("jdbc:postgresql://h1:5432,h2:5433,h3/db", url.jdbcUrl());
        assertEquals("primary", url.properties().getProperty("targetServerType"));
        assertToStringHides(url, SECRET);
    }

    @Test
    void ipv6Host() {
        PostgresUrl url = parse("postgresql://u:p@[::1]:5432/db");

        assertEquals("jdbc:postgresql://[::1]:5432/db", url.jdbcUrl());
        assertEquals("u", url.user());
        assertEquals("p", url.password());
    }

    @Test
    void ipv6HostWithoutPortAndMixedWithIpv4() {
        assertEquals("jdbc:postgresql://[2001:db8::10]/db", parse("postgresql://[2001:db8::10]/db").jdbcUrl());
        assertEquals("jdbc:postgresql://[::ffff:10.0.0.1]:5432,10.0.0.2/db",
                parse("postgresql://[::ffff:10.0.0.1]:5432,10.0.0.2/db").jdbcUrl());
    }

    // ---- jdbc:postgresql: URLs ----------------------------------------------------------------

    @Test
    void jdbcUrlCredentialsAreExtracted() {
        PostgresUrl url = parse("jdbc:postgresql://host:5432/db?user=u&password=secret&sslmode=disable");

        assertEquals("u", url.user());
        assertEquals("secret", url.password());
        assertEquals("jdbc:postgresql://host:5432/db?sslmode=disable", url.jdbcUrl());
        assertFalse(url.jdbcUrl().contains("user"), url.jdbcUrl());
        assertFalse(url.jdbcUrl().contains("password"), url.jdbcUrl());
        Properties props = url.properties();
        assertEquals("u", props.getProperty("user"));
        assertEquals("secret", props.getProperty("password"));
    }

    @Test
    void jdbcUrlCredentialsInAnyPositionAreRemoved() {
        PostgresUrl url = parse("jdbc:postgresql://h1:5432,h2:5433/db?password=" + SECRET
                + "&sslmode=require&user=u&ApplicationName=relay");

        assertEquals("jdbc:postgresql://h1:5432,h2:5433/db?sslmode=require&ApplicationName=relay", url.jdbcUrl());
        assertEquals(SECRET, url.password());
        assertToStringHides(url, SECRET);
    }

    @Test
    void jdbcUrlPercentEscapedPasswordIsDecoded() {
        PostgresUrl url = parse("jdbc:postgresql://host/db?user=u&password=p%40ss%26w%25rd");

        assertEquals("p@ss&w%rd", url.password());
        assertEquals("jdbc:postgresql://host/db", url.jdbcUrl());
        assertToStringHides(url, "p@ss&w%rd");
        assertToStringHides(url, "p%40ss%26w%25rd");
    }

    @Test
    void jdbcUrlWithoutQueryIsKept() {
        PostgresUrl url = parse("jdbc:postgresql://host:5432/db");

        assertEquals("jdbc:postgresql://host:5432/db", url.jdbcUrl());
        assertNull(url.user());
        assertNull(url.password());
        assertTrue(url.properties().isEmpty());
        assertEquals("jdbc:postgresql://host:5432/db", url.toString());
    }

    @Test
    void invalidJdbcUrlFailsWithoutPassword() {
        // PgJDBC rejects a port that is not a number
        SettingException e = parseFails("jdbc:postgresql://host:notaport/db?user=u&password=" + SECRET);

        assertMessageHides(e, SECRET);
    }

    // ---- toString and properties --------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {
        "postgresql://app:" + SECRET + "@my-cluster-rw.default.svc:5432/app?sslmode=require",
        "postgres://app:" + SECRET + "@my-cluster-rw.default.svc:5432/app?sslmode=require",
        "postgresql://app%40corp:" + SECRET + "@db/app",
        "postgresql://app:" + SECRET + "@db/app?application_name=a&connect_timeout=10"
                + "&target_session_attrs=read-write&keepalives=0&options=-c%20x%3Dy",
        "postgresql://db:5432?user=app&password=" + SECRET + "&dbname=app",
        "postgresql://u:" + SECRET + "@h1:5432,h2:5433/db",
        "postgresql://u:" + SECRET + "@[::1]:5432/db",
        "postgresql://u:" + SECRET + "+x@db/app",
        "jdbc:postgresql://host:5432/db?user=u&password=" + SECRET + "&sslmode=disable",
        "jdbc:postgresql://host:5432/db?password=" + SECRET,
    })
    void toStringNeverContainsPassword(String value) {
        PostgresUrl url = parse(value);

        assertTrue(url.password().contains(SECRET), url.password());
        assertToStringHides(url, SECRET);
        assertTrue(url.toString().startsWith(url.jdbcUrl()), url.toString());
    }

    @Test
    void toStringOfEscapedPasswordHidesDecodedAndEncodedForms() {
        PostgresUrl url = parse("postgresql://app:p%40ss%3Aw%25rd@db/app");

        assertEquals("jdbc:postgresql://db/app as app (password ****)", url.toString());
    }

    @Test
    void toStringNamesUser() {
        PostgresUrl url = parse("postgresql://app:secret@my-cluster-rw.default.svc:5432/app?sslmode=require");

        assertEquals("jdbc:postgresql://my-cluster-rw.default.svc:5432/app as app (password ****)", url.toString());
    }

    @Test
    void propertiesHoldUserAndPasswordForDriver() {
        PostgresUrl url = parse("postgresql://app:secret@db/app?sslmode=require");

        Properties props = url.properties();
        assertEquals("app", props.getProperty("user"));
        assertEquals("secret", props.getProperty("password"));
        assertEquals("require", props.getProperty("sslmode"));
    }

    @Test
    void propertiesAreACopy() {
        PostgresUrl url = parse("postgresql://app:secret@db/app?sslmode=require");

        url.properties().setProperty("sslmode", "disable");
        url.properties().remove("password");

        assertEquals("require", url.properties().getProperty("sslmode"));
        assertEquals("secret", url.properties().getProperty("password"));
    }

    @Test
    void unescapedSlashQuestionMarkOrAtInPasswordStaysOutOfTheHost() {
        for (String password : new String[] {"se/cret", "se?cret", "s@e/c?ret", "12345/x"}) {
            PostgresUrl url = parse("postgresql://app:" + password + "@db.example:5432/app?sslmode=require");
            assertEquals("jdbc:postgresql://db.example:5432/app", url.jdbcUrl(), password);
            assertEquals(password, url.password());
            assertToStringHides(url, password);
        }
    }

    @Test
    void jdbcSslPasswordTravelsAsAPropertyNotInTheUrl() {
        PostgresUrl url = parse("jdbc:postgresql://host:5432/db?sslpassword=keypw&user=u&sslmode=verify-full");
        assertEquals("jdbc:postgresql://host:5432/db?sslmode=verify-full", url.jdbcUrl());
        assertEquals("keypw", url.properties().getProperty("sslpassword"));
        assertFalse(url.toString().contains("keypw"), url.toString());
    }

    @Test
    void jdbcCredentialsBeforeTheHostAreRefusedWithoutEchoingThem() {
        assertMessageHides(parseFails("jdbc:postgresql://u:" + SECRET + "@host/db"), SECRET);
    }
}

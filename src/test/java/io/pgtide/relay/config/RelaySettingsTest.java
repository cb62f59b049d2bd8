package io.pgtide.relay.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RelaySettingsTest {

    private static final String LONG_URL = "postgresql://long:longpw@long-host:5432/longdb";
    private static final String SHORT_URL = "postgresql://short:shortpw@short-host:5432/shortdb";

    @TempDir
    Path tmp;

    private final Map<String, String> env = new HashMap<>();

    private RelaySettings settings() {
        return new RelaySettings(env::get);
    }

    private Path secretFile(String name, String content) throws IOException {
        Path file = tmp.resolve(name);
        Files.writeString(file, content);
        return file;
    }

    /** The settings' database URL is this one. */
    private void assertUrl(String jdbcUrl, String user, String password) {
        PostgresUrl url = settings().postgresUrl();
        assertEquals(jdbcUrl, url.jdbcUrl());
        assertEquals(user, url.user());
        assertEquals(password, url.password());
    }

    /** A wrong value of the setting is refused, naming the setting. */
    private void assertRefused(Setting<?> setting, String value) {
        env.put(setting.name(), value);
        assertNames(assertThrows(SettingException.class, () -> settings().value(setting)), setting.name());
    }

    private static void assertNames(SettingException e, String setting) {
        assertTrue(e.getMessage().contains(setting), () -> "message should name " + setting + ": " + e.getMessage());
    }

    // ---- get ----------------------------------------------------------------------------------

    @Test
    void getStripsAndTreatsBlankAsUnset() {
        env.put("A", "  value \n");
        env.put("B", "   ");
        env.put("C", "");

        assertEquals("value", settings().get("A"));
        assertNull(settings().get("B"));
        assertNull(settings().get("C"));
        assertNull(settings().get("D"));
    }

    // ---- postgres URL -------------------------------------------------------------------------

    @Test
    void longUrlNamePreferredOverShortName() {
        env.put(RelaySettings.POSTGRES_URL.name(), LONG_URL);
        env.put(RelaySettings.POSTGRES_URL.alias(), SHORT_URL);

        assertUrl("jdbc:postgresql://long-host:5432/longdb", "long", "longpw");
    }

    @Test
    void shortUrlNameUsedWhenLongAbsent() {
        env.put(RelaySettings.POSTGRES_URL.alias(), SHORT_URL);

        assertUrl("jdbc:postgresql://short-host:5432/shortdb", "short", "shortpw");
    }

    @Test
    void blankLongUrlFallsBackToShortName() {
        env.put(RelaySettings.POSTGRES_URL.name(), "  ");
        env.put(RelaySettings.POSTGRES_URL.alias(), SHORT_URL);

        assertEquals("short", settings().postgresUrl().user());
    }

    @Test
    void longUrlFileReadAndTrailingNewlineStripped() throws IOException {
        Path file = secretFile("uri", LONG_URL + "\n");
        env.put(RelaySettings.POSTGRES_URL.name() + "_FILE", file.toString());

        assertUrl("jdbc:postgresql://long-host:5432/longdb", "long", "longpw");
    }

    @Test
    void shortUrlFileReadAndTrailingNewlineStripped() throws IOException {
        Path file = secretFile("uri", SHORT_URL + "\r\n");
        env.put(RelaySettings.POSTGRES_URL.alias() + "_FILE", file.toString());

        PostgresUrl url = settings().postgresUrl();

        assertEquals("jdbc:postgresql://short-host:5432/shortdb", url.jdbcUrl());
        assertEquals("shortpw", url.password());
    }

    @Test
    void passwordFromFileKeepsNoNewline() throws IOException {
        // a newline inside the password part would otherwise end up in the password
        Path file = secretFile("uri", "postgresql://app:pw@db/app\n");
        env.put(RelaySettings.POSTGRES_URL.name() + "_FILE", file.toString());

        assertEquals("pw", settings().postgresUrl().password());
        assertEquals("jdbc:postgresql://db/app", settings().postgresUrl().jdbcUrl());
    }

    @Test
    void directLongUrlPreferredOverItsFile() throws IOException {
        Path file = secretFile("uri", SHORT_URL);
        env.put(RelaySettings.POSTGRES_URL.name(), LONG_URL);
        env.put(RelaySettings.POSTGRES_URL.name() + "_FILE", file.toString());

        assertEquals("long", settings().postgresUrl().user());
    }

    @Test
    void longUrlFilePreferredOverShortUrl() throws IOException {
        Path file = secretFile("uri", LONG_URL);
        env.put(RelaySettings.POSTGRES_URL.name() + "_FILE", file.toString());
        env.put(RelaySettings.POSTGRES_URL.alias(), SHORT_URL);

        assertEquals("long", settings().postgresUrl().user());
    }

    @Test
    void missingUrlFileFailsNamingSetting() {
        String missing = tmp.resolve("does-not-exist").toString();
        env.put(RelaySettings.POSTGRES_URL.name() + "_FILE", missing);

        SettingException e = assertThrows(SettingException.class, () -> settings().postgresUrl());

        assertNames(e, "PG_TIDE_RELAY_POSTGRES_URL_FILE");
        assertTrue(e.getMessage().contains(missing), e.getMessage());
    }

    @Test
    void missingShortUrlFileFailsNamingSetting() {
        env.put(RelaySettings.POSTGRES_URL.alias() + "_FILE", tmp.resolve("nope").toString());

        SettingException e = assertThrows(SettingException.class, () -> settings().postgresUrl());

        assertNames(e, "PG_TIDE_POSTGRES_URL_FILE");
    }

    @ParameterizedTest
    @ValueSource(strings = {"mysql://app:Zq9filePw@db/app\n", "\n"})
    void invalidOrEmptyUrlInFileFailsNamingFileSettingWithoutPassword(String content) throws IOException {
        Path file = secretFile("uri", content);
        env.put(RelaySettings.POSTGRES_URL.name() + "_FILE", file.toString());

        SettingException e = assertThrows(SettingException.class, () -> settings().postgresUrl());

        assertNames(e, "PG_TIDE_RELAY_POSTGRES_URL_FILE");
        assertFalse(e.getMessage().contains("Zq9filePw"), e.getMessage());
    }

    @Test
    void invalidDirectUrlFailsNamingSetting() {
        env.put(RelaySettings.POSTGRES_URL.alias(), "postgresql://app:pw@db/app?service=foo");

        SettingException e = assertThrows(SettingException.class, () -> settings().postgresUrl());

        assertNames(e, "PG_TIDE_POSTGRES_URL");
        assertNames(e, "service");
    }

    @Test
    void noUrlSetFailsNamingLongSetting() {
        SettingException e = assertThrows(SettingException.class, () -> settings().postgresUrl());

        assertNames(e, "PG_TIDE_RELAY_POSTGRES_URL");
    }

    @Test
    void hasPostgresUrlFalseWhenNothingSet() {
        assertFalse(settings().hasPostgresUrl());
        env.put(RelaySettings.POSTGRES_URL.name(), " ");
        assertFalse(settings().hasPostgresUrl());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "PG_TIDE_RELAY_POSTGRES_URL", "PG_TIDE_POSTGRES_URL",
        "PG_TIDE_RELAY_POSTGRES_URL_FILE", "PG_TIDE_POSTGRES_URL_FILE"})
    void hasPostgresUrlTrueForAnyForm(String name) {
        env.put(name, "anything");

        assertTrue(settings().hasPostgresUrl());
    }

    // ---- group --------------------------------------------------------------------------------

    @Test
    void groupDefaultsToDefault() {
        assertEquals("default", settings().group());
    }

    @Test
    void blankGroupDefaultsToDefault() {
        env.put(RelaySettings.GROUP.name(), "  ");

        assertEquals("default", settings().group());
    }

    @ParameterizedTest
    @ValueSource(strings = {"blue", "eu-west.1", "g_2", "A"})
    void validGroupAccepted(String group) {
        env.put(RelaySettings.GROUP.name(), group);

        assertEquals(group, settings().group());
    }

    @Test
    void groupIsStripped() {
        env.put(RelaySettings.GROUP.name(), " blue\n");

        assertEquals("blue", settings().group());
    }

    @ParameterizedTest
    @ValueSource(strings = {"a b", "x'; drop table", "1abc", "_x", "-x", "a/b", "grüppe"})
    void badGroupFailsNamingSetting(String group) {
        env.put(RelaySettings.GROUP.name(), group);

        SettingException e = assertThrows(SettingException.class, () -> settings().group());

        assertNames(e, "PG_TIDE_RELAY_GROUP");
    }

    @Test
    void groupNameLengthLimit() {
        String max = "g" + "x".repeat(62);
        env.put(RelaySettings.GROUP.name(), max);
        assertEquals(max, settings().group());

        env.put(RelaySettings.GROUP.name(), max + "x");
        SettingException e = assertThrows(SettingException.class, () -> settings().group());
        assertNames(e, "PG_TIDE_RELAY_GROUP");
    }

    @Test
    void nameRejectsNull() {
        SettingException e = assertThrows(SettingException.class, () -> RelaySettings.name("SOME_SETTING", null));

        assertNames(e, "SOME_SETTING");
    }

    // ---- numbers ------------------------------------------------------------------------------

    @Test
    void numericDefaults() {
        RelaySettings s = settings();

        assertEquals(16, s.value(RelaySettings.POOL_SIZE));
        assertEquals(Duration.ofMillis(1000), s.value(RelaySettings.LOCK_INTERVAL));
        assertEquals(9610, s.value(RelaySettings.METRICS_PORT));
    }

    @Test
    void numericValuesRead() {
        env.put(RelaySettings.POOL_SIZE.name(), "4");
        env.put(RelaySettings.LOCK_INTERVAL.name(), " 250 ");
        env.put(RelaySettings.METRICS_PORT.name(), "8080");
        RelaySettings s = settings();

        assertEquals(4, s.value(RelaySettings.POOL_SIZE));
        assertEquals(Duration.ofMillis(250), s.value(RelaySettings.LOCK_INTERVAL));
        assertEquals(8080, s.value(RelaySettings.METRICS_PORT));
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "-1", "0", "1.5", "99999999999", "8 0"})
    void badPoolSizeFailsNamingVariable(String value) {
        assertRefused(RelaySettings.POOL_SIZE, value);
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "-500", "0", "500ms"})
    void badLockIntervalFailsNamingVariable(String value) {
        assertRefused(RelaySettings.LOCK_INTERVAL, value);
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "-9610", "0", "http", "65536", "99999"})
    void badMetricsPortFailsNamingVariable(String value) {
        assertRefused(RelaySettings.METRICS_PORT, value);
    }

    // ---- other settings -----------------------------------------------------------------------

    @Test
    void routesDirectoryDefaultAndOverride() {
        assertEquals(Path.of("routes"), settings().routesDirectory());
        env.put(RelaySettings.ROUTES.name(), "/etc/pg_tide/routes");
        assertEquals(Path.of("/etc/pg_tide/routes"), settings().routesDirectory());
    }

    @Test
    void instanceFromSettingOrHostAndPid() {
        assertTrue(settings().instance().endsWith(":" + ProcessHandle.current().pid()), settings().instance());
        env.put(RelaySettings.INSTANCE.name(), "relay-0");
        assertEquals("relay-0", settings().instance());
    }

    @Test
    void flagsKeepTheirDefaultUntilSetAndTakeOnlyTrueOrFalse() {
        assertFlag(RelaySettings.CAMEL_CLI, true, "FALSE", "no");
        assertFlag(RelaySettings.TRACING, false, "true", "on");
    }

    private void assertFlag(Setting<Boolean> flag, boolean byDefault, String other, String refused) {
        assertEquals(byDefault, settings().value(flag));
        env.put(flag.name(), other);
        assertEquals(!byDefault, settings().value(flag));
        env.put(flag.name(), refused);
        assertNames(assertThrows(SettingException.class, () -> settings().value(flag)), flag.name());
    }
}

package io.pgtide.relay.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The README's settings table is the declaration list of RelaySettings, row for row: name, doc and default. */
class ReadmeSettingsTest {

    @Test
    void theReadmeTableListsTheDeclaredSettingsInOrder() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        String section = readme.substring(readme.indexOf("\n## Configuration\n"));
        List<String> rows = section.lines().dropWhile(line -> !line.startsWith("| `PG_TIDE_"))
                .takeWhile(line -> line.startsWith("|")).toList();
        List<String> declared = RelaySettings.ALL.stream().map(ReadmeSettingsTest::row).toList();
        assertEquals(String.join("\n", declared), String.join("\n", rows),
                "README.md's settings table and RelaySettings.ALL differ; the table the declarations give:\n"
                        + declared.stream().collect(Collectors.joining("\n")));
    }

    private static String row(Setting<?> setting) {
        String name = "`" + setting.name() + "`" + (setting.alias() == null ? "" : " (or `" + setting.alias() + "`)");
        String fallback = setting.fallback() == null ? ""
                : "`" + setting.fallback() + "`" + (setting.unit() == null ? "" : " " + setting.unit());
        return ("| " + name + " | " + setting.doc() + " | " + fallback).stripTrailing() + " |";
    }
}

package io.pgtide.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.config.SettingException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo finds its pipelines in the installation (target/pg-tide, the image) from any folder, else in the repository. */
class DemoFolderTest {

    @Test
    void theInstallationsFolderComesFirst(@TempDir Path home, @TempDir Path elsewhere) throws Exception {
        Path installed = Files.createDirectories(home.resolve("examples/demo"));
        Files.createDirectories(elsewhere.resolve("examples/demo"));
        assertEquals(installed, DemoFolder.find(home.toString(), elsewhere));
    }

    @Test
    void withoutALauncherTheWorkingDirectorysFolderIsUsed(@TempDir Path repository) throws Exception {
        Path local = Files.createDirectories(repository.resolve("examples/demo"));
        assertEquals(local, DemoFolder.find(null, repository));
    }

    @Test
    void neitherIsOneLineNamingBothAndTheSetting(@TempDir Path home, @TempDir Path elsewhere) {
        SettingException missing = assertThrows(SettingException.class, () -> DemoFolder.find(home.toString(), elsewhere));
        assertEquals("the demo's pipelines are missing: no " + home.resolve("examples/demo") + " and no "
                + elsewhere.resolve("examples/demo") + " (set PG_TIDE_ROUTES to a folder of pipelines to run instead)",
                missing.getMessage());
    }

    @Test
    void theAssembledLayoutShipsTheDemo() throws Exception {
        // what mvn package copies into target/pg-tide (and the image into /opt/pg-tide): the pom says so
        String pom = Files.readString(Path.of("pom.xml"));
        assertTrue(pom.contains("<copy todir=\"${build.dir}/pg-tide/examples/demo\"><fileset dir=\"examples/demo\"/></copy>"),
                "pom.xml no longer ships examples/demo in target/pg-tide");
        assertTrue(Files.readString(Path.of("src/dist/bin/pg-tide")).contains("-Dpg_tide.home=\"$PG_TIDE_HOME\""),
                "the launcher no longer tells the demo where it is installed");
        assertTrue(Files.readString(Path.of("Dockerfile")).contains("COPY examples/demo ./examples/demo"),
                "the image build no longer has examples/demo to ship");
    }
}

package io.pgtide.relay.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.stream.Stream;

/** Puts this tree's sql/ files into a server's extension folder, so that CREATE EXTENSION runs this tree's SQL. */
final class ExtensionFiles {

    private ExtensionFiles() {
    }

    /** Copies each file that is missing or differs; a no-op when the folder already holds this tree's. */
    static void install(DatabaseServer server) throws SQLException, IOException {
        Path extensionDir;
        try (Connection c = server.connect("postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT setting FROM pg_config WHERE name = 'SHAREDIR'")) {
            rs.next();
            extensionDir = Path.of(rs.getString(1), "extension");
        }
        try (Stream<Path> files = Files.list(Path.of("sql"))) {
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith("pg_tide")).toList()) {
                Path target = extensionDir.resolve(file.getFileName());
                if (!Files.exists(target) || !Arrays.equals(Files.readAllBytes(target), Files.readAllBytes(file))) {
                    // whole or not at all: another test JVM may be reading it for its CREATE EXTENSION
                    Path part = Files.copy(file, extensionDir.resolve(file.getFileName() + "." + ProcessHandle.current().pid()),
                            StandardCopyOption.REPLACE_EXISTING);
                    Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}

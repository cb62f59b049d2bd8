package io.pgtide.relay.testing;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/** Jars built by the tests, as maven-jar-plugin builds them, for the relay's lib/ folder. */
public final class Jars {

    private Jars() {
    }

    /** Writes every file under {@code folder} into {@code jar}, named by its path relative to the folder. */
    public static void of(Path folder, Path jar) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream target = new JarOutputStream(out);
             Stream<Path> walk = Files.walk(folder)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                target.putNextEntry(new JarEntry(folder.relativize(file).toString().replace(File.separatorChar, '/')));
                Files.copy(file, target);
                target.closeEntry();
            }
        }
    }
}

package io.pgtide.relay.bench;

import io.pgtide.relay.testing.ChildRelay;
import java.nio.file.Path;
import java.util.Map;

/** {@code -Dbench.jfr=<prefix>}: a flight recording of each relay JVM a benchmark starts, to profile before tuning. */
final class Profiling {

    private Profiling() {
    }

    /** The environment that makes a child relay record itself into {@code <prefix>-<name>.jfr}, or none. */
    static Map<String, String> env(String name) {
        String prefix = System.getProperty("bench.jfr");
        return prefix == null ? Map.of()
                : Map.of("JAVA_TOOL_OPTIONS", "-XX:StartFlightRecording=settings=profile,filename=" + file(prefix, name));
    }

    /** Writes the recording of a child relay started with {@link #env}, before it is killed (kill -9 writes nothing). */
    static void dump(ChildRelay relay, String name) throws Exception {
        String prefix = System.getProperty("bench.jfr");
        if (prefix != null) {
            Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
            new ProcessBuilder(jcmd.toString(), Long.toString(relay.process().pid()), "JFR.dump",
                    "filename=" + file(prefix, name)).inheritIO().start().waitFor();
        }
    }

    private static String file(String prefix, String name) {
        return prefix + "-" + name + ".jfr";
    }
}

package io.pgtide.relay.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** CPU time and resident memory of a process on this machine, read from /proc (Linux). */
public final class ProcessStats {

    /** Clock ticks per second of /proc/[pid]/stat times (USER_HZ, 100 on Linux). */
    private static final double TICKS_PER_SECOND = 100.0;

    private ProcessStats() {
    }

    /** User plus system CPU seconds the process has used so far; 0 when it is gone. */
    public static double cpuSeconds(long pid) {
        return cpuSeconds(pid, false);
    }

    /**
     * User plus system CPU seconds so far of every process of this command name (as /proc/[pid]/comm has it), with
     * those of their children that have ended: a PostgreSQL server's whole use, its closed sessions included.
     */
    public static double cpuSecondsOf(String command) {
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            return processes.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> command.equals(firstLine(p.resolve("comm"))))
                    .mapToDouble(p -> cpuSeconds(Long.parseLong(p.getFileName().toString()), true))
                    .sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The machine's CPU seconds so far, summed over its cores: {busy, all}; busy leaves out idle and I/O wait. */
    public static double[] machineCpuSeconds() {
        try {
            String[] fields = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            double all = 0;
            for (int i = 1; i < Math.min(fields.length, 9); i++) {   // user to steal; guests are counted in user
                all += Long.parseLong(fields[i]);
            }
            double idle = Long.parseLong(fields[4]) + Long.parseLong(fields[5]);
            return new double[] {(all - idle) / TICKS_PER_SECOND, all / TICKS_PER_SECOND};
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static double cpuSeconds(long pid, boolean withEndedChildren) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // fields after the parenthesised command name, which may itself hold spaces: utime, stime, cutime, cstime
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            if (withEndedChildren) {
                ticks += Long.parseLong(fields[13]) + Long.parseLong(fields[14]);
            }
            return ticks / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException gone) {
            return 0;
        }
    }

    private static String firstLine(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException | RuntimeException gone) {
            return "";
        }
    }

    /** Resident set size in MiB (VmRSS); 0 when the process is gone. */
    public static double rssMiB(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException gone) {
            return 0;
        }
        return 0;
    }
}

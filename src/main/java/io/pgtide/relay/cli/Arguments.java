package io.pgtide.relay.cli;

import java.util.List;
import java.util.Set;

/** A subcommand's arguments checked against the options it knows: an unknown one is refused, never ignored. */
record Arguments(String command, String usage, Set<String> options, boolean operands) {

    /** A wrong argument: one line with the subcommand's usage; the command exits with code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    /** The arguments after the subcommand, once each is known to be one of its options or an operand it takes. */
    List<String> check(List<String> args) {
        for (String arg : args) {
            if (arg.startsWith("-") && !options.contains(arg)) {
                throw new UsageException("pg-tide " + command + ": unknown option \"" + arg + "\" (usage: " + usage + ")");
            }
            if (!arg.startsWith("-") && !operands) {
                throw new UsageException("pg-tide " + command + ": unexpected argument \"" + arg + "\" (usage: " + usage + ")");
            }
        }
        return args;
    }

    /** The one operand a subcommand such as {@code forget <pipeline>} takes. */
    String operand(List<String> args) {
        List<String> operands = check(args).stream().filter(arg -> !arg.startsWith("-")).toList();
        if (operands.size() != 1) {
            throw new UsageException("pg-tide " + command + ": " + (operands.isEmpty() ? "missing" : "one") + " argument"
                    + (operands.isEmpty() ? "" : " only") + " (usage: " + usage + ")");
        }
        return operands.get(0);
    }
}

package io.pgtide.relay.cli;

import io.pgtide.relay.Relay;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.config.SettingException;
import io.pgtide.relay.db.Database;
import java.sql.SQLException;
import java.util.List;

/** The {@code pg-tide} command: {@code run} (the default) relays the pipelines of the routes folder. */
public final class PgTide {

    private PgTide() {
    }

    public static void main(String[] args) {
        String command = args.length == 0 ? "run" : args[0];
        try {
            switch (command) {
                case "run" -> run(RelaySettings.fromEnvironment());
                case "demo" -> Demo.run(RelaySettings.fromEnvironment());
                case "validate" -> System.exit(Validate.run(List.of(args).subList(1, args.length),
                        RelaySettings.fromEnvironment().routesDirectory(), System.out));
                case "status" -> status(RelaySettings.fromEnvironment(), args.length > 1 && args[1].equals("--json"));
                case "help", "--help", "-h" -> usage();
                default -> {
                    System.err.println("pg-tide: unknown command \"" + command + "\"");
                    usage();
                    System.exit(2);
                }
            }
        } catch (SettingException e) {
            fail("configuration: " + e.getMessage(), 2);
        } catch (SQLException e) {
            fail("database: " + e.getMessage(), 1);
        } catch (Exception e) {
            fail(e.getMessage() == null ? e.toString() : e.getMessage(), 1);
        }
    }

    static void run(RelaySettings settings) throws Exception {
        try (Database database = new Database(settings.postgresUrl(), settings.group(), settings.instance(), settings.poolSize())) {
            new Relay(settings, database).run();
        }
    }

    static void status(RelaySettings settings, boolean json) throws Exception {
        try (Database database = new Database(settings.postgresUrl(), settings.group(), settings.instance(), 1)) {
            Status.print(database, settings.routesDirectory(), json, System.out);
        }
    }

    private static void usage() {
        System.out.println("""
                usage: pg-tide [run | status [--json] | validate [--print] [file or folder...] | demo | help]
                  run      relay the pipelines in $PG_TIDE_ROUTES (default routes/) from $PG_TIDE_RELAY_POSTGRES_URL
                  status   each pipeline's lock holder, offset, pending messages and oldest pending age, and the
                           route files of $PG_TIDE_ROUTES the relay refuses
                  validate check route files as the relay does at load, and against the Camel YAML DSL schema,
                           with no database (default: $PG_TIDE_ROUTES); --print shows each pipeline as it runs
                  demo     start an embedded PostgreSQL, publish sample orders and relay them to the log""");
    }

    private static void fail(String message, int code) {
        System.err.println("pg-tide: " + message);
        System.exit(code);
    }
}

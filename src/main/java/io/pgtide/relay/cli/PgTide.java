package io.pgtide.relay.cli;

import io.pgtide.relay.Relay;
import io.pgtide.relay.config.PostgresUrl;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.config.SettingException;
import io.pgtide.relay.db.Database;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;

/** The {@code pg-tide} command: {@code run} (the default) relays the pipelines of the routes folder. */
public final class PgTide {

    private PgTide() {
    }

    private static final Arguments RUN = new Arguments("run", "pg-tide run", Set.of(), false);
    private static final Arguments DEMO = new Arguments("demo", "pg-tide demo", Set.of(), false);
    private static final Arguments STATUS = new Arguments("status", "pg-tide status [--json]", Set.of("--json"), false);
    private static final Arguments DOCTOR = new Arguments("doctor", "pg-tide doctor [--json]", Set.of("--json"), false);
    private static final Arguments FORGET = new Arguments("forget", "pg-tide forget <pipeline>", Set.of(), true);
    private static final Arguments PAUSE = new Arguments("pause", "pg-tide pause <pipeline>", Set.of(), true);
    private static final Arguments RESUME = new Arguments("resume", "pg-tide resume <pipeline>", Set.of(), true);
    private static final Arguments VALIDATE = new Arguments("validate",
            "pg-tide validate [--print] [file or folder...]", Set.of("--print"), true);

    public static void main(String[] args) {
        String command = args.length == 0 ? "run" : args[0];
        List<String> rest = args.length == 0 ? List.of() : List.of(args).subList(1, args.length);
        try {
            switch (command) {
                case "run" -> {
                    RUN.check(rest);
                    run(RelaySettings.fromEnvironment());
                }
                case "demo" -> {
                    DEMO.check(rest);
                    Demo.run(RelaySettings.fromEnvironment());
                }
                case "validate" -> System.exit(Validate.run(VALIDATE.check(rest),
                        RelaySettings.fromEnvironment().routesDirectory(), System.out));
                case "status" -> status(RelaySettings.fromEnvironment(), STATUS.check(rest).contains("--json"));
                case "doctor" -> System.exit(doctor(RelaySettings.fromEnvironment(), DOCTOR.check(rest).contains("--json")));
                case "forget" -> System.exit(forget(RelaySettings.fromEnvironment(), FORGET.operand(rest)));
                case "pause" -> System.exit(pause(RelaySettings.fromEnvironment(), PAUSE.operand(rest), true));
                case "resume" -> System.exit(pause(RelaySettings.fromEnvironment(), RESUME.operand(rest), false));
                case "replay" -> System.exit(replay(RelaySettings.fromEnvironment(), Replay.Request.parse(rest)));
                case "help", "--help", "-h" -> usage();
                default -> {
                    System.err.println("pg-tide: unknown command \"" + command + "\"");
                    usage();
                    System.exit(2);
                }
            }
        } catch (Arguments.UsageException e) {
            System.err.println(e.getMessage());
            System.exit(2);
        } catch (SettingException e) {
            fail("configuration: " + e.getMessage(), 2);
        } catch (SQLException e) {
            fail("database: " + e.getMessage(), 1);
        } catch (Exception e) {
            fail(e.getMessage() == null ? e.toString() : e.getMessage(), 1);
        }
    }

    static void run(RelaySettings settings) throws Exception {
        // every setting is checked before the first connection: a wrong one is refused in one line, at once
        PostgresUrl url = settings.postgresUrl();
        settings.existingRoutesDirectory();
        try (Database database = new Database(url, settings.group(), settings.instance(), settings.value(RelaySettings.POOL_SIZE))) {
            new Relay(settings, database).run();
        }
    }

    static void status(RelaySettings settings, boolean json) throws Exception {
        try (Database database = new Database(settings.postgresUrl(), settings.group(), settings.instance(), 1)) {
            Status.print(database, settings.routesDirectory(), json, System.out);
        }
    }

    static int doctor(RelaySettings settings, boolean json) throws Exception {
        try (Database database = new Database(settings.postgresUrl(), settings.group(), settings.instance(), 1)) {
            return Doctor.run(settings.routesDirectory(), database, json, System.out);
        }
    }

    static int forget(RelaySettings settings, String pipeline) throws Exception {
        try (Database database = new Database(settings.postgresUrl(), settings.group(), settings.instance(), 1)) {
            return Forget.run(database, RelaySettings.name("pipeline", pipeline), System.out);
        }
    }

    static int pause(RelaySettings settings, String pipeline, boolean pause) throws Exception {
        try (Database database = new Database(settings.postgresUrl(), settings.group(), settings.instance(), 1)) {
            return Pause.run(database, RelaySettings.name("pipeline", pipeline), pause, System.out);
        }
    }

    static int replay(RelaySettings settings, Replay.Request request) throws Exception {
        try (Database database = new Database(settings.postgresUrl(), settings.group(), settings.instance(), 1)) {
            return Replay.run(database, request, System.out, System.err);
        }
    }

    private static void usage() {
        System.out.println("""
                usage: pg-tide [run | status [--json] | doctor [--json] | validate [--print] [file or folder...]
                                | forget <pipeline> | pause <pipeline> | resume <pipeline>
                                | replay --pipeline <p> --from <id | tx:id | time> [--to ...] [--limit n] --preview
                                | demo | help]
                  run      relay the pipelines in $PG_TIDE_ROUTES (default routes/) from $PG_TIDE_RELAY_POSTGRES_URL
                  status   each pipeline's lock holder, offset, pending messages and oldest pending age, and the
                           route files of $PG_TIDE_ROUTES the relay refuses
                  doctor   check what an operator checks first (database, extension version, grants, open
                           transactions holding delivery back, owners, lag, dead letters, clock); exits 1 on a failure
                  validate check route files as the relay does at load, and against the Camel YAML DSL schema,
                           with no database (default: $PG_TIDE_ROUTES); --print shows each pipeline as it runs
                  forget   unregister a pipeline no relay runs any more: its offset stops holding retention back
                  pause    stop a pipeline on every relay of the group (after its batch in flight), until resumed
                  resume   let a paused pipeline run again, from its offset
                  replay   print as JSON lines what a rewind to --from would deliver again; moves nothing
                  demo     start an embedded PostgreSQL, publish sample orders and relay them to the log""");
    }

    /** One line, whatever the message holds: a server error's detail lines ("Position: ...") are folded in. */
    private static void fail(String message, int code) {
        System.err.println("pg-tide: " + message.replaceAll("\\s+", " ").strip());
        System.exit(code);
    }
}

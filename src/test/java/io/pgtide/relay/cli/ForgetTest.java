package io.pgtide.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgtide.relay.db.Database;
import io.pgtide.relay.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** {@code pg-tide forget <pipeline>}: an abandoned registration goes; a running pipeline is refused and kept. */
class ForgetTest {

    @Test
    void unregistersAPipelineNoRelayRunsAndRefusesOneThatRuns() throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders");
             Database database = new Database(db.url(), "default", "forget-test", 1);
             Connection holder = db.connect(); Statement st = holder.createStatement()) {
            db.execute("SELECT tide.outbox_publish('orders', '{}') FROM generate_series(1, 3)");
            db.execute("SELECT count(*) FROM tide.relay_poll('gone', 'orders')");
            db.execute("SELECT count(*) FROM tide.relay_poll('running', 'orders')");
            st.execute("SET application_name = 'relay-x'");
            st.execute("SELECT pg_advisory_lock(tide.relay_lock_key('running'))");

            StringBuilder out = new StringBuilder();
            assertEquals(1, forget(database, "running", out));
            assertEquals("pg-tide forget: pipeline \"running\" is running (held by relay-x (pid " + pid(db, "relay-x")
                    + ")): remove its file from every relay first", out.toString().strip());

            out.setLength(0);
            assertEquals(0, forget(database, "gone", out));
            assertEquals("pg-tide forget: pipeline \"gone\" of outbox \"orders\" unregistered (its offset was 0:0); a"
                    + " pipeline of that name would start again from the oldest message kept", out.toString().strip());

            out.setLength(0);
            assertEquals(1, forget(database, "gone", out));
            assertEquals("pg-tide forget: no pipeline \"gone\" is registered in this relay group", out.toString().strip());

            assertEquals("running", db.queryOne(String.class, "SELECT string_agg(pipeline, ',') FROM tide.relay_consumer_offsets"));
            assertEquals(Boolean.FALSE, db.queryOne(Boolean.class,
                    "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND pid <> " + pid(db, "relay-x")
                            + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"),
                    "forget released the lock it took");
        }
    }

    private static int forget(Database database, String pipeline, StringBuilder text) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = Forget.run(database, pipeline, new PrintStream(out, true, StandardCharsets.UTF_8));
        text.append(out.toString(StandardCharsets.UTF_8));
        return exit;
    }

    private static int pid(TestDatabase db, String applicationName) throws Exception {
        return db.queryOne(Integer.class, "SELECT pid FROM pg_stat_activity WHERE application_name = ?", applicationName);
    }
}

package io.pgtide.relay.extension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgtide.relay.db.RelayGrants;
import io.pgtide.relay.testing.CnpgBootstrap;
import io.pgtide.relay.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, item 4: a populated 0.1.0 install, as released, moves to 0.2.0 with ALTER EXTENSION pg_tide UPDATE,
 * losing nothing; pipelines polling across the upgrade continue from their offsets; and the upgraded catalog
 * equals a fresh 0.2.0 install, grants of the CloudNativePG relay role included.
 */
class UpgradeTest {

    /** The last commit that changed sql/pg_tide--0.1.0.sql: 0.1.0 as released. */
    private static final String RELEASED = "172f5367afaf28bd73860455f4843896052c2a40";

    /** The postInitSQL's grants, without the CREATE EXTENSION and CREATE ROLE (the role is server-wide). */
    private static final List<String> GRANTS = CnpgBootstrap.POST_INIT_SQL.stream()
            .filter(sql -> sql.startsWith("GRANT")).toList();

    /**
     * The catalog of schema tide, one line per fact: columns (type, nullability, default, collation, identity,
     * position), relations with their grants, indexes, constraints, functions (signature, result, volatility,
     * security, settings, grants, source), views, the schema's grants, and the extension's members.
     */
    private static final String CATALOG = """
            SELECT 'column ' || c.relname || '.' || a.attname || ' #' || a.attnum || ' ' || format_type(a.atttypid, a.atttypmod)
                   || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                   || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
                   || coalesce(' collate ' || co.collname, '') || ' identity ' || a.attidentity::text || ' generated ' || a.attgenerated::text
              FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
              LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              LEFT JOIN pg_collation co ON co.oid = a.attcollation AND co.collname <> 'default'
             WHERE c.relnamespace = 'tide'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT 'relation ' || c.relname || ' kind ' || c.relkind::text || ' owner ' || c.relowner::regrole
                   || ' acl ' || coalesce(c.relacl::text, 'default')
              FROM pg_class c WHERE c.relnamespace = 'tide'::regnamespace
            UNION ALL
            SELECT 'index ' || pg_get_indexdef(i.indexrelid)
              FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'tide'::regnamespace
            UNION ALL
            SELECT 'constraint ' || k.conrelid::regclass || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
              FROM pg_constraint k WHERE k.connamespace = 'tide'::regnamespace
            UNION ALL
            SELECT 'function ' || p.oid::regprocedure || ' (' || pg_get_function_arguments(p.oid) || ') returns '
                   || pg_get_function_result(p.oid) || ' ' || l.lanname || ' volatile ' || p.provolatile::text
                   || ' definer ' || p.prosecdef::text || ' rows ' || p.prorows::text || ' config ' || coalesce(p.proconfig::text, '')
                   || ' acl ' || coalesce(p.proacl::text, 'default') || ' source ' || md5(p.prosrc)
              FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.pronamespace = 'tide'::regnamespace
            UNION ALL
            SELECT 'view ' || c.relname || ' ' || pg_get_viewdef(c.oid)
              FROM pg_class c WHERE c.relnamespace = 'tide'::regnamespace AND c.relkind = 'v'
            UNION ALL
            SELECT 'schema owner ' || n.nspowner::regrole || ' acl ' || coalesce(n.nspacl::text, 'default')
              FROM pg_namespace n WHERE n.nspname = 'tide'
            UNION ALL
            SELECT 'member ' || pg_describe_object(dep.classid, dep.objid, dep.objsubid)
              FROM pg_depend dep JOIN pg_extension e ON e.oid = dep.refobjid
             WHERE dep.refclassid = 'pg_extension'::regclass AND dep.deptype = 'e' AND e.extname = 'pg_tide'
            UNION ALL
            SELECT 'extension ' || e.extname || ' ' || e.extversion || ' schema ' || e.extnamespace::regnamespace
              FROM pg_extension e WHERE e.extname = 'pg_tide'
            ORDER BY 1
            """;

    /** Everything a user keeps in pg_tide, as text, in a stable order. */
    private static final List<String> DATA = List.of(
            "SELECT t::text FROM (SELECT id, outbox_name, tx, key, payload, headers, created_at"
                    + " FROM tide.tide_outbox_messages ORDER BY id) t",
            "SELECT t::text FROM (SELECT relay_group, pipeline, outbox_name, last_tx, last_id, owner, updated_at,"
                    + " isolate_tx, isolate_id FROM tide.relay_consumer_offsets ORDER BY 1, 2, 3) t",
            "SELECT t::text FROM (SELECT * FROM tide.relay_dlq ORDER BY dlq_id) t",
            "SELECT t::text FROM (SELECT outbox_name, retention_hours, created_at, relay_waiting"
                    + " FROM tide.tide_outbox_config ORDER BY outbox_name) t",
            "SELECT t::text FROM (SELECT * FROM tide.tide_inbox_config ORDER BY inbox_name) t",
            "SELECT t::text FROM (SELECT * FROM tide.inbox_in1 ORDER BY id) t");

    private TestDatabase upgraded;
    private TestDatabase fresh;

    @BeforeEach
    void installBoth() throws SQLException {
        CnpgBootstrap.dropRoles("relay_user");
        upgraded = TestDatabase.withExtension("0.1.0");
        fresh = TestDatabase.withExtension();
        CnpgBootstrap.apply(upgraded); // CREATE EXTENSION IF NOT EXISTS leaves 0.1.0; makes relay_user
        for (TestDatabase db : List.of(upgraded, fresh)) {
            for (String grant : GRANTS) {
                db.execute(grant);
            }
            db.execute("SELECT tide.inbox_create('in1')");
        }
    }

    @AfterEach
    void dropAll() throws SQLException {
        upgraded.close();
        fresh.close();
        CnpgBootstrap.dropRoles("relay_user");
    }

    @Test
    void theReleasedScriptIsTheOneInGitHistory() throws Exception {
        String released = git("show", RELEASED + ":sql/pg_tide--0.1.0.sql");
        assumeTrue(released != null, "no git history here");
        assertEquals(released, Files.readString(Path.of("sql/pg_tide--0.1.0.sql")),
                "sql/pg_tide--0.1.0.sql was edited after its release: add a new version instead");
    }

    @Test
    void aPopulatedInstallUpgradesLosingNothingAndPipelinesContinue() throws Exception {
        publish("orders", 10);
        publish("audit", 5);
        try (Connection p1Lock = upgraded.connect();
             Poller p1 = new Poller(upgraded.connect(), p1Lock, "p1", "orders");
             Poller p2 = poller("p2", "orders");
             Poller p3 = poller("p3", "audit")) {
            List<Poller.Row> orders = p1.pollAtLeast(10, 10);
            assertTrue(p1.advance(orders.get(3)));
            Poller.Row poison = p1.poll(1).get(0);
            try (Statement st = p1Lock.createStatement()) {
                st.execute("SELECT tide.relay_dead_letter('p1', 'orders', '" + poison.tx() + "', " + poison.id() + ", 'rejected', 3)");
            }
            assertEquals(1, p2.pollAtLeast(1, 1).size()); // registered, nothing delivered
            List<Poller.Row> audit = p3.pollAtLeast(5, 5);
            assertTrue(p3.advance(audit.get(1)));
            upgraded.execute("SELECT tide.inbox_write('in1', '[{\"id\": \"orders:1\", \"payload\": {\"n\": 1}},"
                    + " {\"id\": \"orders:2\", \"payload\": {\"n\": 2}}]')");
            upgraded.execute("SELECT tide.inbox_mark_processed('in1', 'orders:1')");
            List<List<String>> before = data(upgraded);

            upgraded.execute("ALTER EXTENSION pg_tide UPDATE");

            assertEquals("0.2.0", upgraded.queryOne(String.class, "SELECT tide.version()"));
            assertEquals(before, data(upgraded), "nothing lost or changed by the upgrade");
            // the sessions that polled before the upgrade go on from their offsets
            assertEquals(ids(orders.subList(5, 10)), ids(p1.drainAtLeast(5)));
            assertEquals(ids(orders), ids(p2.drainAtLeast(10)));
            assertEquals(ids(audit.subList(2, 5)), ids(p3.drainAtLeast(3)));
            publish("orders", 1);
            assertEquals(1, p1.drainAtLeast(1).size());
            assertEquals(1L, upgraded.queryOne(Long.class,
                    "SELECT count(*) FROM tide.tide_outbox_messages WHERE size_bytes IS NOT NULL"));
        }
    }

    @Test
    void theUpgradedCatalogEqualsAFreshInstall() throws Exception {
        upgraded.execute("ALTER EXTENSION pg_tide UPDATE");
        List<String> expected = fresh.queryList(String.class, CATALOG);
        List<String> actual = upgraded.queryList(String.class, CATALOG);
        assertTrue(expected.size() > 100, "the catalog query sees schema tide: " + expected.size());
        List<String> missing = new ArrayList<>(expected);
        missing.removeAll(actual);
        List<String> extra = new ArrayList<>(actual);
        extra.removeAll(expected);
        assertEquals(List.of(), missing, "in a fresh install, not in the upgraded one (extra there: " + extra + ")");
        assertEquals(List.of(), extra, "in the upgraded install, not in a fresh one");
        assertEquals(expected, actual);
    }

    @Test
    void theRelayRoleHasWhatItNeedsOnBoth() throws Exception {
        upgraded.execute("ALTER EXTENSION pg_tide UPDATE");
        for (TestDatabase db : List.of(upgraded, fresh)) {
            db.execute("SELECT tide.outbox_create('orders')");
            db.execute("SELECT tide.outbox_publish('orders', '{\"n\": 1}')");
            try (Connection poll = DriverManager.getConnection(db.jdbcUrl(), "relay_user", "strong-password");
                 Connection lock = DriverManager.getConnection(db.jdbcUrl(), "relay_user", "strong-password");
                 Poller poller = new Poller(poll, lock, "p1", "orders")) {
                RelayGrants.check(poll);
                assertEquals(1, poller.drainAtLeast(1).size());
            }
        }
    }

    private Poller poller(String pipeline, String outbox) throws SQLException {
        return new Poller(upgraded.connect(), upgraded.connect(), pipeline, outbox);
    }

    private void publish(String outbox, int count) throws SQLException {
        upgraded.execute("SELECT tide.outbox_create('" + outbox + "')");
        upgraded.execute("SELECT tide.outbox_publish('" + outbox + "', jsonb_build_object('n', g), '{\"h\": 1}', 'k' || g % 3)"
                + " FROM generate_series(1, " + count + ") g");
    }

    private static List<Long> ids(List<Poller.Row> rows) {
        return rows.stream().map(Poller.Row::id).collect(Collectors.toList());
    }

    private static List<List<String>> data(TestDatabase db) throws SQLException {
        List<List<String>> tables = new ArrayList<>();
        for (String sql : DATA) {
            tables.add(db.queryList(String.class, sql));
        }
        assertTrue(IntStream.range(0, 4).allMatch(i -> !tables.get(i).isEmpty()), "filled: " + tables);
        return tables;
    }

    /** The output of a git command in this checkout, or null when git or the history is not there. */
    private static String git(String... args) throws InterruptedException {
        List<String> command = new ArrayList<>(List.of("git"));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            process.getInputStream().transferTo(out);
            return process.waitFor() == 0 ? out.toString(java.nio.charset.StandardCharsets.UTF_8) : null;
        } catch (IOException e) {
            return null;
        }
    }
}

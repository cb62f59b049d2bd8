package io.pgtide.relay;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.db.Database;
import io.pgtide.relay.db.ParameterCountDataSource;
import io.pgtide.relay.db.RelayGrants;
import io.pgtide.relay.db.SchemaCheck;
import io.pgtide.relay.deadletter.DeadLetters;
import io.pgtide.relay.deadletter.PermanentFailures;
import io.pgtide.relay.health.DeliveryFailures;
import io.pgtide.relay.health.RelayReadiness;
import io.pgtide.relay.health.StartupHealth;
import io.pgtide.relay.lock.NotPaused;
import io.pgtide.relay.lock.PipelineLockPolicy;
import io.pgtide.relay.lock.StartCondition;
import io.pgtide.relay.metrics.LagSampler;
import io.pgtide.relay.metrics.RelayMetrics;
import io.pgtide.relay.offset.OffsetAdvance;
import io.pgtide.relay.batch.OutboxRowMapperFactory;
import io.pgtide.relay.retention.SweepSchedule;
import io.pgtide.relay.route.PipelineRouteConfiguration;
import io.pgtide.relay.route.OutboxExists;
import io.pgtide.relay.route.RouteFolder;
import io.pgtide.relay.route.StartPosition;
import io.pgtide.relay.support.PeriodicService;
import io.pgtide.relay.trace.Tracing;
import io.pgtide.relay.wakeup.OutboxListener;
import io.pgtide.relay.wakeup.WakeableScheduler;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.stream.Collectors;
import org.apache.camel.CamelContext;
import org.apache.camel.ExtendedStartupListener;
import org.apache.camel.cli.connector.DefaultCliConnectorFactory;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.spi.CliConnectorFactory;
import org.apache.camel.spi.ScheduledPollConsumerScheduler;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One relay process: a camel-main runtime whose routes are the pipeline files of the routes folder,
 * with the pieces they share bound by name: {@code pgTide} (the pool camel-sql polls with),
 * {@code pgTideLock} (the route policy), {@code pgTideWakeup} (the poll scheduler woken by new messages),
 * {@code pgTideRows} (camel-sql's row mapping, polled rows read straight into {@code OutboxRow}s) and the
 * {@code pg-tide} route configuration.
 */
public final class Relay {

    public static final String DATA_SOURCE = "pgTide";
    public static final String LOCK_POLICY = "pgTideLock";
    public static final String WAKEUP_SCHEDULER = "pgTideWakeup";
    public static final String ROW_MAPPER = "pgTideRows";

    /**
     * Where Camel settings come from; the first location that has a setting wins, so the working directory's file
     * overrides the relay's defaults (the application.properties resource).
     */
    static final String PROPERTY_LOCATIONS =
            "file:application.properties;optional=true,classpath:application.properties;optional=true";

    private static final Logger LOG = LoggerFactory.getLogger(Relay.class);

    private final Main main = new Main();
    private final RelaySettings settings;
    private final Database database;
    private final PipelineLockPolicy locks;
    private final RelayMetrics metrics;
    private final LagSampler sampler;
    private final Tracing tracing;
    private RouteFolder routeFolder;
    private StartupHealth startupHealth;

    public Relay(RelaySettings settings, Database database) {
        this(settings, database, Tracing.fromSettings(settings));
    }

    /** A relay whose tracing, when {@code PG_TIDE_TRACING} turns it on, is the given one (for embedding and tests). */
    public Relay(RelaySettings settings, Database database, Tracing tracing) {
        this.settings = settings;
        this.tracing = tracing;
        this.database = database;
        this.locks = new PipelineLockPolicy(database, settings.instance(), settings.value(RelaySettings.LOCK_INTERVAL),
                StartCondition.allOf(new OutboxExists(), new StartPosition(), new NotPaused()));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        this.metrics = new RelayMetrics(registry, locks::runs);
        this.sampler = new LagSampler(database, metrics, settings.value(RelaySettings.METRICS_INTERVAL));
        locks.onPipelines(metrics::track, metrics::untrack);

        main.setAppName("pg-tide");
        main.setPropertyPlaceholderLocations(PROPERTY_LOCATIONS);
        initialProperties(settings);
        main.bind(MicrometerConstants.METRICS_REGISTRY_NAME, registry);
        // routes get the pool through ParameterCountDataSource: no server round trips for a poll's parameter count
        main.bind(DATA_SOURCE, new ParameterCountDataSource(database.pool()));
        main.bind(LOCK_POLICY, locks);
        main.bind(ROW_MAPPER, new OutboxRowMapperFactory());
        main.bind("pgTideCamelCli", camelCli(settings.value(RelaySettings.CAMEL_CLI)));
        main.configure().addRoutesBuilder(new PipelineRouteConfiguration(new OffsetAdvance(locks, metrics),
                new DeadLetters(locks, metrics), new PermanentFailures(settings.value(RelaySettings.PERMANENT_FAILURES)),
                new DeliveryFailures(locks), metrics, tracing.sendSpans()));
        main.addMainListener(new MainListenerSupport() {
            @Override
            public void afterConfigure(BaseMainSupport support) {
                // Camel's server takes the metrics port over as the context starts
                closeStartupHealth();
                try {
                    configure(support.getCamelContext());
                } catch (Exception e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            }
        });
    }

    /** Camel's CLI connector, off where one JVM runs several relays: each would delete the others' ~/.camel files. */
    private static CliConnectorFactory camelCli(boolean enabled) {
        DefaultCliConnectorFactory factory = new DefaultCliConnectorFactory();
        factory.setEnabled(enabled);
        factory.setRuntime("pg-tide");
        return factory;
    }

    /**
     * The one Camel setting that follows a relay setting; the other defaults are in the application.properties
     * resource, which any camel.* setting overrides (application.properties in the working directory, -D,
     * CAMEL_* variables).
     */
    private void initialProperties(RelaySettings settings) {
        main.addInitialProperty("camel.management.port", String.valueOf(settings.value(RelaySettings.METRICS_PORT)));
    }

    private void configure(CamelContext context) throws Exception {
        // services stop after the routes: in-flight batches advance their offsets before the locks go
        context.addService(new LockRelease());
        context.addService(sampler);
        context.addService(tracing);
        OutboxListener listener = new OutboxListener(database, Duration.ofSeconds(2));
        context.addService(listener);
        // a prototype: each pipeline's consumer gets a scheduler of its own
        context.getRegistry().bindAsPrototype(WAKEUP_SCHEDULER, ScheduledPollConsumerScheduler.class,
                () -> new WakeableScheduler(listener));
        if (!settings.value(RelaySettings.SWEEP_INTERVAL).isZero()) {
            context.addService(new SweepSchedule(database, settings.value(RelaySettings.SWEEP_INTERVAL)));
        }
        routeFolder = new RouteFolder(context, settings.routesDirectory());
        routeFolder.onFailuresChanged(failures -> metrics.refusedRouteFiles(failures.stream().collect(
                Collectors.toMap(failure -> failure.file().getFileName().toString(), failure -> failure.problems().size()))));
        HealthCheckRegistry.get(context).register(new RelayReadiness(sampler, routeFolder::failures, locks::waiting));
        // one file at a time into the started context: a route that cannot be created (a bad endpoint
        // URI, a missing component) fails its own file only, not the relay
        context.addStartupListener(new ExtendedStartupListener() {
            @Override
            public void onCamelContextStarted(CamelContext started, boolean alreadyStarted) {
            }

            @Override
            public void onCamelContextFullyStarted(CamelContext started, boolean alreadyStarted) throws Exception {
                routeFolder.loadAll();
            }
        });
        if (!settings.value(RelaySettings.RELOAD_INTERVAL).isZero()) {
            // polling, not file events: Kubernetes updates a mounted ConfigMap by swapping a symlink, which events miss
            context.addService(PeriodicService.every("pg-tide-route-watch", settings.value(RelaySettings.RELOAD_INTERVAL), routeFolder::rescan));
        }
    }

    /**
     * Checks the database and the schema, then runs until the process is told to stop. The health port answers
     * from the first moment: liveness UP, readiness DOWN while the relay waits for its database.
     */
    public void run() throws Exception {
        try {
            startupHealth = StartupHealth.listen(settings.value(RelaySettings.METRICS_PORT));
            checkDatabase();
            main.run();
        } finally {
            closeStartupHealth();
        }
    }

    /** Starts in the background (for embedding and tests); {@link #stop()} ends it. */
    public CamelContext start() throws Exception {
        try {
            startupHealth = StartupHealth.listen(settings.value(RelaySettings.METRICS_PORT));
            checkDatabase();
            main.start();
            return main.getCamelContext();
        } finally {
            closeStartupHealth();
        }
    }

    private synchronized void closeStartupHealth() {
        if (startupHealth != null) {
            startupHealth.close();
            startupHealth = null;
        }
    }

    /**
     * A plain session, not the pool: an unreachable database fails in one line at once or, with
     * {@code PG_TIDE_STARTUP_TIMEOUT_S}, after waiting that long for it (a sidecar starts with its server). The wait
     * logs each new reason once, and the end of the wait, not every attempt.
     */
    private void checkDatabase() throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + settings.value(RelaySettings.STARTUP_TIMEOUT).toNanos();
        String waitingFor = null;
        while (true) {
            try (Connection connection = database.openSession("pg_tide start-up")) {
                if (waitingFor != null) {
                    LOG.info("The database answers: starting");
                }
                SchemaCheck.ensureInstalled(connection);
                RelayGrants.check(connection);
                return;
            } catch (SQLException e) {
                boolean notYet = e.getSQLState() != null
                        && (e.getSQLState().startsWith("08") || e.getSQLState().equals("57P03"));
                if (!notYet || System.nanoTime() > deadline) {
                    throw e;
                }
                if (!e.getMessage().equals(waitingFor)) {
                    LOG.warn("Waiting for the database (up to {} s, {}): {}", settings.value(RelaySettings.STARTUP_TIMEOUT).toSeconds(),
                            RelaySettings.STARTUP_TIMEOUT.name(), e.getMessage());
                    waitingFor = e.getMessage();
                }
                startupHealth.waiting("waiting for the database: " + e.getMessage());
                Thread.sleep(2000);
            }
        }
    }

    public void stop() throws Exception {
        main.stop();
    }

    /** The routes folder as loaded: its broken files, and rescans. */
    public RouteFolder routeFolder() {
        return routeFolder;
    }

    public PipelineLockPolicy locks() {
        return locks;
    }

    /** Releases every pipeline lock when the context stops. */
    private final class LockRelease extends ServiceSupport {
        @Override
        protected void doStop() {
            locks.releaseAll();
        }
    }
}

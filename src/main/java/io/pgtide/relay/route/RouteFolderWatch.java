package io.pgtide.relay.route;

import java.time.Duration;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Looks at the routes folder every interval and applies edits ({@link RouteFolder#rescan()}). Polling,
 * not file events: Kubernetes updates a mounted ConfigMap by swapping a symlink, which file events miss.
 */
public final class RouteFolderWatch extends ServiceSupport implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(RouteFolderWatch.class);

    private final RouteFolder folder;
    private final Duration interval;
    private Thread thread;

    public RouteFolderWatch(RouteFolder folder, Duration interval) {
        this.folder = folder;
        this.interval = interval;
    }

    @Override
    protected void doStart() {
        thread = new Thread(this, "pg-tide-route-watch");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    protected void doStop() {
        if (thread != null) {
            thread.interrupt();
        }
    }

    @Override
    public void run() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(interval.toMillis());
                folder.rescan();
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                LOG.warn("Looking at the routes folder failed: {}", e.getMessage());
            }
        }
    }
}

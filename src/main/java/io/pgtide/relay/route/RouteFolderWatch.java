package io.pgtide.relay.route;

import io.pgtide.relay.support.PeriodicService;
import java.time.Duration;

/**
 * Looks at the routes folder every interval and applies edits ({@link RouteFolder#rescan()}). Polling,
 * not file events: Kubernetes updates a mounted ConfigMap by swapping a symlink, which file events miss.
 */
public final class RouteFolderWatch extends PeriodicService {

    private final RouteFolder folder;

    public RouteFolderWatch(RouteFolder folder, Duration interval) {
        super("pg-tide-route-watch", interval, false);
        this.folder = folder;
    }

    @Override
    protected void tick() throws Exception {
        folder.rescan();
    }
}

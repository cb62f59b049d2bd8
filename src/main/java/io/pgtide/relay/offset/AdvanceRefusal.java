package io.pgtide.relay.offset;

import java.sql.SQLException;
import java.util.Locale;

/**
 * Why an offset advance did not move the offset, as the {@code cause} label of
 * {@code pg_tide_relay_offset_refusals_total}. Each is harmless to delivery (the batch is sent again), but some
 * should never happen: a batch beyond the horizon means a poll returned rows a running transaction could still
 * precede, and shows in production only through this count.
 */
public enum AdvanceRefusal {
    /** The relay had already lost the pipeline's lock before it tried. */
    LOCK_LOST,
    /** The server refused it: this session does not hold the pipeline's lock (SQLSTATE 55P03). */
    LOCK_NOT_HELD,
    /** The server refused it: the batch's end is not below the oldest running transaction (SQLSTATE 22023). */
    HORIZON,
    /** The pipeline is not registered any more (SQLSTATE 42704): it was forgotten while it ran. */
    NOT_REGISTERED,
    /** The stored offset is already at or past the batch's end. */
    NOT_AHEAD,
    /** The batch was polled for another pipeline than the route's id. */
    ROUTE_ID,
    /** Any other error, such as a lost connection. */
    ERROR;

    /** The metric label. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The refusal a failed {@code tide.relay_advance} stands for, by its SQLSTATE. */
    public static AdvanceRefusal of(SQLException e) {
        return switch (e.getSQLState() == null ? "" : e.getSQLState()) {
            case "55P03" -> LOCK_NOT_HELD;
            case "22023" -> HORIZON;
            case "42704" -> NOT_REGISTERED;
            default -> ERROR;
        };
    }
}

package io.pgtide.relay.batch;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;

/**
 * A row's {@code created_at} as PostgreSQL prints a timestamptz (ISO DateStyle, which PgJDBC sets on every session):
 * {@code 2026-12-05 18:35:31.123456+00}. The poll reads it as text and only tracing and CloudEvents parse it.
 */
public final class CreatedAt {

    private static final DateTimeFormatter POSTGRES = new DateTimeFormatterBuilder()
            .appendPattern("uuuu-MM-dd HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true).optionalEnd()
            .appendOffset("+HH:mm:ss", "+00")
            .toFormatter();

    private CreatedAt() {
    }

    /** The instant of a printed timestamptz. */
    public static Instant parse(String text) {
        return OffsetDateTime.parse(text, POSTGRES).toInstant();
    }

    /** An instant printed the way PostgreSQL prints it in UTC. */
    static String text(Instant instant) {
        return POSTGRES.format(instant.atOffset(ZoneOffset.UTC));
    }
}

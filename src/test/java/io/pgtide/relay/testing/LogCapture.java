package io.pgtide.relay.testing;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/** Collects every log line of the relay (message and causes) while open, to find the error a user would read. */
public final class LogCapture extends AbstractAppender implements AutoCloseable {
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private LogCapture() {
        // a fresh name per capture: the root logger keys its appenders by name
        super("test-capture-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY);
    }

    /** Starts capturing on the root logger. */
    public static LogCapture open() {
        LogCapture capture = new LogCapture();
        capture.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().addAppender(capture, Level.ALL, null);
        context.updateLoggers();
        return capture;
    }

    @Override
    public void append(LogEvent event) {
        StringBuilder line = new StringBuilder(event.getLevel() + " [" + event.getThreadName() + "] "
                + event.getMessage().getFormattedMessage());
        for (Throwable t = event.getThrown(); t != null && t.getCause() != t; t = t.getCause()) {
            line.append(" | ").append(t);
        }
        lines.add(line.toString());
    }

    /** True when one line holds every one of the words. */
    public boolean contains(String... words) {
        return find(words) != null;
    }

    /** How many lines hold every one of the words. */
    public long count(String... words) {
        return lines.stream().filter(line -> Arrays.stream(words).allMatch(line::contains)).count();
    }

    /** The first line holding every word, or null, for assertions on its wording. */
    public String find(String... words) {
        return lines.stream().filter(line -> Arrays.stream(words).allMatch(line::contains)).findFirst().orElse(null);
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender(getName());
        context.updateLoggers();
        stop();
    }
}

package io.pgtide.relay.deadletter;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;
import org.apache.camel.Exchange;
import org.apache.camel.InvalidPayloadException;
import org.apache.camel.NoTypeConversionAvailableException;
import org.apache.camel.Predicate;
import org.apache.camel.TypeConversionException;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Tells a sink's rejection of the message itself (it will fail again however often it is sent: an
 * HTTP 400/413/415/422, a record too large, a constraint the data breaks) from a failure of the way
 * there or of the setup (a timeout, a refused connection, a 5xx, a 401), which retries, waiting or a
 * fix cure. The first kind goes to the dead letters at once, without retries; an outage never does
 * ({@link TransientFailures}); anything else goes there once its retries are exhausted ({@link Poison}).
 */
public final class PermanentFailures implements Predicate {

    /** Exceptions that reject the message whatever happens around it. */
    private static final List<Class<? extends Throwable>> PERMANENT = List.of(
            RecordTooLargeException.class,
            InvalidRecordException.class,
            SerializationException.class,
            InvalidPayloadException.class,
            NoTypeConversionAvailableException.class,
            TypeConversionException.class,
            JsonProcessingException.class);

    private final Set<String> extra;

    /** @param extraClassNames more exception classes to treat as permanent rejections */
    public PermanentFailures(List<String> extraClassNames) {
        this.extra = Set.copyOf(extraClassNames);
    }

    @Override
    public boolean matches(Exchange exchange) {
        Throwable caught = exchange.getException() != null ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        return permanent(caught);
    }

    /** True when the error, or one of its causes, is a permanent rejection. */
    public boolean permanent(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (rejects(t)) {
                return true;
            }
        }
        return false;
    }

    private boolean rejects(Throwable t) {
        if (PERMANENT.stream().anyMatch(c -> c.isInstance(t))) {
            return true;
        }
        for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
            if (extra.contains(c.getName())) {
                return true;
            }
        }
        if (t instanceof SQLException sql && sql.getSQLState() != null) {
            // data exception or integrity constraint violation: this row, not the connection
            return sql.getSQLState().startsWith("22") || sql.getSQLState().startsWith("23");
        }
        if (t instanceof HttpOperationFailedException http) {
            // bad request, too large, unsupported type, unprocessable: about this body. Other 4xx
            // (401, 403, 404...) say the setup is wrong and would send every message to the dead letters.
            int status = http.getStatusCode();
            return status == 400 || status == 413 || status == 415 || status == 422;
        }
        return false;
    }
}

package io.pgtide.relay.support;

import org.apache.camel.Exchange;
import org.apache.camel.ExchangePropertyKey;

/** An error's message and its causes' in one line: the outermost often says little, a cause says why. */
public final class Causes {

    private Causes() {
    }

    /** Each distinct message of the cause chain, outermost first, joined with ": ", whitespace folded. */
    public static String describe(Throwable error) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().replaceAll("\\s+", " ");
            if (!text.toString().contains(message)) {
                text.append(text.isEmpty() ? "" : ": ").append(message);
            }
        }
        return text.toString();
    }

    /** The innermost cause's type and the whole chain's messages: why a send failed, as the relay reports it. */
    public static String reason(Throwable error) {
        Throwable cause = innermost(error);
        return cause == null ? "unknown error" : cause.getClass().getSimpleName() + ": " + describe(error);
    }

    /** The last cause of the chain, or null for null. */
    public static Throwable innermost(Throwable error) {
        Throwable t = error;
        while (t != null && t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    /** The failure of an exchange: while the error handler retries, Camel keeps it in a property. */
    public static Exception of(Exchange exchange) {
        Exception error = exchange.getProperty(ExchangePropertyKey.EXCEPTION_CAUGHT, Exception.class);
        return error == null ? exchange.getException() : error;
    }
}

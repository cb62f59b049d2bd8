package io.pgtide.relay.support;

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
}

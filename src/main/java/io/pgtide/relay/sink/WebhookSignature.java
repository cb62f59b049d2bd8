package io.pgtide.relay.sink;

import io.pgtide.relay.config.SettingException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * Signs a webhook request: {@code X-Pg-Tide-Signature: sha256=<hex>}, the HMAC-SHA256 of the exact body
 * bytes that will be sent, keyed with a secret read from an environment variable.
 *
 * <p>Use it as the last step before the {@code http:} endpoint:
 * {@code - process: { ref: "#class:io.pgtide.relay.sink.WebhookSignature('PG_TIDE_WEBHOOK_SECRET')" }}
 * (the argument is the variable's name; without it {@value #DEFAULT_SECRET_VARIABLE}).
 *
 * <p>The secret is the variable's value as UTF-8 bytes, unchanged (not trimmed). When the environment
 * variable is absent or empty, a JVM system property of the same name is used instead (for tests and
 * embedding; on a server prefer the environment: {@code -D} values show in the process list).
 * The secret is read on every exchange rather than once at start-up: a missing secret must fail this
 * pipeline's deliveries with an error naming the variable, not the start of the whole relay, and it is
 * never written to a header, a log line or an error message.
 */
public final class WebhookSignature implements Processor {

    public static final String DEFAULT_SECRET_VARIABLE = "PG_TIDE_WEBHOOK_SECRET";
    public static final String HEADER = "X-Pg-Tide-Signature";
    public static final String PREFIX = "sha256=";

    private static final String ALGORITHM = "HmacSHA256";

    private final String secretVariable;

    public WebhookSignature() {
        this(DEFAULT_SECRET_VARIABLE);
    }

    /** @param secretVariable the name of the environment variable holding the secret */
    public WebhookSignature(String secretVariable) {
        if (secretVariable == null || secretVariable.isBlank()) {
            throw new SettingException("WebhookSignature needs the name of the environment variable holding the secret");
        }
        this.secretVariable = secretVariable.trim();
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        byte[] secret = secret();
        Message message = exchange.getMessage();
        byte[] body = bodyBytes(message);
        // the bytes signed are the bytes sent: camel-http writes a byte[] body as it is, with no charset step
        message.setBody(body);
        message.setHeader(HEADER, sign(secret, body));
    }

    /** {@code sha256=<lowercase hex HMAC-SHA256 of body>}: what a receiver recomputes to check a request. */
    public static String sign(byte[] secret, byte[] body) throws GeneralSecurityException {
        Mac mac = Mac.getInstance(ALGORITHM);
        mac.init(new SecretKeySpec(secret, ALGORITHM));
        return PREFIX + HexFormat.of().formatHex(mac.doFinal(body));
    }

    private byte[] secret() {
        String value = System.getenv(secretVariable);
        if (value == null || value.isEmpty()) {
            value = System.getProperty(secretVariable);
        }
        if (value == null || value.isEmpty()) {
            throw new SettingException("the webhook signing secret is missing: set the environment variable "
                    + secretVariable + " (the HMAC-SHA256 key of the " + HEADER + " header)");
        }
        return value.getBytes(StandardCharsets.UTF_8);
    }

    /** Strings are encoded as UTF-8 here, never with the JVM's default charset (ASCII in a bare container). */
    private static byte[] bodyBytes(Message message) throws Exception {
        Object body = message.getBody();
        if (body == null) {
            return new byte[0];
        }
        if (body instanceof byte[] bytes) {
            return bytes;
        }
        if (body instanceof String text) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        return message.getMandatoryBody(byte[].class);
    }
}

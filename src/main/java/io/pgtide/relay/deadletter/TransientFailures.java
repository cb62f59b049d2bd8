package io.pgtide.relay.deadletter;

import io.pgtide.relay.config.SettingException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.apache.camel.ExchangeTimedOutException;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.springframework.amqp.AmqpAuthenticationException;
import org.springframework.amqp.AmqpConnectException;
import org.springframework.amqp.AmqpIOException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Failures that are not the message's fault: the way to the sink is down or slow (a refused connection, a
 * timeout, a broker or server that is unavailable), or the sink's setup is wrong (credentials, a missing table or
 * endpoint). Every message would fail the same way, and retrying later, once the outage ends or the setup is
 * fixed, cures it; so such a failure never sends a message to the dead letters, however long it lasts.
 * Anything else that outlives its retries is the message's own (a poison).
 */
public final class TransientFailures {

    /** Exception types (and their subclasses) of the way there, anywhere in the cause chain. */
    private static final List<Class<? extends Throwable>> TRANSIENT = List.of(
            SocketException.class,                     // refused, reset, no route to host
            UnknownHostException.class,
            InterruptedIOException.class,              // socket timeouts
            SSLException.class,
            TimeoutException.class,
            InterruptedException.class,
            RejectedExecutionException.class,          // the relay is stopping
            ExchangeTimedOutException.class,
            SettingException.class,                    // the relay's own word for a wrong setting (a missing secret)
            org.apache.kafka.common.errors.RetriableException.class,   // broker unavailable, not leader, timeouts
            org.apache.kafka.common.errors.AuthenticationException.class,
            org.apache.kafka.common.errors.AuthorizationException.class,
            TransientDataAccessException.class,
            RecoverableDataAccessException.class,
            DataAccessResourceFailureException.class,  // cannot get a connection (JDBC, Redis)
            AmqpConnectException.class,
            AmqpAuthenticationException.class,
            AmqpIOException.class,                     // the AMQP connection failed under the channel
            JedisConnectionException.class);

    /**
     * SQLSTATE classes of the server or the statement, not the row: connection (08), authorization (28), unknown
     * database (3D), serialization and deadlock (40), syntax or missing objects and rights (42), resources (53),
     * lock not available (55P03), operator intervention and statement timeout (57), system errors (58).
     */
    private static final List<String> SQL_STATES = List.of("08", "28", "3D", "40", "42", "53", "55P03", "57", "58");

    /** HTTP answers about the server or the setup: unauthorized, forbidden, not found, timeouts, throttling, 5xx. */
    private static final Set<Integer> HTTP_SETUP = Set.of(401, 403, 404, 407, 408, 429);

    /** MQTT reason codes about the message itself: implementation-specific refusal, too large, bad payload format. */
    private static final Set<Integer> MQTT_MESSAGE = Set.of(0x83, 0x95, 0x99);

    /** Redis error replies about the server or the key, not the entry (the error type opens the reply). */
    private static final List<String> REDIS_SETUP = List.of("WRONGTYPE", "NOPERM", "NOAUTH", "WRONGPASS", "OOM",
            "LOADING", "READONLY", "BUSY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN");

    /** NATS JetStream answers as IOException text: no stream takes the subject (503), or no answer in time. */
    private static final List<String> NATS_UNAVAILABLE = List.of("No Responders", "Timeout or no response");

    private TransientFailures() {
    }

    /** True when the error, or one of its causes, is an outage or a setup problem rather than the message's fault. */
    public static boolean isTransient(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (notTheMessage(t)) {
                return true;
            }
        }
        return false;
    }

    private static boolean notTheMessage(Throwable t) {
        if (TRANSIENT.stream().anyMatch(c -> c.isInstance(t))) {
            return true;
        }
        if (t instanceof SQLException sql && sql.getSQLState() != null) {
            return SQL_STATES.stream().anyMatch(sql.getSQLState()::startsWith);
        }
        if (t instanceof HttpOperationFailedException http) {
            return http.getStatusCode() >= 500 || HTTP_SETUP.contains(http.getStatusCode());
        }
        if (t instanceof MqttException mqtt) {
            return !MQTT_MESSAGE.contains(mqtt.getReasonCode());
        }
        if (t instanceof IOException io && io.getMessage() != null) {
            return NATS_UNAVAILABLE.stream().anyMatch(io.getMessage()::contains);
        }
        if (t instanceof JedisDataException redis && redis.getMessage() != null) {
            return REDIS_SETUP.stream().anyMatch(redis.getMessage()::startsWith);
        }
        return false;
    }
}

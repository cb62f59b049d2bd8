package io.pgtide.relay.sink;

import com.rabbitmq.client.Address;
import com.rabbitmq.client.AddressResolver;
import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.PossibleAuthenticationFailureException;
import io.pgtide.relay.support.Causes;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeoutException;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

/**
 * Spring's {@link CachingConnectionFactory} for a RabbitMQ pipeline, whose connection errors name the
 * pipeline's settings: a wrong password says "check rabbitmq.username and rabbitmq.password", not only
 * the broker's ACCESS_REFUSED. Defined as a bean in the pipeline file; {@link #setSettings} is the prefix
 * of the placeholders its host, port, username and password come from.
 */
public final class RabbitMqConnectionFactory extends CachingConnectionFactory {

    private final NamingClient client;

    public RabbitMqConnectionFactory() {
        this(new NamingClient());
    }

    private RabbitMqConnectionFactory(NamingClient client) {
        super(client);
        this.client = client;
        // a pipeline waits for publisher confirms (spring-rabbitmq confirm=enabled); this is what enables them
        setPublisherConfirmType(ConfirmType.CORRELATED);
    }

    /** Prefix of the settings this factory is configured from, for error messages; {@code rabbitmq} by default. */
    public void setSettings(String prefix) {
        client.settings = prefix;
    }

    public String getSettings() {
        return client.settings;
    }

    /**
     * The RabbitMQ client's factory: every connection attempt of Spring's factory ends in
     * {@link #newConnection(ExecutorService, AddressResolver, String)} (its other methods are final), so
     * errors are reworded here, keeping their types so Spring still classifies them (auth, connect, I/O).
     */
    static final class NamingClient extends ConnectionFactory {

        volatile String settings = "rabbitmq";

        NamingClient() {
            // Spring AMQP recovers connections itself and warns when the client would too
            setAutomaticRecoveryEnabled(false);
            // an unreachable broker fails a batch in seconds (the client's default is 60 s), and it is retried
            setConnectionTimeout(10_000);
        }

        @Override
        public Connection newConnection(ExecutorService executor, AddressResolver resolver, String name)
                throws IOException, TimeoutException {
            try {
                return super.newConnection(executor, resolver, name);
            } catch (PossibleAuthenticationFailureException e) {
                throw named(new AuthenticationFailureException("RabbitMQ at " + where(resolver)
                        + " refused the login of user \"" + getUsername() + "\" (" + e.getMessage() + "): check the settings "
                        + settings + ".username and " + settings + ".password"), e);
            } catch (UnknownHostException e) {
                throw named(new UnknownHostException("RabbitMQ host " + e.getMessage() + " is unknown: check the setting "
                        + settings + ".host"), e);
            } catch (ConnectException e) {
                throw named(new ConnectException("cannot connect to RabbitMQ at " + where(resolver) + " (settings "
                        + settings + ".host, " + settings + ".port): " + e.getMessage()), e);
            } catch (IOException e) {
                throw named(new IOException("RabbitMQ at " + where(resolver) + " (settings " + settings + ".host, "
                        + settings + ".port): " + Causes.describe(e)), e);
            } catch (TimeoutException e) {
                throw named(new TimeoutException("RabbitMQ at " + where(resolver) + " did not answer in time (settings "
                        + settings + ".host, " + settings + ".port): " + e.getMessage()), e);
            }
        }

        private static <T extends Exception> T named(T renamed, Exception cause) {
            renamed.initCause(cause);
            return renamed;
        }

        private String where(AddressResolver resolver) {
            try {
                StringBuilder text = new StringBuilder();
                for (Address address : resolver.getAddresses()) {
                    text.append(text.isEmpty() ? "" : ",").append(address.getHost()).append(':')
                            .append(address.getPort() < 0 ? getPort() : address.getPort());
                }
                return text.toString();
            } catch (IOException e) {
                return getHost() + ":" + getPort();
            }
        }
    }
}

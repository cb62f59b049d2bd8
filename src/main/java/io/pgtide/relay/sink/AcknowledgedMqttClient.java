package io.pgtide.relay.sink;

import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;

/**
 * The paho MQTT 5 client for camel-paho-mqtt5's {@code client} option: a publish fails when the broker's
 * acknowledgement carries an error reason code (0x80 and up, e.g. 0x87 not authorized). Plain paho returns
 * normally then, and the refused message would count as delivered.
 *
 * <p>camel-paho-mqtt5 neither connects nor disconnects a client it is given: this one connects on its first
 * publish (a broker that cannot be reached fails that publish, naming the address; the next one tries again),
 * then reconnects automatically after an outage; {@link #destroy()} disconnects and closes it.
 */
public class AcknowledgedMqttClient extends MqttClient {

    private final String brokerUrl;
    private final MqttConnectionOptions options = new MqttConnectionOptions();
    private volatile boolean connectedOnce;

    public AcknowledgedMqttClient(String brokerUrl) throws MqttException {
        super(brokerUrl, "pg-tide-" + java.util.UUID.randomUUID(), new MemoryPersistence());
        this.brokerUrl = brokerUrl;
        options.setAutomaticReconnect(true);
        options.setCleanStart(true);
    }

    /** Longest wait between reconnect attempts after an outage, in ms (paho's default: 128 s). */
    public void setMaxReconnectDelay(int millis) {
        options.setMaxReconnectDelay(millis);
    }

    public void setUserName(String userName) {
        options.setUserName(userName == null || userName.isEmpty() ? null : userName);
    }

    public void setPassword(String password) {
        options.setPassword(password == null || password.isEmpty() ? null : password.getBytes());
    }

    @Override
    public void publish(String topic, MqttMessage message) throws MqttException {
        connectOnce();
        IMqttToken token = aClient.publish(topic, message, null, null);
        token.waitForCompletion(getTimeToWait());
        int[] codes = token.getReasonCodes();
        if (codes != null) {
            for (int code : codes) {
                if (code >= 0x80) {
                    throw new Refused(code, String.format(
                            "MQTT broker %s refused the message for topic %s: reason code 0x%02X", brokerUrl, topic, code));
                }
            }
        }
    }

    /** The first connect; after it paho reconnects by itself (automatic reconnect). */
    private synchronized void connectOnce() throws MqttException {
        if (connectedOnce) {
            return;
        }
        try {
            connect(options);
        } catch (MqttException e) {
            throw new Refused(e.getReasonCode(),
                    "cannot connect to MQTT broker " + brokerUrl + ": " + e.getMessage(), e);
        }
        connectedOnce = true;
    }

    /** Disconnects (if connected) and frees the client. */
    public void destroy() throws MqttException {
        try {
            if (isConnected()) {
                disconnect();
            }
        } finally {
            close(true);
        }
    }

    /** An MqttException with a message of its own (paho's message comes from the reason code only). */
    static final class Refused extends MqttException {
        private static final long serialVersionUID = 1L;
        private final String description;

        Refused(int reasonCode, String description) {
            super(reasonCode);
            this.description = description;
        }

        Refused(int reasonCode, String description, Throwable cause) {
            super(reasonCode, cause);
            this.description = description;
        }

        @Override
        public String getMessage() {
            return description;
        }
    }
}

package io.pgtide.relay.sink;

import io.pgtide.relay.batch.OutboxHeaderFilter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.component.paho.mqtt5.PahoMqtt5Constants;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;

/** Gives an outbox message bound for camel-paho-mqtt5 its headers (stable id, key, the row's headers) as MQTT 5 user properties. */
public final class MqttUserProperties implements Processor {

    private static final OutboxHeaderFilter FILTER = new OutboxHeaderFilter();

    @Override
    public void process(Exchange exchange) {
        Message message = exchange.getMessage();
        List<UserProperty> properties = new ArrayList<>();
        for (Map.Entry<String, Object> header : message.getHeaders().entrySet()) {
            // Camel's headers are instructions to the component (topic override, QoS), not data of the message
            if (!FILTER.internal(header.getKey(), header.getValue())) {
                properties.add(new UserProperty(header.getKey(), header.getValue().toString()));
            }
        }
        MqttProperties mqtt = new MqttProperties();
        mqtt.setUserProperties(properties);
        // the body is the outbox payload: JSON text in UTF-8
        mqtt.setContentType("application/json");
        mqtt.setPayloadFormat(true);
        // camel-paho-mqtt5 has no header-to-property mapping of its own: it sends exactly this object
        message.setHeader(PahoMqtt5Constants.CAMEL_PAHO_MSG_PROPERTIES, mqtt);
    }
}

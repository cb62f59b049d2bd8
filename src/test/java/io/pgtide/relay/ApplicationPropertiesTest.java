package io.pgtide.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay's Camel defaults come from its application.properties resource, and a user's application.properties in
 * the working directory overrides them line by line, both where Camel resolves one setting and where camel-main loads
 * them all.
 */
class ApplicationPropertiesTest {

    @Test
    void theUsersFileOverridesTheRelaysDefaults(@TempDir Path workdir) throws Exception {
        Path users = Files.writeString(workdir.resolve("application.properties"), "camel.main.shutdownTimeout = 5\n");
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            PropertiesComponent properties = camel.getPropertiesComponent();
            properties.setLocation(Relay.PROPERTY_LOCATIONS.replace("file:application.properties", "file:" + users));
            assertEquals("5", properties.resolveProperty("camel.main.shutdownTimeout").orElseThrow());
            assertEquals("5", properties.loadProperties(name -> name.startsWith("camel.")).get("camel.main.shutdownTimeout"));
            assertEquals("/metrics", properties.resolveProperty("camel.metrics.path").orElseThrow());
            // the names the relay binds its pool and row mapper under
            assertEquals("#" + Relay.DATA_SOURCE, properties.resolveProperty("camel.component.sql.dataSource").orElseThrow());
            assertEquals("#" + Relay.ROW_MAPPER,
                    properties.resolveProperty("camel.component.sql.rowMapperFactory").orElseThrow());
        }
    }
}

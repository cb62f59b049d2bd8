package io.pgtide.relay.route;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.NonValidationKeyword;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * The Camel YAML DSL's own JSON schema ({@code schema/camelYamlDsl.json} in camel-yaml-dsl) applied to a route
 * file, each violation with the line it is about. Catches what the DSL's parser lets through (a word where a
 * boolean belongs, say) before a relay ever loads the file.
 */
public final class DslSchema {

    private static final String SCHEMA = "schema/camelYamlDsl.json";
    /** The segments of a location such as {@code $[0].route.from.steps[2].split} or {@code $['a-b']}. */
    private static final Pattern SEGMENT = Pattern.compile("\\.([^.\\[]+)|\\[(\\d+)]|\\['((?:[^']|'')*)']");

    private final JsonSchema schema;

    private DslSchema(JsonSchema schema) {
        this.schema = schema;
    }

    /** The schema of the Camel version on the classpath. */
    public static DslSchema load() throws IOException {
        try (InputStream in = DslSchema.class.getClassLoader().getResourceAsStream(SCHEMA)) {
            if (in == null) {
                throw new IOException(SCHEMA + " is not on the classpath (it ships in camel-yaml-dsl)");
            }
            // the schema marks deprecated options with a keyword draft 4 does not know: accept it, validate nothing by it
            JsonMetaSchema draft4 = JsonMetaSchema.builder(JsonMetaSchema.getV4())
                    .keyword(new NonValidationKeyword("deprecated")).build();
            return new DslSchema(JsonSchemaFactory.builder(JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4))
                    .metaSchema(draft4).build().getSchema(in));
        }
    }

    /** The violations of one file's text; a text that is not YAML at all is left to the DSL's parser to report. */
    public List<Problem> problems(Path file, String content) {
        Optional<Node> root = YamlTree.parse(content);
        if (root.isEmpty()) {
            return List.of();
        }
        List<Problem> problems = new ArrayList<>();
        for (ValidationMessage violation : schema.validate(json(root.get()))) {
            String location = violation.getInstanceLocation().toString();
            problems.add(new Problem(file, line(root.get(), location, violation.getProperty()),
                    violation.getMessage().replace(location + ": ", "") + " (at " + location + ")"));
        }
        problems.sort(Comparator.comparingInt(Problem::line));
        return problems;
    }

    /** The line of the node a location names (of its key, for a property), or of the deepest node found on the way. */
    private static int line(Node root, String location, String property) {
        Node node = root;
        Matcher segment = SEGMENT.matcher(location);
        while (segment.find() && node != null) {
            node = segment.group(2) != null ? item(node, Integer.parseInt(segment.group(2)))
                    : YamlTree.value(node, segment.group(1) != null ? segment.group(1) : segment.group(3).replace("''", "'"));
        }
        Node at = node == null ? root : node;
        Node keyNode = property == null ? null : YamlTree.key(at, property);
        return YamlTree.line(keyNode != null ? keyNode : at);
    }

    private static Node item(Node node, int index) {
        return node instanceof SequenceNode sequence && index < sequence.getValue().size()
                ? sequence.getValue().get(index) : null;
    }

    /** The YAML tree as JSON, scalars typed the way YAML resolved them. */
    private static JsonNode json(Node node) {
        JsonNodeFactory json = JsonNodeFactory.instance;
        if (node instanceof MappingNode mapping) {
            ObjectNode object = json.objectNode();
            for (NodeTuple tuple : mapping.getValue()) {
                String key = tuple.getKeyNode() instanceof ScalarNode scalar ? scalar.getValue() : "";
                object.set(key, json(tuple.getValueNode()));
            }
            return object;
        }
        if (node instanceof SequenceNode sequence) {
            ArrayNode array = json.arrayNode();
            sequence.getValue().forEach(item -> array.add(json(item)));
            return array;
        }
        ScalarNode scalar = (ScalarNode) node;
        String value = scalar.getValue();
        Tag tag = scalar.getTag();
        try {
            if (Tag.BOOL.equals(tag)) {
                return json.booleanNode(Boolean.parseBoolean(value));
            } else if (Tag.INT.equals(tag)) {
                return json.numberNode(Long.parseLong(value));
            } else if (Tag.FLOAT.equals(tag)) {
                return json.numberNode(Double.parseDouble(value));
            } else if (Tag.NULL.equals(tag)) {
                return json.nullNode();
            }
        } catch (NumberFormatException e) {
            // a number YAML accepts and Java does not (0x1F, .inf): the schema sees its text
        }
        return json.textNode(value);
    }
}

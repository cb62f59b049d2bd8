package io.pgtide.relay.route;

import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/** A YAML text as a tree of nodes that know their lines (snakeyaml-engine, the parser Camel's YAML DSL uses). */
public final class YamlTree {

    private YamlTree() {
    }

    /** The text's first document, or empty when it is empty or not YAML (the DSL's parser then says where). */
    public static Optional<Node> parse(String content) {
        try {
            return new Compose(LoadSettings.builder().build()).composeString(content);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The node under a key of a mapping, or null. */
    public static Node value(Node node, String key) {
        NodeTuple entry = entry(node, key);
        return entry == null ? null : entry.getValueNode();
    }

    /** The key node itself (its line is where the key is written), or null. */
    public static Node key(Node node, String key) {
        NodeTuple entry = entry(node, key);
        return entry == null ? null : entry.getKeyNode();
    }

    /** The 1-based line a node starts on, or 0. */
    public static int line(Node node) {
        return node.getStartMark().map(mark -> mark.getLine() + 1).orElse(0);
    }

    private static NodeTuple entry(Node node, String key) {
        if (node instanceof MappingNode mapping) {
            for (NodeTuple tuple : mapping.getValue()) {
                if (tuple.getKeyNode() instanceof ScalarNode name && name.getValue().equals(key)) {
                    return tuple;
                }
            }
        }
        return null;
    }
}

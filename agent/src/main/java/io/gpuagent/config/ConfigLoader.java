package io.gpuagent.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Loads the configuration: built-in defaults &lt; {@code agent.toml} &lt; environment
 * ({@code GPU_AGENT__SECTION__KEY}) &lt; command line ({@code --set section.key=value}). Every key
 * must exist in the defaults (an unknown key is an error naming its path and the closest known
 * key), every value must have the default's type, and {@link ConfigValidator} checks ranges. The
 * result is immutable.
 */
public final class ConfigLoader {
    /** Prefix of environment overrides: {@code GPU_AGENT__GPU__SAMPLE_INTERVAL_MS=500}. */
    public static final String ENV_PREFIX = "GPU_AGENT__";
    private static final String DEFAULTS = "/io/gpuagent/config/defaults.toml";

    private static final TomlMapper TOML = new TomlMapper();
    private static final ObjectMapper BINDER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

    private ConfigLoader() {
    }

    /** The built-in defaults as a tree (a fresh copy). */
    public static ObjectNode defaults() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULTS)) {
            if (in == null) {
                throw new IllegalStateException("built-in defaults " + DEFAULTS + " missing from the jar");
            }
            return (ObjectNode) TOML.readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException("built-in defaults unreadable", e);
        }
    }

    /**
     * @param file the TOML file, or null to use defaults (plus overrides) only
     * @param env  the environment (only {@code GPU_AGENT__*} variables are read)
     * @param sets {@code section.key=value} overrides from the command line
     */
    public static AgentConfig load(Path file, Map<String, String> env, List<String> sets) throws ConfigException {
        ObjectNode tree = defaults();
        if (file != null) {
            merge(tree, readFile(file), file.toString(), "");
        }
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            if (e.getKey().startsWith(ENV_PREFIX)) {
                String path = e.getKey().substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace("__", ".");
                set(tree, path, e.getValue(), "environment variable " + e.getKey());
            }
        }
        for (String s : sets) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(null, "--set " + s + ": expected section.key=value, "
                        + "for example --set gpu.sample_interval_ms=500");
            }
            set(tree, s.substring(0, eq).trim(), s.substring(eq + 1), "--set " + s);
        }
        AgentConfig config;
        try {
            config = BINDER.treeToValue(tree, AgentConfig.class);
        } catch (JsonProcessingException e) {
            // defaults and type checks make this unreachable unless the records and defaults disagree
            throw new IllegalStateException("configuration records do not match defaults.toml", e);
        }
        ConfigValidator.validate(config);
        return config;
    }

    private static JsonNode readFile(Path file) throws ConfigException {
        try {
            String text = Files.readString(file);
            return TOML.readTree(text);
        } catch (NoSuchFileException e) {
            throw new ConfigException(null, "configuration file " + file + " does not exist: create it from "
                    + "config/agent.toml in the source tree (the install script puts one in /etc/gpu-agent/), "
                    + "or pass --config with the right path");
        } catch (JsonProcessingException e) {
            throw new ConfigException(null, "configuration file " + file + " is not valid TOML: "
                    + e.getOriginalMessage() + locationOf(e));
        } catch (IOException e) {
            throw new ConfigException(null, "cannot read configuration file " + file + ": " + e, e);
        }
    }

    private static String locationOf(JsonProcessingException e) {
        return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
    }

    private static void merge(ObjectNode target, JsonNode src, String source, String prefix) throws ConfigException {
        if (!src.isObject()) {
            throw new ConfigException(prefix, source + ": " + prefix + " must be a table");
        }
        Iterator<Map.Entry<String, JsonNode>> it = src.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            JsonNode def = target.get(e.getKey());
            if (def == null) {
                throw unknownKey(path, source);
            }
            if (def.isObject()) {
                if (!e.getValue().isObject()) {
                    throw new ConfigException(path, source + ": " + path + " is a section ([" + path + "]), not a value");
                }
                merge((ObjectNode) def, e.getValue(), source, path);
            } else {
                target.set(e.getKey(), coerce(path, def, e.getValue(), source));
            }
        }
    }

    private static void set(ObjectNode tree, String path, String value, String source) throws ConfigException {
        String[] parts = path.split("\\.");
        ObjectNode node = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            if (child == null || !child.isObject()) {
                throw unknownKey(path, source);
            }
            node = (ObjectNode) child;
        }
        String leaf = parts[parts.length - 1];
        JsonNode def = node.get(leaf);
        if (def == null || def.isObject()) {
            throw unknownKey(path, source);
        }
        node.set(leaf, coerce(path, def, TextNode.valueOf(value), source));
    }

    /** Converts {@code v} to the type of the default {@code def}; strings from env/CLI are parsed. */
    private static JsonNode coerce(String path, JsonNode def, JsonNode v, String source) throws ConfigException {
        if (def.isBoolean()) {
            if (v.isBoolean()) {
                return v;
            }
            if (v.isTextual() && (v.asText().equals("true") || v.asText().equals("false"))) {
                return BooleanNode.valueOf(Boolean.parseBoolean(v.asText()));
            }
            throw wrongType(path, "true or false", v, source);
        }
        if (def.isIntegralNumber()) {
            if (v.isIntegralNumber() && v.canConvertToLong()) {
                return LongNode.valueOf(v.asLong());
            }
            if (v.isTextual()) {
                try {
                    return LongNode.valueOf(Long.parseLong(v.asText().trim().replace("_", "")));
                } catch (NumberFormatException ignored) {
                    // reported below with the key and the value
                }
            }
            throw wrongType(path, "an integer", v, source);
        }
        if (def.isTextual()) {
            if (v.isTextual()) {
                return v;
            }
            throw wrongType(path, "a string (in quotes)", v, source);
        }
        if (def.isArray()) {
            // a list of strings; from the environment or --set: comma-separated
            com.fasterxml.jackson.databind.node.ArrayNode out = com.fasterxml.jackson.databind.node.JsonNodeFactory
                    .instance.arrayNode();
            if (v.isArray()) {
                for (JsonNode item : v) {
                    if (!item.isTextual()) {
                        throw wrongType(path, "a list of strings", v, source);
                    }
                    out.add(item);
                }
                return out;
            }
            if (v.isTextual()) {
                for (String item : v.asText().split(",")) {
                    if (!item.isBlank()) {
                        out.add(item.trim());
                    }
                }
                return out;
            }
            throw wrongType(path, "a list of strings, e.g. [\"a\", \"b\"]", v, source);
        }
        throw new IllegalStateException("defaults.toml has an unsupported type at " + path);
    }

    private static ConfigException wrongType(String path, String expected, JsonNode v, String source) {
        return new ConfigException(path, source + ": " + path + " must be " + expected + ", got " + v);
    }

    private static ConfigException unknownKey(String path, String source) {
        String hint = closestKey(path);
        return new ConfigException(path, source + ": unknown key " + path
                + (hint != null ? " (did you mean " + hint + "?)" : "")
                + "; config/agent.toml lists every key");
    }

    /** Every leaf key of the defaults, dotted. */
    public static List<String> knownKeys() {
        List<String> out = new ArrayList<>();
        collect(defaults(), "", out);
        return out;
    }

    private static void collect(JsonNode n, String prefix, List<String> out) {
        n.fields().forEachRemaining(e -> {
            String p = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            if (e.getValue().isObject()) {
                collect(e.getValue(), p, out);
            } else {
                out.add(p);
            }
        });
    }

    private static String closestKey(String path) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : knownKeys()) {
            int d = levenshtein(k, path);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return bestDistance <= Math.max(3, path.length() / 4) ? best : null;
    }

    private static int levenshtein(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /**
     * The effective configuration as TOML, for the start-up log and {@code gpu-agent check}.
     * Values of keys that name secrets (password, secret, token, private key) are masked.
     */
    public static String describe(AgentConfig config) {
        JsonNode tree = BINDER.valueToTree(config);
        StringBuilder sb = new StringBuilder();
        tree.fields().forEachRemaining(section -> {
            sb.append('[').append(section.getKey()).append("]\n");
            section.getValue().fields().forEachRemaining(kv -> {
                String shown = isSecret(kv.getKey()) && !kv.getValue().asText().isEmpty() ? "\"********\""
                        : kv.getValue().toString();
                sb.append(kv.getKey()).append(" = ").append(shown).append('\n');
            });
        });
        return sb.toString();
    }

    static boolean isSecret(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        // escrow.token is the ERC-20 contract's public address, not a credential
        boolean names = k.contains("password") || k.contains("secret") || k.contains("token") && !k.equals("token")
                || k.contains("private_key") || k.contains("api_key");
        // paths and credential names say where a secret is, not what it is
        boolean isPath = k.endsWith("_file") || k.endsWith("_path") || k.endsWith("_dir") || k.endsWith("_credential");
        return names && !isPath;
    }
}

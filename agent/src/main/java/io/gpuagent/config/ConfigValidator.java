package io.gpuagent.config;

import java.util.Set;
import java.util.regex.Pattern;

/** Range and format checks on a bound configuration; the first violation is reported. */
final class ConfigValidator {
    private static final Pattern HOST_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    private static final Set<String> LEVELS = Set.of("trace", "debug", "info", "warn", "error");
    private static final Set<String> FORMATS = Set.of("auto", "text", "journald");

    private ConfigValidator() {
    }

    static void validate(AgentConfig c) throws ConfigException {
        String host = c.agent().hostId();
        if (!host.isEmpty() && !HOST_ID.matcher(host).matches()) {
            throw bad("agent.host_id", host, "letters, digits, '.', '_' or '-', at most 63, or empty for the hostname");
        }
        if (c.agent().region().length() > 64) {
            throw bad("agent.region", c.agent().region(), "at most 64 characters");
        }
        absolute("agent.state_dir", c.agent().stateDir(), false);
        absolute("gpu.nvml_library", c.gpu().nvmlLibrary(), true);
        range("gpu.sample_interval_ms", c.gpu().sampleIntervalMs(), 100, 60_000);
        range("gpu.call_timeout_ms", c.gpu().callTimeoutMs(), 50, 60_000);
        if (!LEVELS.contains(c.log().level())) {
            throw bad("log.level", c.log().level(), "one of " + String.join(", ", LEVELS.stream().sorted().toList()));
        }
        if (!FORMATS.contains(c.log().format())) {
            throw bad("log.format", c.log().format(), "one of auto, text, journald");
        }
        range("shutdown.drain_timeout_ms", c.shutdown().drainTimeoutMs(), 100, 600_000);
        HostPort listen = HostPort.parse("metrics.listen", c.metrics().listen());
        if (listen.port() == 9400) {
            throw bad("metrics.listen", c.metrics().listen(), "another port: 9400 is dcgm-exporter's, which "
                    + "operators often run beside the agent (the default is 9464)");
        }
        range("metrics.max_connections", c.metrics().maxConnections(), 1, 10_000);
        range("metrics.request_timeout_ms", c.metrics().requestTimeoutMs(), 100, 600_000);
    }

    private static void range(String key, long v, long min, long max) throws ConfigException {
        if (v < min || v > max) {
            throw bad(key, Long.toString(v), "between " + min + " and " + max);
        }
    }

    private static void absolute(String key, String v, boolean emptyAllowed) throws ConfigException {
        if (v.isEmpty() ? !emptyAllowed : !v.startsWith("/")) {
            throw bad(key, v, emptyAllowed ? "an absolute path, or empty for the default" : "an absolute path");
        }
    }

    private static ConfigException bad(String key, String value, String allowed) {
        return new ConfigException(key, key + " = \"" + value + "\" is invalid: must be " + allowed);
    }
}

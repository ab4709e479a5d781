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
        absolute("docker.socket", c.docker().socket(), false);
        range("docker.call_timeout_ms", c.docker().callTimeoutMs(), 1000, 600_000);
        AgentConfig.Sessions s = c.sessions();
        if (!Set.of("nvidia", "cdi", "none").contains(s.gpuAttach())) {
            throw bad("sessions.gpu_attach", s.gpuAttach(), "one of nvidia, cdi, none");
        }
        if (s.allowedImages().isEmpty()) {
            throw bad("sessions.allowed_images", "[]", "at least one image pattern (\"*\" allows every image)");
        }
        for (String g : s.allowedImages()) {
            imagePattern("sessions.allowed_images", g);
        }
        for (String g : s.deniedImages()) {
            imagePattern("sessions.denied_images", g);
        }
        portRange(s.portRange());
        range("sessions.max_ports", s.maxPorts(), 0, 1000);
        range("sessions.memory_per_gpu_mb", s.memoryPerGpuMb(), 64, 16L * 1024 * 1024);
        range("sessions.cpus_per_gpu", s.cpusPerGpu(), 1, 1024);
        range("sessions.pids_limit", s.pidsLimit(), 16, 4_194_304);
        range("sessions.disk_per_gpu_gb", s.diskPerGpuGb(), 0, 1_000_000);
        range("sessions.max_duration_s", s.maxDurationS(), 1, 366L * 24 * 3600);
        range("sessions.stop_grace_ms", s.stopGraceMs(), 0, 600_000);
    }

    private static void imagePattern(String key, String g) throws ConfigException {
        if (g.isBlank() || g.length() > 255 || !g.matches("[A-Za-z0-9._/:@*-]+")) {
            throw bad(key, g, "an image pattern of letters, digits, . _ / : @ - and * (e.g. \"docker.io/pytorch/*\")");
        }
    }

    /** {@code first-last}, 1024..65535, first <= last. */
    static int[] portRange(String v) throws ConfigException {
        String[] parts = v.split("-");
        try {
            if (parts.length == 2) {
                int first = Integer.parseInt(parts[0].trim());
                int last = Integer.parseInt(parts[1].trim());
                if (first >= 1024 && last <= 65535 && first <= last) {
                    return new int[] {first, last};
                }
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw bad("sessions.port_range", v, "first-last with 1024 <= first <= last <= 65535, e.g. \"40000-40999\"");
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

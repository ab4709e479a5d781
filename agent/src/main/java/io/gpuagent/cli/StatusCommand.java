package io.gpuagent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigException;
import io.gpuagent.config.HostPort;
import io.gpuagent.daemon.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code gpu-agent status}: asks the running daemon ({@code /status} on the metrics endpoint). */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show what the running agent is doing: its GPUs, their health and latest telemetry.",
            "Reads GET /status from the daemon's metrics endpoint (metrics.listen in the config).",
            "Exit codes: 0 ok, 3 bad config, 7 the daemon could not be reached."})
final class StatusCommand implements Callable<Integer> {
    /** Made on first use: picocli builds every command to parse any command line, and an ObjectMapper
     * costs a cold JVM hundreds of milliseconds (`gpu-agent --version` paid it for nothing). */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    @CommandLine.Mixin
    CommandSupport.ConfigOptions options = new CommandSupport.ConfigOptions();

    @CommandLine.Option(names = "--url", paramLabel = "URL",
            description = "the daemon's endpoint, e.g. http://127.0.0.1:9464 (default: from metrics.listen)")
    String url;

    @CommandLine.Option(names = "--json", description = "print the daemon's JSON as it is")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String base = url;
        if (base == null) {
            try {
                AgentConfig config = options.load();
                HostPort hp = HostPort.parse("metrics.listen", config.metrics().listen()).dialable();
                base = "http://" + (hp.host().contains(":") ? "[" + hp.host() + "]" : hp.host()) + ":" + hp.port();
            } catch (ConfigException e) {
                return CommandSupport.configError(err, e);
            }
        }
        String body;
        try {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/status"))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                err.println("gpu-agent: " + base + "/status answered " + r.statusCode() + ": " + r.body().strip());
                return ExitCodes.UNREACHABLE;
            }
            body = r.body();
        } catch (IOException | IllegalArgumentException e) {
            err.println("gpu-agent: cannot reach the agent at " + base + " (" + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()) + "). Is it running? "
                    + "`systemctl status gpu-agent`; is metrics.enabled true and metrics.listen right?");
            return ExitCodes.UNREACHABLE;
        }
        if (json) {
            out.println(body);
            out.flush();
            return ExitCodes.OK;
        }
        JsonNode s;
        try {
            s = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            err.println("gpu-agent: " + base + "/status did not return JSON: " + e.getMessage());
            return ExitCodes.UNREACHABLE;
        }
        out.print(render(s));
        out.flush();
        return ExitCodes.OK;
    }

    static String render(JsonNode s) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("gpu-agent %s on %s: %s%s%n", s.path("version").asText(), s.path("hostname").asText(),
                s.path("ready").asBoolean() ? "ready" : "NOT READY (" + s.path("notReadyReason").asText() + ")",
                s.path("simulated").asBoolean() ? "  [SIMULATED GPUs]" : ""));
        sb.append(String.format("driver %s, CUDA %s; sampler: %d ticks, last %.2f ms, %d NVML timeouts%n",
                s.path("driverVersion").asText(), s.path("cudaDriverVersion").asText(),
                s.path("sampler").path("ticks").asLong(), s.path("sampler").path("lastTickDurationMs").asDouble(),
                s.path("sampler").path("nvmlTimeouts").asLong()));
        String fmt = "%-3s %-24s %-10s %-5s %-5s %-8s %s%n";
        sb.append(String.format(fmt, "GPU", "MODEL", "HEALTH", "UTIL", "TEMP", "POWER", "NOTE"));
        for (JsonNode g : s.path("gpus")) {
            String health = g.path("health").asText();
            boolean stale = g.path("stale").asBoolean();
            String note = !"HEALTHY".equals(health) ? g.path("healthReason").asText()
                    : stale ? "no fresh sample" : "";
            sb.append(String.format(Locale.ROOT, fmt, g.path("index").asInt(), trim(g.path("name").asText()), health,
                    g.hasNonNull("gpuUtilPercent") && !stale ? g.path("gpuUtilPercent").asInt() + "%" : "-",
                    g.hasNonNull("temperatureC") && !stale ? g.path("temperatureC").asInt() + "C" : "-",
                    g.hasNonNull("powerWatts") && !stale ? String.format(Locale.ROOT, "%.0f W", g.path("powerWatts")
                            .asDouble()) : "-", note));
        }
        JsonNode sessions = s.path("sessions");
        if (sessions.isArray()) {
            long open = 0;
            for (JsonNode v : sessions) {
                String st = v.path("state").asText();
                if (!st.equals("ENDED") && !st.equals("FAILED")) {
                    open++;
                }
            }
            sb.append(String.format("sessions: %d open%s%n", open, s.path("draining").asBoolean()
                    ? " (DRAINING: no new sessions)" : ""));
            for (JsonNode v : sessions) {
                String st = v.path("state").asText();
                if (st.equals("ENDED") || st.equals("FAILED")) {
                    continue;
                }
                sb.append(String.format("  %-24s %-9s GPUs %s  billed %d s  %s%n", v.path("sessionId").asText(), st,
                        v.path("gpus"), v.path("billedSeconds").asLong(), v.path("image").asText()));
            }
        }
        JsonNode sched = s.path("scheduler");
        if (sched.isObject()) {
            sb.append(String.format("scheduler: %d connected (%d past hello)%n", sched.path("connections").asInt(),
                    sched.path("welcomed").asInt()));
        }
        JsonNode escrow = s.path("escrow");
        if (escrow.isObject()) {
            sb.append(String.format("earnings (token base units): earned %s, claimed %s, pending %s to %s%s%n",
                    escrow.path("earned").asText(), escrow.path("claimed").asText(), escrow.path("pending").asText(),
                    escrow.path("payoutAddress").asText(), escrow.path("rpcFailures").asInt() > 0
                            ? " (chain RPC failing: " + escrow.path("lastError").asText() + ")" : ""));
        }
        return sb.toString();
    }

    private static String trim(String name) {
        String n = name.startsWith("NVIDIA ") ? name.substring(7) : name;
        return n.length() <= 24 ? n : n.substring(0, 23) + "~";
    }
}

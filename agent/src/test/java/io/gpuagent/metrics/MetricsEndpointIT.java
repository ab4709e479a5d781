package io.gpuagent.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.testsupport.AgentProcess;
import io.gpuagent.testsupport.RunningAgent;
import io.gpuagent.testsupport.SimNvml;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The operator endpoint of `gpu-agent run` on the simulated 8x H100 server, over real sockets,
 * checked with the real promtool and against the queries of Grafana dashboard 12239.
 */
class MetricsEndpointIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SAMPLE = Pattern.compile("^([A-Za-z_:][A-Za-z0-9_:]*)(\\{([^}]*)})? (\\S+)$");

    @TempDir
    static Path dir;
    static RunningAgent agent;

    @BeforeAll
    static void start() throws Exception {
        agent = new RunningAgent(dir, "server-8x-h100.conf", "metrics.request_timeout_ms=1500",
                "metrics.max_connections=6", "agent.host_id=gpu-host-7");
    }

    @AfterAll
    static void stop() throws Exception {
        agent.close();
    }

    /** metric name -> label names seen on its samples. */
    private static Map<String, Set<String>> families(String text) {
        Map<String, Set<String>> out = new HashMap<>();
        for (String line : text.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (line.startsWith("#") || !m.matches()) {
                continue;
            }
            Set<String> labels = out.computeIfAbsent(m.group(1), k -> new HashSet<>());
            if (m.group(3) != null) {
                for (String kv : m.group(3).split(",(?=[A-Za-z_]+=\")")) {
                    labels.add(kv.substring(0, kv.indexOf('=')));
                }
            }
        }
        return out;
    }

    @Test
    void promtoolAcceptsTheOutputAndOnlyDcgmCamelCaseLabelsAreLinted() throws Exception {
        String text = agent.get("/metrics").body();
        Path file = dir.resolve("scrape.txt");
        Files.writeString(file, text);
        Process p = new ProcessBuilder("promtool", "check", "metrics").redirectInput(file.toFile())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        // promtool parses the whole exposition first: a format error would be reported as such
        assertThat(out).doesNotContain("error while linting").doesNotContain("text format parsing error");
        Map<String, Set<String>> fams = families(text);
        List<String> findings = out.lines().filter(l -> !l.isBlank()).toList();
        assertThat(findings).as("promtool findings").isNotEmpty();
        for (String f : findings) {
            // Only dcgm-exporter's own naming may be flagged, kept because dashboards depend on it:
            // its camelCase `modelName` label (also on gpu_agent_gpu_health_state, for joins), and
            // the name DCGM_FI_DEV_PCIE_REPLAY_COUNTER, which contains the word "counter".
            if (f.equals("DCGM_FI_DEV_PCIE_REPLAY_COUNTER metric name should not include type 'counter'")) {
                continue;
            }
            assertThat(f).matches("\\S+ label names should be written in 'snake_case' not 'camelCase'");
            String metric = f.substring(0, f.indexOf(' '));
            assertThat(fams.get(metric)).as("%s is flagged only for modelName", metric).contains("modelName");
        }
    }

    @Test
    void everyMetricAndLabelOfDashboard12239Exists() throws Exception {
        Map<String, Set<String>> fams = families(agent.get("/metrics").body());
        // not derivable from NVML at all (a DCGM profiling counter): that panel stays empty, documented
        Set<String> notFromNvml = Set.of("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE");
        // in by() clauses of 12239 but emitted by dcgm-exporter itself only on MIG GPUs (GPU_I_*) or
        // never (lower-case uuid): grouping by an absent label is a no-op, the panels work without them
        Set<String> notEmittedUpstreamEither = Set.of("uuid", "GPU_I_ID", "GPU_I_PROFILE");
        List<String> queries;
        try (InputStream in = getClass().getResourceAsStream("/dashboards/dcgm-12239-queries.txt")) {
            queries = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.startsWith("#") && !l.isBlank())
                    .map(l -> l.contains("\t") ? l.substring(l.indexOf('\t') + 1) : l).toList();
        }
        assertThat(queries).hasSizeGreaterThanOrEqualTo(8);
        Pattern metric = Pattern.compile("\\b(DCGM_FI_[A-Z_]+)");
        Pattern labelNames = Pattern.compile("(?:by \\(([^)]*)\\))|(?:\\{([^}]*)})|(?:label_values\\([^,]+,\\s*(\\w+)\\))");
        int checked = 0;
        for (String q : queries) {
            Matcher mm = metric.matcher(q);
            while (mm.find()) {
                String name = mm.group(1);
                if (notFromNvml.contains(name)) {
                    continue;
                }
                assertThat(fams).as("dashboard 12239 uses %s", name).containsKey(name);
                Matcher lm = labelNames.matcher(q);
                while (lm.find()) {
                    String group = lm.group(1) != null ? lm.group(1) : lm.group(2) != null ? lm.group(2) : lm.group(3);
                    for (String part : group.split(",")) {
                        String label = part.trim().split("[=!~]")[0].trim();
                        if (label.isEmpty() || notEmittedUpstreamEither.contains(label)) {
                            continue;
                        }
                        assertThat(fams.get(name)).as("%s has label %s (query %s)", name, label, q).contains(label);
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).isGreaterThan(10);
        assertThat(fams.get("DCGM_FI_DEV_GPU_TEMP")).containsExactlyInAnyOrder("gpu", "UUID", "pci_bus_id", "device",
                "modelName", "Hostname", "DCGM_FI_DRIVER_VERSION");
        String text = agent.get("/metrics").body();
        assertThat(text).contains("Hostname=\"gpu-host-7\"");
        // SXM cards have no fan: the family is absent, not zero; ECC and remapped rows are there
        assertThat(fams).doesNotContainKey("DCGM_FI_DEV_FAN_SPEED")
                .containsKeys("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS",
                        "DCGM_FI_DEV_MEMORY_TEMP", "gpu_agent_nvml_call_duration_seconds_bucket",
                        "gpu_agent_sampler_ticks_total", "gpu_agent_build_info", "jvm_memory_used_bytes",
                        "process_cpu_seconds_total");
    }

    @Test
    void everyMetricOfOurGrafanaDashboardExists() throws Exception {
        agent.inject("xid 2 13"); // an application XID: counted, GPU 2 stays healthy
        await().atMost(Duration.ofSeconds(10)).until(() -> agent.get("/metrics").body()
                .contains("gpu_agent_xid_errors_total{"));
        Map<String, Set<String>> fams = families(agent.get("/metrics").body());
        JsonNode dashboard = JSON.readTree(SimNvml.repoRoot().resolve("config/grafana/gpu-agent-dashboard.json").toFile());
        List<String> exprs = new ArrayList<>();
        dashboard.findValues("expr").forEach(e -> exprs.add(e.asText()));
        assertThat(exprs).hasSizeGreaterThan(20);
        // the collapsed "Rentals and payouts" row: families of the sessions, escrow and protocol issues
        Set<String> notYet = Set.of("gpu_agent_sessions", "gpu_agent_billed_seconds_total",
                "gpu_agent_earned_base_units_total", "gpu_agent_claimed_base_units_total", "gpu_agent_claims",
                "gpu_agent_voucher_lag_seconds", "gpu_agent_journal_fsync_duration_seconds_bucket",
                "gpu_agent_scheduler_connections");
        Pattern name = Pattern.compile("\\b((?:gpu_agent|jvm|process)_[a-z_]+)");
        int checked = 0;
        for (String e : exprs) {
            Matcher m = name.matcher(e);
            while (m.find()) {
                if (!notYet.contains(m.group(1))) {
                    assertThat(fams).as("dashboard query %s", e).containsKey(m.group(1));
                    checked++;
                }
            }
        }
        assertThat(checked).isGreaterThan(15);
        assertThat(agent.get("/metrics").body()).containsPattern("DCGM_FI_DEV_XID_ERRORS\\{[^}]*gpu=\"2\"[^}]*} 13.0");
    }

    @Test
    void healthReadinessStatusAndTheStatusCommand() throws Exception {
        assertThat(agent.get("/healthz").statusCode()).isEqualTo(200);
        HttpResponse<String> ready = agent.get("/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("ready\n");
        JsonNode status = JSON.readTree(agent.get("/status").body());
        assertThat(status.get("ready").asBoolean()).isTrue();
        assertThat(status.get("simulated").asBoolean()).isTrue();
        assertThat(status.get("gpus")).hasSize(8);
        assertThat(status.get("gpus").get(7).get("name").asText()).isEqualTo("NVIDIA H100 80GB HBM3");

        AgentProcess.Result r = AgentProcess.run(Map.of(), "status", "--url", agent.base());
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout()).contains("ready").contains("[SIMULATED GPUs]").contains("H100 80GB HBM3")
                .contains("HEALTHY");
        assertThat(r.stdout().lines().filter(l -> l.matches("\\d+\\s+H100.*"))).hasSize(8);

        AgentProcess.Result down = AgentProcess.run(Map.of(), "status", "--url", "http://127.0.0.1:1");
        assertThat(down.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(down.stderr()).contains("cannot reach the agent at http://127.0.0.1:1");
    }

    @Test
    void nothingSecretIsExposed() throws Exception {
        String all = agent.get("/metrics").body() + agent.get("/status").body();
        assertThat(all.toLowerCase()).doesNotContain("password", "secret", "private_key", "token", "keystore");
    }

    @Test
    void badRequestsGetTheRightStatusAndTheServerKeepsServing() throws Exception {
        assertThat(raw("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 404");
        String post = raw("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        assertThat(post).startsWith("HTTP/1.1 405").containsIgnoringCase("allow: GET, HEAD");
        String head = raw("HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(head).startsWith("HTTP/1.1 200").doesNotContain("DCGM_FI_DEV_GPU_TEMP{");
        assertThat(raw("GET /" + "a".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 414");
        assertThat(raw("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(9000) + "\r\n\r\n"))
                .startsWith("HTTP/1.1 431");
        assertThat(raw("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + "c".repeat(4096)))
                .startsWith("HTTP/1.1 413");
        assertThat(raw("THIS IS NOT HTTP\r\n\r\n")).startsWith("HTTP/1.1 400");
        HttpResponse<String> om = agent.get("/metrics", "Accept", "application/openmetrics-text; version=1.0.0");
        assertThat(om.headers().firstValue("content-type")).hasValueSatisfying(ct ->
                assertThat(ct).startsWith("application/openmetrics-text"));
        assertThat(om.body()).endsWith("# EOF\n");
        assertThat(agent.get("/metrics").statusCode()).isEqualTo(200);
    }

    @Test
    void aSlowlorisClientIsCutOffAndTooManyConnectionsAreRefused() throws Exception {
        try (Socket slow = new Socket("127.0.0.1", agent.port())) {
            slow.setSoTimeout(10_000);
            OutputStream out = slow.getOutputStream();
            out.write("GET /metrics HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            long start = System.nanoTime();
            int read = -2;
            for (int i = 0; i < 20 && read == -2; i++) {
                try {
                    out.write("X-Drip: y\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    slow.setSoTimeout(400);
                    read = slow.getInputStream().read();
                } catch (SocketTimeoutException stillOpen) {
                    // no answer yet: drip again
                } catch (java.io.IOException reset) {
                    read = -1;
                }
            }
            assertThat(read).as("closed without an answer").isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(6));
        }
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                Socket s = new Socket("127.0.0.1", agent.port());
                idle.add(s);
                // the kernel completes a connect before the agent accepts it: an answer on this connection
                // says the agent has accepted and counted it (it stays open, kept alive, for the next request)
                assertThat(keptAliveAnswer(s)).as("connection %d is served", i).startsWith("HTTP/1.1 200");
            }
            try (Socket extra = new Socket("127.0.0.1", agent.port())) {
                extra.setSoTimeout(5000);
                assertThat(extra.getInputStream().read()).as("the 7th connection is closed at once").isEqualTo(-1);
            }
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> agent.get("/healthz").statusCode() == 200);
    }

    /** One kept-alive request on {@code s}: its status line and headers, read up to the empty line. */
    private static String keptAliveAnswer(Socket s) throws java.io.IOException {
        s.setSoTimeout(5000);
        s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
        }
        Matcher length = Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        if (length.find()) {
            in.readNBytes(Integer.parseInt(length.group(1)));
        }
        return head.toString();
    }

    @Test
    void concurrentScrapersGetFreshValuesAndAHungGpuIsMarkedStaleNotFrozen() throws Exception {
        long ticksBefore = ticks(agent.get("/metrics").body());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    int ok = 0;
                    for (int i = 0; i < 40; i++) {
                        String body = agent.get("/metrics").body();
                        for (String line : body.split("\n")) {
                            if (line.startsWith("gpu_agent_gpu_sample_age_seconds{")) {
                                double age = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                                assertThat(age).as("never older than two ticks").isLessThanOrEqualTo(2.0);
                            }
                        }
                        ok++;
                    }
                    return ok;
                }));
            }
            for (Future<Integer> f : results) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(40);
            }
        } finally {
            pool.shutdownNow();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> ticks(agent.get("/metrics").body()) >= ticksBefore + 2);

        agent.inject("hang 6 forever");
        try {
            // stale once its last sample is two ticks old; UNKNOWN once the hung call misses its deadline
            Pattern unknown = Pattern.compile("gpu_agent_gpu_health_state\\{[^}]*gpu=\"6\"[^}]*state=\"UNKNOWN\"} 1.0");
            await().atMost(Duration.ofSeconds(15)).until(() -> {
                String t = agent.get("/metrics").body();
                return t.contains("gpu_agent_gpu_stale{UUID=\"" + uuid(6) + "\",gpu=\"6\"} 1.0") && unknown.matcher(t).find();
            });
            String text = agent.get("/metrics").body();
            assertThat(text.lines().filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{"))).hasSize(7)
                    .noneMatch(l -> l.contains("gpu=\"6\""));
            assertThat(text).containsPattern("gpu_agent_gpu_health_state\\{[^}]*gpu=\"6\"[^}]*state=\"UNKNOWN\"} 1.0");
            assertThat(text).containsPattern("gpu_agent_nvml_call_timeouts_total [1-9]");
        } finally {
            agent.inject("unhang 6");
        }
        await().atMost(Duration.ofSeconds(15)).until(() ->
                agent.get("/metrics").body().contains("gpu_agent_gpu_stale{UUID=\"" + uuid(6) + "\",gpu=\"6\"} 0.0"));
    }

    private static String uuid(int gpu) throws Exception {
        return JSON.readTree(agent.get("/status").body()).get("gpus").get(gpu).get("uuid").asText();
    }

    private static long ticks(String text) {
        Matcher m = Pattern.compile("(?m)^gpu_agent_sampler_ticks_total (\\S+)$").matcher(text);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
    }

    /** Sends raw bytes and returns what comes back until the server closes or 5 s pass. */
    private static String raw(String request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", agent.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            StringBuilder sb = new StringBuilder();
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = s.getInputStream().read(buf)) > 0) {
                    sb.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                    if (sb.indexOf("\r\n\r\n") > 0 && sb.toString().toLowerCase().contains("content-length: ")) {
                        int cl = Integer.parseInt(sb.toString().toLowerCase().split("content-length: ")[1].split("\r\n")[0].trim());
                        if (sb.length() - sb.indexOf("\r\n\r\n") - 4 >= cl || request.startsWith("HEAD")) {
                            break;
                        }
                    }
                }
            } catch (SocketTimeoutException | java.net.SocketException done) {
                // closed or idle: what we have is the answer
            }
            return sb.toString();
        }
    }

    static {
        // fail loudly, never skip, when the tools are missing
        if (!Files.isExecutable(Path.of("/usr/bin/promtool"))) {
            throw new IllegalStateException("promtool is missing: apt-get install prometheus (scripts/test.sh does)");
        }
        SimNvml.library();
    }
}

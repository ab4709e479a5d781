package io.gpuagent.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;

/**
 * `gpu-agent run` as a separate process on a simulated machine, its metrics endpoint on a free
 * loopback port (read back from its log), a control file for fault injection, and SIGTERM on close.
 */
public final class RunningAgent implements AutoCloseable {
    private static final Pattern ENDPOINT = Pattern.compile("metrics endpoint on http://([^/\\s]+)/metrics");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final Process process;
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private final Path control;
    private final String base;

    public RunningAgent(Path dir, String machine, String... sets) throws Exception {
        this(java.util.function.UnaryOperator.identity(), dir, machine, sets);
    }

    /** Started under {@code umask} ({@link AgentProcess#withUmask}), as a shell with that umask would start it. */
    public static RunningAgent underUmask(String umask, Path dir, String machine, String... sets) throws Exception {
        return new RunningAgent(pb -> AgentProcess.withUmask(umask, pb), dir, machine, sets);
    }

    /** Started inside the network namespace {@code netns} ({@code ip netns exec}), as a host behind NAT. */
    public static RunningAgent inNetns(String netns, Path dir, String machine, String... sets) throws Exception {
        return new RunningAgent(pb -> {
            List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", netns));
            cmd.addAll(pb.command());
            return pb.command(cmd);
        }, dir, machine, sets);
    }

    private RunningAgent(java.util.function.UnaryOperator<ProcessBuilder> launcher, Path dir, String machine,
                         String... sets) throws Exception {
        Files.createDirectories(dir);
        control = dir.resolve("control");
        Files.writeString(control, "");
        List<String> args = new ArrayList<>(List.of("run", "--set", "agent.state_dir=" + dir.resolve("state"),
                "--set", "gpu.nvml_library=" + SimNvml.library(), "--set", "metrics.listen=127.0.0.1:0",
                "--set", "sessions.enabled=false"));
        for (String s : sets) {
            args.add("--set");
            args.add(s);
        }
        process = launcher.apply(AgentProcess.builder(Map.of("GPU_AGENT_SIM_CONFIG", SimNvml.machine(machine).toString(),
                "GPU_AGENT_SIM_CONTROL", control.toString()), args.toArray(String[]::new))).start();
        Thread drain = new Thread(() -> {
            try {
                process.getErrorStream().transferTo(new java.io.OutputStream() {
                    @Override
                    public void write(int b) {
                        synchronized (log) {
                            log.write(b);
                        }
                    }

                    @Override
                    public void write(byte[] b, int off, int len) {
                        synchronized (log) {
                            log.write(b, off, len);
                        }
                    }
                });
            } catch (IOException ignored) {
                // the process ended
            }
        }, "test-agent-stderr");
        drain.setDaemon(true);
        drain.start();
        await().atMost(Duration.ofSeconds(30)).until(() -> log().contains("ready in") || !process.isAlive());
        if (!process.isAlive()) {
            throw new IllegalStateException("agent exited with " + process.exitValue() + ":\n" + log());
        }
        Matcher m = ENDPOINT.matcher(log());
        if (!m.find()) {
            throw new IllegalStateException("no metrics endpoint in the agent's log:\n" + log());
        }
        base = "http://" + m.group(1);
    }

    private static final Pattern SCHEDULERS = Pattern.compile("serving schedulers on /?([0-9.]+|\\[[0-9a-f:]+\\]):(\\d+)");

    /** Where the agent accepts schedulers (market.listen, port 0 in tests), from its log. */
    public java.net.InetSocketAddress marketAddress() {
        Matcher m = SCHEDULERS.matcher(log());
        if (!m.find()) {
            throw new IllegalStateException("the agent does not listen for schedulers:\n" + log());
        }
        return new java.net.InetSocketAddress(m.group(1), Integer.parseInt(m.group(2)));
    }

    public String log() {
        synchronized (log) {
            return log.toString(StandardCharsets.UTF_8);
        }
    }

    public String base() {
        return base;
    }

    public int port() {
        return Integer.parseInt(base.substring(base.lastIndexOf(':') + 1));
    }

    public HttpResponse<String> get(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    public void inject(String command) throws IOException {
        SimNvml.command(control, command);
    }

    public Process process() {
        return process;
    }

    @Override
    public void close() throws InterruptedException {
        process.toHandle().destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}

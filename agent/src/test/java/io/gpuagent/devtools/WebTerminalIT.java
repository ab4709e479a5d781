package io.gpuagent.devtools;

import io.gpuagent.container.docker.DockerContainerRuntimeIT;
import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.protocol.Message;
import io.gpuagent.testsupport.AgentProcess;
import io.gpuagent.testsupport.RunningAgent;
import io.gpuagent.testsupport.SimNvml;
import io.gpuagent.testsupport.TestDocker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The reference web terminal end to end (docs/web-terminal.md): a real agent with sessions on the
 * Docker test engine, a session running busybox httpd, {@code gpu-agent web-terminal} as its own
 * process, and headless chromium (Debian's) driven by playwright-core through
 * agent/src/test/web-terminal/browser-test.mjs: typing into the terminal, its exit code on the page,
 * {@code stty size} following the page's fit as the viewport and the logs pane change it, the
 * container's web page through {@code /tunnel/PORT/}. The browser's gateway is the one the agent
 * dials out to ({@code market.dial}): the renter's keystrokes, logs and page travel the link the
 * agent opened (NatStreamsIT runs that link from behind a NAT). Without node, npm or chromium it
 * fails; it never skips (scripts/test.sh installs them).
 */
class WebTerminalIT {
    private static final Duration T = Duration.ofSeconds(30);
    private static final String RENTAL = "0x" + "ab".repeat(32);
    private static final String PAGE_TEXT = "served from inside the session";
    private static final Pattern READY = Pattern.compile("web terminal on (http://\\S+/) for session s-1");
    private static final Pattern WAITING = Pattern.compile("waiting for an agent to dial (\\S+:\\d+) ");

    @TempDir
    Path dir;

    @Test
    void aBrowserTypesIntoASessionSeesItsExitCodeResizesItsPtyAndFetchesItsWebServer() throws Exception {
        String chromium = executable("chromium");
        String node = executable("node");
        Path browserTest = browserTestDir(executable("npm"));
        Path socket = DockerContainerRuntimeIT.socketFromEnvironment();
        // a second gateway waits for an agent that dials out (market.dial); it binds first and says where
        // the browser goes through it: the renter's bytes travel the link the agent dialed out on
        Process dialed = AgentProcess.builder(Map.of(), "web-terminal", "--plaintext", "--listen", "127.0.0.1:0",
                "--timeout", "120", "--http", "127.0.0.1:0", "--session", "s-1").start();
        ByteArrayOutputStream dialedLog = new ByteArrayOutputStream();
        BufferedReader dialedErr = new BufferedReader(new InputStreamReader(dialed.getErrorStream(), StandardCharsets.UTF_8));
        try (TestDocker docker = new TestDocker(socket);
             RunningAgent agent = new RunningAgent(dir.resolve("agent"), "gaming-pc-rtx4090.conf",
                     "sessions.enabled=true", "docker.socket=" + socket, "sessions.cpus_per_gpu=1",
                     "sessions.memory_per_gpu_mb=512", "sessions.disk_per_gpu_gb=1", "sessions.stop_grace_ms=1000",
                     "market.listen=127.0.0.1:0", "market.plaintext=true",
                     "market.dial=" + readUntil(dialedErr, WAITING, dialedLog).group(1));
             SchedulerClient client = new SchedulerClient(null);
             SchedulerConnection c = client.connect(agent.marketAddress())) {
            c.call(new Message.Hello(List.of(1), "it", null, List.of("streams")), Message.Welcome.class, T);
            String script = "mkdir -p /www && echo '" + PAGE_TEXT + "' > /www/index.html && httpd -p 8080 -h /www"
                    + " && for i in 1 2 3 4 5; do echo line-$i; done && sleep 3600";
            c.call(new Message.Launch("s-1", RENTAL, "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2", 1, null, TestDocker.BASE_IMAGE,
                    List.of("sh", "-c", script), null, null, null, "139", 3600L), Message.SessionReply.class, T);
            await().atMost(T).until(() -> c.call(new Message.Status("s-1"), Message.SessionReply.class, T)
                    .session().state().equals("running"));

            String at = agent.marketAddress().getHostString() + ":" + agent.marketAddress().getPort();
            String url = readUntil(dialedErr, READY, dialedLog).group(1);
            drain(dialedErr, dialedLog);
            // a page of another site may not open a shell in the session
            assertThat(upgrade(url, "http://evil.example")).startsWith("HTTP/1.1 403");
            assertThat(upgrade(url, url.substring(0, url.length() - 1))).startsWith("HTTP/1.1 101");
            inTheBrowser(node, chromium, browserTest, url, dialedLog);
            assertThat(text(dialedLog)).contains("exec stream").contains("closed: exited (exit code 3)")
                    .contains("logs stream").contains("tunnel stream");
            assertThat(agent.log()).contains("opened into session s-1: tunnel to port 8080");

            // the same gateway over a connection the scheduler made (market.listen), with a command of its own
            Process gateway = AgentProcess.builder(Map.of(), "web-terminal", "--plaintext", "--connect", at,
                    "--http", "127.0.0.1:0", "--session", "s-1", "--", "sh", "-c", "echo own-command; exit 5").start();
            ByteArrayOutputStream gatewayLog = new ByteArrayOutputStream();
            try {
                BufferedReader err = new BufferedReader(new InputStreamReader(gateway.getErrorStream(), StandardCharsets.UTF_8));
                String connected = readUntil(err, READY, gatewayLog).group(1);
                drain(err, gatewayLog);
                overALink(connected);
            } finally {
                gateway.destroy();
                gateway.waitFor(10, TimeUnit.SECONDS);
            }
        } finally {
            dialed.destroy();
            dialed.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** browser-test.mjs in headless chromium against the gateway at {@code url}. */
    private static void inTheBrowser(String node, String chromium, Path browserTest, String url, ByteArrayOutputStream gatewayLog)
            throws Exception {
        Path screenshot = SimNvml.repoRoot().resolve("agent/target/web-terminal-it/web-terminal.png");
        Files.createDirectories(screenshot.getParent());
        ProcessBuilder pb = new ProcessBuilder(node, browserTest.resolve("browser-test.mjs").toString())
                .directory(browserTest.toFile()).redirectErrorStream(true);
        pb.environment().putAll(Map.of("WEB_TERMINAL_URL", url, "CHROMIUM", chromium, "SCREENSHOT", screenshot.toString(),
                "TUNNEL_PORT", "8080", "TUNNEL_TEXT", PAGE_TEXT, "LOG_LINE", "line-5"));
        Process browser = pb.start();
        String out = new String(browser.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean done = browser.waitFor(180, TimeUnit.SECONDS);
        System.out.println(out);
        assertThat(done).as("the browser test ended within 180 s").isTrue();
        assertThat(browser.exitValue()).as("browser test:\n%s\ngateway:\n%s", out, text(gatewayLog)).isZero();
        assertThat(out).contains("browser checks: all held");
        assertThat(screenshot).isNotEmptyFile();
    }

    /** A gateway with a command of its own: a terminal by Java's WebSocket client, and a tunnel. */
    private static void overALink(String url) throws Exception {
        StringBuilder shown = new StringBuilder();
        CompletableFuture<String> closed = new CompletableFuture<>();
        HttpClient http = HttpClient.newHttpClient();
        http.newWebSocketBuilder().buildAsync(URI.create(url.replace("http://", "ws://") + "ws/terminal?cols=100&rows=30"),
                new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                        synchronized (shown) {
                            shown.append(StandardCharsets.UTF_8.decode(data));
                        }
                        return WebSocket.Listener.super.onBinary(ws, data, last);
                    }

                    @Override
                    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                        if (data.toString().contains("\"closed\"")) {
                            closed.complete(data.toString());
                        }
                        return WebSocket.Listener.super.onText(ws, data, last);
                    }
                }).get(30, TimeUnit.SECONDS);
        assertThat(closed.get(30, TimeUnit.SECONDS)).contains("\"reason\":\"exited\"").contains("\"exitCode\":5");
        synchronized (shown) {
            assertThat(shown.toString()).contains("own-command");
        }
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(url + "tunnel/8080/index.html")).timeout(T).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).isEqualTo(PAGE_TEXT + "\n");
    }

    /** Reads a gateway's stderr up to a line {@code p} finds (kept in {@code log}). */
    private static Matcher readUntil(BufferedReader err, Pattern p, ByteArrayOutputStream log) throws IOException {
        for (String line; (line = err.readLine()) != null; ) {
            synchronized (log) {
                log.writeBytes((line + "\n").getBytes(StandardCharsets.UTF_8));
            }
            Matcher m = p.matcher(line);
            if (m.find()) {
                return m;
            }
        }
        throw new AssertionError("the gateway ended without a line matching " + p + "; it wrote:\n" + text(log));
    }

    /** A WebSocket handshake to the terminal with this Origin; the status line of the answer. */
    private static String upgrade(String url, String origin) throws IOException {
        URI u = URI.create(url);
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream o = s.getOutputStream();
            o.write(("GET /ws/terminal?cols=80&rows=24 HTTP/1.1\r\nHost: " + u.getHost() + ":" + u.getPort() + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\nOrigin: " + origin + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }

    /** The test's npm packages (playwright-core only) installed from the lock file into target/, once. */
    private static Path browserTestDir(String npm) throws Exception {
        Path src = SimNvml.repoRoot().resolve("agent/src/test/web-terminal");
        Path dest = SimNvml.repoRoot().resolve("agent/target/web-terminal-browser-test");
        Files.createDirectories(dest);
        for (String f : List.of("package.json", "package-lock.json", "browser-test.mjs")) {
            Files.copy(src.resolve(f), dest.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.isDirectory(dest.resolve("node_modules/playwright-core"))) {
            Process p = new ProcessBuilder(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
                    .directory(dest.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as("npm ci in %s:\n%s", dest, out).isZero();
        }
        return dest;
    }

    /** The absolute path of a command on the PATH; fails (never skips) when it is missing. */
    private static String executable(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(d.isEmpty() ? "." : d, name);
            if (Files.isExecutable(p)) {
                return p.toAbsolutePath().toString();
            }
        }
        throw new AssertionError(name + " is not on the PATH: the web terminal's browser test needs chromium, node and npm "
                + "(scripts/test.sh installs them: apt-get install chromium nodejs npm)");
    }

    private static void drain(BufferedReader from, ByteArrayOutputStream to) {
        Thread t = new Thread(() -> {
            try {
                for (String line; (line = from.readLine()) != null; ) {
                    synchronized (to) {
                        to.writeBytes((line + "\n").getBytes(StandardCharsets.UTF_8));
                    }
                }
            } catch (IOException e) {
                // the gateway ended: what it wrote is kept
            }
        }, "web-terminal-log");
        t.setDaemon(true);
        t.start();
    }

    private static String text(ByteArrayOutputStream b) {
        synchronized (b) {
            return b.toString(StandardCharsets.UTF_8);
        }
    }
}

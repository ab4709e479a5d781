package io.gpuagent.market.streams;

import io.gpuagent.container.docker.DockerContainerRuntimeIT;
import io.gpuagent.market.client.ClientStream;
import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.protocol.Message;
import io.gpuagent.testsupport.RunningAgent;
import io.gpuagent.testsupport.TestDocker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Issue 10's streams on the real agent process and the real test engine: exec with and without a
 * PTY (output, stderr apart, stdin and its EOF, resize, exit code), a tunnel to a web server in the
 * container with no host port published, logs with tail and follow, flow control that stops a
 * flood at the scheduler's window, and the rules of who may open what.
 */
class StreamsIT {
    private static final Duration T = Duration.ofSeconds(30);
    private static final String RENTAL = "0x" + "ab".repeat(32);

    private static final AtomicLong NEXT = new AtomicLong(100);

    @TempDir
    Path dir;

    /** Collects a stream's bytes, stdout and stderr apart. */
    static final class Sink implements ClientStream.Listener {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final AtomicLong bytes = new AtomicLong();

        @Override
        public synchronized void data(int kind, byte[] b) {
            (kind == StreamFrame.STDERR ? err : out).writeBytes(b);
            bytes.addAndGet(b.length);
        }

        synchronized String out() {
            return out.toString(StandardCharsets.UTF_8);
        }

        synchronized String err() {
            return err.toString(StandardCharsets.UTF_8);
        }
    }

    private static Message.StreamOpen exec(String session, List<String> command, Boolean tty, Integer cols, Integer rows) {
        return new Message.StreamOpen(session, NEXT.incrementAndGet(), "exec", command, tty, cols, rows, null, null, null, null, null, null);
    }

    private static Message.StreamOpen tunnel(String session, int port) {
        return new Message.StreamOpen(session, NEXT.incrementAndGet(), "tunnel", null, null, null, null, null, port, null, null, null, null);
    }

    private static Message.StreamOpen logs(String session, Integer tail, boolean follow) {
        return new Message.StreamOpen(session, NEXT.incrementAndGet(), "logs", null, null, null, null, null, null, tail, follow, null, null);
    }

    private static ClientStream open(SchedulerConnection c, Message.StreamOpen o, ClientStream.Listener l) throws Exception {
        try {
            return c.openStream(o, l, true).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    @Test
    void execTunnelAndLogsReachARunningSessionOverTheSchedulerLinkOnly() throws Exception {
        Path socket = DockerContainerRuntimeIT.socketFromEnvironment();
        try (TestDocker docker = new TestDocker(socket);
             RunningAgent agent = new RunningAgent(dir.resolve("agent"), "gaming-pc-rtx4090.conf",
                     "sessions.enabled=true", "docker.socket=" + socket, "sessions.cpus_per_gpu=1",
                     "sessions.memory_per_gpu_mb=512", "sessions.disk_per_gpu_gb=1", "sessions.stop_grace_ms=1000",
                     "market.listen=127.0.0.1:0", "market.plaintext=true");
             SchedulerClient client = new SchedulerClient(null);
             SchedulerConnection v1 = client.connect(agent.marketAddress());
             SchedulerConnection c = client.connect(agent.marketAddress())) {
            // a scheduler that does not ask for streams sees protocol v1: no capability, no streams
            Message.Welcome plain = v1.call(new Message.Hello(List.of(1), "v1", null, List.of()), Message.Welcome.class, T);
            assertThat(plain.capabilities()).doesNotContain("streams");
            assertThatThrownBy(() -> open(v1, exec("s-1", List.of("true"), null, null, null), new Sink()))
                    .hasMessageStartingWith("streams_not_negotiated");

            List<Message> events = new CopyOnWriteArrayList<>();
            c.onEvent(events::add);
            Message.Welcome w = c.call(new Message.Hello(List.of(1), "it", null, List.of("streams")), Message.Welcome.class, T);
            assertThat(w.capabilities()).contains("streams");

            assertThatThrownBy(() -> open(c, exec("s-none", List.of("true"), null, null, null), new Sink()))
                    .hasMessageStartingWith("unknown_session");

            String script = "mkdir -p /www && echo 'served from inside' > /www/index.html && httpd -p 8080 -h /www"
                    + " && for i in 1 2 3 4 5; do echo line-$i; done && sleep 3600";
            c.call(new Message.Launch("s-1", RENTAL, "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2", 1, null,
                    TestDocker.BASE_IMAGE, List.of("sh", "-c", script), null, null, null, "139", 3600L), Message.SessionReply.class, T);
            await().atMost(T).until(() -> c.call(new Message.Status("s-1"), Message.SessionReply.class, T)
                    .session().state().equals("running"));
            assertThat(c.call(new Message.Status("s-1"), Message.SessionReply.class, T).session().hostPorts())
                    .as("nothing published").isEmpty();

            // exec with a PTY: output and the exit code
            Sink tty = new Sink();
            ClientStream s1 = open(c, exec("s-1", List.of("sh", "-c", "echo hello; exit 3"), true, 80, 24), tty);
            assertThat(s1.opened().tty()).isTrue();
            Message.StreamClosed closed = s1.closed().get(30, TimeUnit.SECONDS);
            assertThat(tty.out()).contains("hello");
            assertThat(closed.reason()).isEqualTo("exited");
            assertThat(closed.exitCode()).isEqualTo(3);

            // exec without a PTY: stdin to the process, its EOF, stdout and stderr apart
            Sink cat = new Sink();
            ClientStream s2 = open(c, exec("s-1", List.of("sh", "-c", "cat; echo oops >&2"), null, null, null), cat);
            assertThat(s2.opened().tty()).isFalse();
            s2.write("abc\n".getBytes(StandardCharsets.UTF_8), T);
            s2.eof();
            Message.StreamClosed c2 = s2.closed().get(30, TimeUnit.SECONDS);
            assertThat(cat.out()).isEqualTo("abc\n");
            assertThat(cat.err()).isEqualTo("oops\n");
            assertThat(c2.exitCode()).isZero();
            assertThat(c2.bytesIn()).isEqualTo(4);

            // a login shell with a PTY follows resizes
            Sink shell = new Sink();
            ClientStream s3 = open(c, exec("s-1", List.of(), null, 80, 24), shell);
            s3.resize(132, 43, T);
            s3.write("stty size; exit 7\n".getBytes(StandardCharsets.UTF_8), T);
            Message.StreamClosed c3 = s3.closed().get(30, TimeUnit.SECONDS);
            assertThat(shell.out()).contains("43 132");
            assertThat(c3.exitCode()).isEqualTo(7);

            // a tunnel to the container's web server, nothing published on the host
            Sink page = new Sink();
            ClientStream t = open(c, tunnel("s-1", 8080), page);
            t.write("GET /index.html HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII), T);
            await().atMost(T).until(t::eofReceived); // the server answered and closed: its half ended
            assertThat(t.closed()).as("a tunnel ends when both halves have").isNotDone();
            t.eof();
            Message.StreamClosed tc = t.closed().get(30, TimeUnit.SECONDS);
            assertThat(page.out()).startsWith("HTTP/1.").contains("served from inside");
            assertThat(tc.reason()).isEqualTo("eof");
            assertThatThrownBy(() -> open(c, tunnel("s-1", 9), new Sink())).hasMessageStartingWith("tunnel_refused");

            // logs: the last lines, then follow
            Sink tail = new Sink();
            ClientStream l1 = open(c, logs("s-1", 2, false), tail);
            assertThat(l1.closed().get(30, TimeUnit.SECONDS).reason()).isEqualTo("eof");
            assertThat(tail.out()).isEqualTo("line-4\nline-5\n");
            Sink follow = new Sink();
            ClientStream l2 = open(c, logs("s-1", 0, true), follow);
            open(c, exec("s-1", List.of("sh", "-c", "echo followed > /proc/1/fd/1"), null, null, null), new Sink())
                    .closed().get(30, TimeUnit.SECONDS);
            await().atMost(T).until(() -> follow.out().contains("followed"));

            // the developer's commands: exec with the command's exit code, logs
            String at = agent.marketAddress().getHostString() + ":" + agent.marketAddress().getPort();
            io.gpuagent.testsupport.AgentProcess.Result ran = io.gpuagent.testsupport.AgentProcess.run(Map.of(), "scheduler",
                    "exec", "--plaintext", "--connect", at, "s-1", "--", "sh", "-c", "echo from-cli; echo to-err >&2; exit 4");
            assertThat(ran.exitCode()).as(ran.stderr()).isEqualTo(4);
            assertThat(ran.stdout()).isEqualTo("from-cli\n");
            assertThat(ran.stderr()).contains("to-err");
            io.gpuagent.testsupport.AgentProcess.Result logged = io.gpuagent.testsupport.AgentProcess.run(Map.of(), "scheduler",
                    "logs", "--plaintext", "--connect", at, "--tail", "1", "s-1");
            assertThat(logged.exitCode()).as(logged.stderr()).isZero();
            assertThat(logged.stdout()).isEqualTo("followed\n");

            Process fwd = io.gpuagent.testsupport.AgentProcess.builder(Map.of(), "scheduler", "tunnel", "--plaintext",
                    "--connect", at, "--local", "0", "s-1", "8080").start();
            try {
                String first = new java.io.BufferedReader(new java.io.InputStreamReader(fwd.getErrorStream(),
                        StandardCharsets.UTF_8)).readLine();
                assertThat(first).startsWith("forwarding 127.0.0.1:");
                int local = Integer.parseInt(first.replaceAll("forwarding 127\\.0\\.0\\.1:(\\d+) .*", "$1"));
                java.net.http.HttpResponse<String> viaCli = java.net.http.HttpClient.newHttpClient().send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + local + "/index.html"))
                                .timeout(T).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(viaCli.body()).isEqualTo("served from inside\n");
            } finally {
                fwd.destroy();
            }

            String metrics = agent.get("/metrics").body();
            assertThat(metrics).contains("gpu_agent_streams_opened_total{kind=\"exec\"} 5.0")
                    .contains("gpu_agent_streams_opened_total{kind=\"tunnel\"} 2.0")
                    .contains("gpu_agent_streams_refused_total{code=\"tunnel_refused\"} 1.0")
                    .contains("gpu_agent_streams_open{kind=\"logs\"} 1.0");
            assertThat(agent.log()).contains("opened into session s-1: tunnel to port 8080")
                    .contains("opened into session s-1: exec sh -c cat; echo oops >&2");

            // a session that ends takes its streams; an ended session opens none
            Sink idle = new Sink();
            ClientStream sh = open(c, exec("s-1", List.of("sleep", "3600"), null, null, null), idle);
            c.call(new Message.Stop("s-1", "test"), Message.SessionReply.class, T);
            assertThat(sh.closed().get(30, TimeUnit.SECONDS).reason()).isIn("session_ended", "exited");
            assertThat(l2.closed().get(30, TimeUnit.SECONDS).reason()).isIn("session_ended", "eof");
            await().atMost(T).until(() -> c.call(new Message.Status("s-1"), Message.SessionReply.class, T)
                    .session().state().equals("ended"));
            assertThatThrownBy(() -> open(c, exec("s-1", List.of("true"), null, null, null), new Sink()))
                    .hasMessageStartingWith("session_not_running");
        }
    }

    @Test
    void aFloodStopsAtTheSchedulersWindowAndGoesOnWhenItGrantsMore() throws Exception {
        Path socket = DockerContainerRuntimeIT.socketFromEnvironment();
        try (TestDocker docker = new TestDocker(socket);
             RunningAgent agent = new RunningAgent(dir.resolve("agent"), "gaming-pc-rtx4090.conf",
                     "sessions.enabled=true", "docker.socket=" + socket, "sessions.cpus_per_gpu=1",
                     "sessions.memory_per_gpu_mb=512", "sessions.disk_per_gpu_gb=1", "sessions.stop_grace_ms=1000",
                     "market.listen=127.0.0.1:0", "market.plaintext=true", "market.stream_limit_per_session=2");
             SchedulerClient client = new SchedulerClient(null);
             SchedulerConnection c = client.connect(agent.marketAddress())) {
            c.call(new Message.Hello(List.of(1), "it", null, List.of("streams")), Message.Welcome.class, T);
            c.call(new Message.Launch("s-2", RENTAL, "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2", 1, null, TestDocker.BASE_IMAGE, List.of("sleep", "3600"), null,
                    null, null, "139", 3600L), Message.SessionReply.class, T);
            await().atMost(T).until(() -> c.call(new Message.Status("s-2"), Message.SessionReply.class, T)
                    .session().state().equals("running"));

            long window = 64 * 1024;
            Sink flood = new Sink();
            Message.StreamOpen yes = new Message.StreamOpen("s-2", NEXT.incrementAndGet(), "exec", List.of("yes"), false, null, null,
                    Map.of(), null, null, null, window, null);
            ClientStream s = c.openStream(yes, flood, false).get(30, TimeUnit.SECONDS);
            await().atMost(T).until(() -> flood.bytes.get() == window);
            Thread.sleep(1000);
            assertThat(flood.bytes.get()).as("nothing beyond the window").isEqualTo(window);
            // heartbeats and requests are not held up by the stalled stream
            c.call(new Message.Heartbeat(null), Message.Heartbeat.class, T);
            s.grant(window);
            await().atMost(T).until(() -> flood.bytes.get() == 2 * window);
            Thread.sleep(500);
            assertThat(flood.bytes.get()).isEqualTo(2 * window);

            // the per-session limit counts open streams
            ClientStream second = open(c, exec("s-2", List.of("sleep", "60"), null, null, null), new Sink());
            assertThatThrownBy(() -> open(c, exec("s-2", List.of("true"), null, null, null), new Sink()))
                    .hasMessageStartingWith("stream_limit");
            // a stream number in use is refused
            Message.StreamOpen again = new Message.StreamOpen("s-2", s.id(), "exec", List.of("true"), null, null, null,
                    null, null, null, null, null, null);
            assertThatThrownBy(() -> c.call(again, Message.StreamOpened.class, T)).hasMessageStartingWith("stream_in_use");

            // DATA beyond the agent's window ends that stream, and only that one
            io.netty.buffer.ByteBuf tooMuch = io.netty.buffer.Unpooled.wrappedBuffer(new byte[300 * 1024]);
            second.writeUnchecked(tooMuch);
            assertThat(second.closed().get(30, TimeUnit.SECONDS).reason()).isEqualTo("window_exceeded");
            assertThat(s.close(T).reason()).isEqualTo("closed");
            assertThat(c.call(new Message.Status("s-2"), Message.SessionReply.class, T).session().state()).isEqualTo("running");
        }
    }
}

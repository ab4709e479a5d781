package io.gpuagent.market.streams;

import io.gpuagent.container.docker.DockerContainerRuntimeIT;
import io.gpuagent.market.client.ClientStream;
import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.market.netty.TlsContexts;
import io.gpuagent.market.tls.Fingerprints;
import io.gpuagent.market.tls.TlsSettings;
import io.gpuagent.protocol.Message;
import io.gpuagent.testsupport.AgentProcess;
import io.gpuagent.testsupport.NatNamespace;
import io.gpuagent.testsupport.RunningAgent;
import io.gpuagent.testsupport.TestDocker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Issue 10's "behind NAT": the agent runs in a network namespace this test makes, with no route in
 * (its firewall lets replies in, no new connection: a home router nobody forwarded a port to), and
 * dials out over mutual TLS to a marketplace on the namespace's uplink. Over that one connection the
 * marketplace launches a session, opens a terminal in it, reads its logs and fetches a page from a
 * web server in it through a tunnel, while nothing can connect to the agent.
 */
class NatStreamsIT {
    private static final Duration T = Duration.ofSeconds(30);
    private static final AtomicLong NEXT = new AtomicLong();

    @TempDir
    Path dir;

    @Test
    void anAgentThatOnlyDialsOutServesATerminalLogsAndATunnelOverItsOneConnection() throws Exception {
        Path socket = DockerContainerRuntimeIT.socketFromEnvironment();
        Path tls = dir.resolve("tls");
        AgentProcess.Result init = AgentProcess.run(Map.of(), "tls", "init", "--dir", tls.toString(),
                "--set", "agent.state_dir=" + dir.resolve("state"));
        assertThat(init.exitCode()).as(init.stderr()).isZero();
        X509Certificate scheduler;
        try (InputStream in = Files.newInputStream(tls.resolve("scheduler.pem"))) {
            scheduler = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        TlsSettings market = TlsSettings.load(tls.resolve("scheduler.pem"), tls.resolve("scheduler-key.pem"),
                tls.resolve("ca.pem"), List.of(), 5000, Instant.now());
        LinkedBlockingQueue<SchedulerConnection> dialed = new LinkedBlockingQueue<>();
        try (NatNamespace nat = new NatNamespace();
             TestDocker docker = new TestDocker(socket);
             SchedulerClient marketplace = new SchedulerClient(TlsContexts.marketplace(market))) {
            InetSocketAddress at = marketplace.listen(new InetSocketAddress(nat.hostAddress(), 0), dialed::add);
            try (RunningAgent agent = RunningAgent.inNetns(nat.name(), dir.resolve("agent"), "gaming-pc-rtx4090.conf",
                    "sessions.enabled=true", "docker.socket=" + socket, "sessions.cpus_per_gpu=1",
                    "sessions.memory_per_gpu_mb=512", "sessions.disk_per_gpu_gb=1", "sessions.stop_grace_ms=1000",
                    "metrics.listen=0.0.0.0:0", "market.dial=" + nat.hostAddress() + ":" + at.getPort(),
                    "market.tls_cert=" + tls.resolve("agent.pem"), "market.tls_key=" + tls.resolve("agent-key.pem"),
                    "market.tls_ca=" + tls.resolve("ca.pem"), "market.tls_pins=" + Fingerprints.sha256(scheduler))) {
                SchedulerConnection c = dialed.poll(30, TimeUnit.SECONDS);
                assertThat(c).as("the agent dialed out:\n" + agent.log()).isNotNull();

                // nothing gets in: the agent's own metrics port, open inside, cannot be reached from outside
                assertThatThrownBy(() -> {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress(nat.innerAddress(), agent.port()), 2000);
                    }
                }).as("no route in").isInstanceOf(IOException.class);

                Message.Welcome w = c.call(new Message.Hello(List.of(1), "market", null, List.of("streams")),
                        Message.Welcome.class, T);
                assertThat(w.capabilities()).contains("streams");
                String script = "mkdir -p /www && echo 'behind nat' > /www/index.html && httpd -p 8080 -h /www"
                        + " && echo launched && sleep 3600";
                c.call(new Message.Launch("s-nat", "0x" + "ab".repeat(32), "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2", 1,
                        null, TestDocker.BASE_IMAGE, List.of("sh", "-c", script), null, null, null, "139", 3600L),
                        Message.SessionReply.class, T);
                await().atMost(T).until(() -> c.call(new Message.Status("s-nat"), Message.SessionReply.class, T)
                        .session().state().equals("running"));
                String container = c.call(new Message.Status("s-nat"), Message.SessionReply.class, T).session().containerId();
                assertThat(c.call(new Message.Status("s-nat"), Message.SessionReply.class, T).session().hostPorts()).isEmpty();
                // the host routes the namespace's packets to the session's network, as the router's LAN would
                String net = docker.run("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.NetworkID}}{{end}}",
                        container).strip();
                nat.forward("br-" + net.substring(0, 12));

                StreamsIT.Sink term = new StreamsIT.Sink();
                ClientStream shell = open(c, new Message.StreamOpen("s-nat", NEXT.incrementAndGet(), "exec", List.of(), true,
                        80, 24, null, null, null, null, null, null), term);
                shell.write("echo hello; exit 3\n".getBytes(StandardCharsets.UTF_8), T);
                Message.StreamClosed end = shell.closed().get(30, TimeUnit.SECONDS);
                assertThat(term.out()).contains("hello");
                assertThat(end.exitCode()).isEqualTo(3);

                StreamsIT.Sink log = new StreamsIT.Sink();
                ClientStream logs = open(c, new Message.StreamOpen("s-nat", NEXT.incrementAndGet(), "logs", null, null, null,
                        null, null, null, 10, false, null, null), log);
                logs.closed().get(30, TimeUnit.SECONDS);
                assertThat(log.out()).contains("launched");

                StreamsIT.Sink page = new StreamsIT.Sink();
                ClientStream t = open(c, new Message.StreamOpen("s-nat", NEXT.incrementAndGet(), "tunnel", null, null, null,
                        null, null, 8080, null, null, null, null), page);
                t.write("GET /index.html HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII), T);
                await().atMost(T).until(t::eofReceived);
                t.eof();
                t.closed().get(30, TimeUnit.SECONDS);
                assertThat(page.out()).startsWith("HTTP/1.").contains("behind nat");

                assertThat(agent.log()).contains("connected to the marketplace at");
                assertThat(count(agent.log(), "connected to the marketplace at")).as("one connection carried it all").isEqualTo(1);
                c.call(new Message.Stop("s-nat", "test"), Message.SessionReply.class, T);
            }
        }
    }

    private static int count(String text, String what) {
        Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private static ClientStream open(SchedulerConnection c, Message.StreamOpen o, ClientStream.Listener l) throws Exception {
        try {
            return c.openStream(o, l, true).get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }
}

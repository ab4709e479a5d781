package io.gpuagent.market;

import io.gpuagent.container.docker.DockerContainerRuntimeIT;
import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.market.netty.TlsContexts;
import io.gpuagent.market.tls.TlsSettings;
import io.gpuagent.protocol.Message;
import io.gpuagent.testsupport.AgentProcess;
import io.gpuagent.testsupport.RunningAgent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The whole link: `gpu-agent run` on a simulated 8x H100 machine with sessions on the real test
 * engine, certificates from `gpu-agent tls init`, and the Java scheduler client over mutual TLS
 * 1.3, in both modes.
 */
class SchedulerLinkIT {
    private static final Duration T = Duration.ofSeconds(20);
    private static final String IMAGE = "gpu-agent-test/busybox:1";

    @TempDir
    Path dir;

    private Path tlsInit(String name) throws Exception {
        Path tls = dir.resolve(name);
        AgentProcess.Result r = AgentProcess.run(Map.of(), "tls", "init", "--dir", tls.toString(),
                "--set", "agent.state_dir=" + dir.resolve("state"));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return tls;
    }

    private static TlsSettings settings(Path tls, String who) throws Exception {
        return TlsSettings.load(tls.resolve(who + ".pem"), tls.resolve(who + "-key.pem"), tls.resolve("ca.pem"), List.of(),
                5000, Instant.now());
    }

    private static String[] tlsSets(Path tls) {
        return new String[] {"market.tls_cert=" + tls.resolve("agent.pem"), "market.tls_key=" + tls.resolve("agent-key.pem"),
                "market.tls_ca=" + tls.resolve("ca.pem")};
    }

    private static <T extends Message> T awaitEvent(List<Message> events, Class<T> type, java.util.function.Predicate<T> p) {
        try {
            return await().atMost(T).until(() -> events.stream().filter(type::isInstance).map(type::cast).filter(p)
                    .reduce((a, b) -> b).orElse(null), java.util.Objects::nonNull);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("no such " + type.getSimpleName() + " among the events: "
                    + events.stream().map(m -> m.getClass().getSimpleName()).toList() + ", the last ones: "
                    + events.subList(Math.max(0, events.size() - 3), events.size()), e);
        }
    }

    @Test
    void aSchedulerOverMutualTlsLaunchesARealContainerFollowsItAndSeesTheOfferFollowGpusAndSessions() throws Exception {
        Path socket = DockerContainerRuntimeIT.socketFromEnvironment();
        Path tls = tlsInit("tls");
        Path otherCa = tlsInit("other-ca");
        String[] sets = concat(new String[] {"sessions.enabled=true", "docker.socket=" + socket, "sessions.gpu_attach=none",
                "sessions.cpus_per_gpu=1", "sessions.memory_per_gpu_mb=256", "sessions.disk_per_gpu_gb=1",
                "market.listen=127.0.0.1:0", "market.heartbeat_interval_ms=300"}, tlsSets(tls));
        try (RunningAgent agent = new RunningAgent(dir.resolve("agent"), "server-8x-h100.conf", sets);
             SchedulerClient client = new SchedulerClient(TlsContexts.scheduler(settings(tls, "scheduler")))) {
            InetSocketAddress address = agent.marketAddress();
            List<Message> events = new CopyOnWriteArrayList<>();
            try (SchedulerConnection c = client.connect(address)) {
                c.onEvent(events::add);
                Message.Welcome w = c.call(new Message.Hello(List.of(1), "it", "00112233445566778899aabbccddeeff", List.of()),
                        Message.Welcome.class, T);
                assertThat(w.version()).isEqualTo(1);
                assertThat(w.simulated()).isTrue();
                assertThat(w.capabilities()).contains("sessions");
                Message.Offer first = awaitEvent(events, Message.Offer.class, o -> o.freeGpus() == 8);
                assertThat(first.simulated()).as("simulated GPUs are never sold as real").isTrue();
                assertThat(first.gpus()).allSatisfy(g -> {
                    assertThat(g.model()).contains("H100");
                    assertThat(g.pricePerSecond()).isEqualTo("611");
                });

                // outside policy or below the offer: refused with a code, nothing started
                Message.Launch upper = launch("S-UPPER", 1, "611");
                assertThatThrownBy(() -> c.call(upper, Message.SessionReply.class, T))
                        .hasMessageStartingWith("policy_");
                assertThatThrownBy(() -> c.call(launch("s-cheap", 2, "611"), Message.SessionReply.class, T))
                        .hasMessageStartingWith("price_below_offer");
                assertThat(c.call(new Message.ListSessions(), Message.Sessions.class, T).sessions()).isEmpty();

                Message.SessionReply r = c.call(launch("s-tls-1", 2, "1222"), Message.SessionReply.class, T);
                assertThat(r.session().session()).isEqualTo("s-tls-1");
                Message.SessionReply again = c.call(launch("s-tls-1", 2, "1222"), Message.SessionReply.class, T);
                assertThat(again.session().session()).as("a retried launch is the same session").isEqualTo("s-tls-1");
                awaitEvent(events, Message.SessionState.class, s -> s.session().state().equals("running"));
                awaitEvent(events, Message.Offer.class, o -> o.freeGpus() == 6);
                awaitEvent(events, Message.SessionUsage.class, u -> u.session().equals("s-tls-1") && u.billedSeconds() >= 1);
                Message.SessionEnded end = awaitEvent(events, Message.SessionEnded.class, e -> true);
                assertThat(end.session().state()).isEqualTo("ended");
                assertThat(end.session().billedSeconds()).isBetween(3L, 6L);
                awaitEvent(events, Message.Offer.class, o -> o.freeGpus() == 8);
                assertThat(c.call(new Message.ListSessions(), Message.Sessions.class, T).sessions())
                        .extracting(Message.SessionInfo::session).containsExactly("s-tls-1");

                // a GPU fails: a health event, and the offer loses it at once
                agent.inject("xid 5 79");
                Message.GpuHealth h = awaitEvent(events, Message.GpuHealth.class, g -> g.index() == 5);
                assertThat(h.health()).isNotEqualTo("healthy");
                Message.Offer after = awaitEvent(events, Message.Offer.class, o -> o.freeGpus() == 7);
                assertThat(after.gpus().get(5).free()).isFalse();

                // peers without a valid certificate are refused; this connection keeps being served
                try (SchedulerClient plain = new SchedulerClient(null);
                     SchedulerConnection p = plain.connect(address)) {
                    assertThat(p.closed().get(15, TimeUnit.SECONDS)).isNull();
                }
                try (SchedulerClient stranger = new SchedulerClient(TlsContexts.scheduler(settings(otherCa, "scheduler")))) {
                    assertThatThrownBy(() -> stranger.connect(address).call(new Message.ListSessions(),
                            Message.Sessions.class, Duration.ofSeconds(5))).isInstanceOfAny(Exception.class);
                }
                assertThat(c.call(new Message.ListSessions(), Message.Sessions.class, T).sessions()).hasSize(1);
            }
            // the developer CLI on the same client
            String to = "127.0.0.1:" + address.getPort();
            AgentProcess.Result offer = AgentProcess.run(Map.of(), "scheduler", "offer", "--connect", to, "--tls-dir", tls.toString());
            assertThat(offer.exitCode()).as(offer.stderr()).isZero();
            assertThat(offer.stdout()).startsWith("{\"v\":1,\"type\":\"offer\"").contains("\"free_gpus\":7");
            AgentProcess.Result refused = AgentProcess.run(Map.of(), "scheduler", "launch", "--connect", to, "--tls-dir",
                    tls.toString(), "--session", "s-cli", "--gpus", "1", "--image", IMAGE, "--price", "1");
            assertThat(refused.exitCode()).isEqualTo(8);
            assertThat(refused.stderr()).contains("price_below_offer");
            AgentProcess.Result stranger = AgentProcess.run(Map.of(), "scheduler", "list", "--connect", to, "--tls-dir",
                    otherCa.toString(), "--timeout", "5");
            assertThat(stranger.exitCode()).as(stranger.stderr()).isEqualTo(7);
            String metrics = agent.get("/metrics").body();
            assertThat(metrics).contains("gpu_agent_scheduler_messages_received_total{type=\"launch\"} 5.0")
                    .contains("gpu_agent_scheduler_errors_total{code=\"price_below_offer\"} 2.0")
                    .contains("gpu_agent_scheduler_connections_rejected_total{reason=\"tls");
        }
    }

    @Test
    void anAgentBehindNatDialsOutOverMutualTlsAndReconnectsAfterTheMarketplaceDropsIt() throws Exception {
        Path tls = tlsInit("tls");
        LinkedBlockingQueue<SchedulerConnection> agents = new LinkedBlockingQueue<>();
        try (SchedulerClient market = new SchedulerClient(TlsContexts.marketplace(settings(tls, "scheduler")))) {
            InetSocketAddress at = market.listen(new InetSocketAddress("127.0.0.1", 0), agents::add);
            String[] sets = concat(new String[] {"market.dial=127.0.0.1:" + at.getPort(), "market.reconnect_initial_ms=100",
                    "market.reconnect_max_ms=1000"}, tlsSets(tls));
            try (RunningAgent agent = new RunningAgent(dir.resolve("agent"), "rig-2x-rtx3090.conf", sets)) {
                SchedulerConnection first = agents.poll(20, TimeUnit.SECONDS);
                assertThat(first).as("the agent dialed in").isNotNull();
                List<Message> events = new CopyOnWriteArrayList<>();
                first.onEvent(events::add);
                Message.Welcome w = first.call(new Message.Hello(List.of(1), "market", null, List.of()), Message.Welcome.class, T);
                assertThat(w.capabilities()).doesNotContain("sessions");
                Message.Offer o = awaitEvent(events, Message.Offer.class, x -> true);
                assertThat(o.gpus()).hasSize(2).allSatisfy(g -> assertThat(g.pricePerSecond()).isEqualTo("111"));
                assertThatThrownBy(() -> first.call(launch("s-1", 1, "111"), Message.SessionReply.class, T))
                        .hasMessageStartingWith("unavailable");

                first.close(); // the marketplace drops the agent (a restart, a load balancer)
                SchedulerConnection second = agents.poll(20, TimeUnit.SECONDS);
                assertThat(second).as("the agent dialed again").isNotNull();
                second.call(new Message.Hello(List.of(1), "market", null, List.of()), Message.Welcome.class, T);
                assertThat(second.call(new Message.ListSessions(), Message.Sessions.class, T).sessions()).isEmpty();
                assertThat(agent.get("/metrics").body()).containsPattern("gpu_agent_scheduler_dial_attempts_total [2-9]");
            }
        }
    }

    @Test
    void thePythonSchedulerInTheProtocolDocWorksAsWritten() throws Exception {
        Path tls = tlsInit("tls");
        try (RunningAgent agent = new RunningAgent(dir.resolve("agent"), "gaming-pc-rtx4090.conf",
                concat(new String[] {"market.listen=127.0.0.1:0"}, tlsSets(tls)))) {
            String doc = java.nio.file.Files.readString(Path.of(System.getProperty("gpuagent.repoRoot", ".."), "docs/protocol.md"));
            int start = doc.indexOf("```python\n") + "```python\n".length();
            String script = doc.substring(start, doc.indexOf("```", start))
                    .replace("7443", Integer.toString(agent.marketAddress().getPort()));
            java.nio.file.Files.writeString(dir.resolve("scheduler.py"), script);
            Process p = new ProcessBuilder("python3", dir.resolve("scheduler.py").toString())
                    .directory(tls.getParent().toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("'type': 'welcome'").contains("'type': 'offer'").contains("RTX 4090");
        }
    }

    private static Message.Launch launch(String id, int gpus, String price) {
        return new Message.Launch(id, "rental-" + id, "0xrenter", gpus, null, IMAGE, List.of("sh", "-c", "sleep 3"), Map.of(),
                List.of(), null, price, 600L);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

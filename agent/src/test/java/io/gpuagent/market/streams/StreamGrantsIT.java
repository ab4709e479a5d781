package io.gpuagent.market.streams;

import io.gpuagent.container.docker.DockerContainerRuntimeIT;
import io.gpuagent.escrow.StreamGrant;
import io.gpuagent.escrow.web3j.Keystore;
import io.gpuagent.escrow.web3j.StreamGrantTypedData;
import io.gpuagent.market.client.ClientStream;
import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.protocol.Message;
import io.gpuagent.testsupport.AgentProcess;
import io.gpuagent.testsupport.LocalChain;
import io.gpuagent.testsupport.RunningAgent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.crypto.Credentials;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The renter's grant (docs/streams.md) on the real agent, a local chain and the test engine: with
 * {@code market.stream_grants = "required"} an exec or a tunnel opens only with a grant signed by the
 * rental's voucher signer for this agent and session; the marketplace's own word, a stranger's
 * signature, a grant for another kind or an expired one are refused and open nothing; logs need none.
 */
class StreamGrantsIT {
    private static final Duration T = Duration.ofSeconds(30);
    private static final BigInteger PRICE = BigInteger.valueOf(611);
    private static final AtomicLong NEXT = new AtomicLong();

    @TempDir
    Path dir;

    private static Message.StreamOpen exec(Message.StreamGrant grant) {
        return new Message.StreamOpen("s-g", NEXT.incrementAndGet(), "exec", List.of("sh", "-c", "echo inside; exit 5"),
                false, null, null, null, null, null, null, null, grant);
    }

    private static ClientStream open(SchedulerConnection c, Message.StreamOpen o, ClientStream.Listener l) throws Exception {
        try {
            return c.openStream(o, l, true).get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    private static Message.StreamGrant grant(StreamGrantTypedData typed, String rental, String agent, String kinds,
                                             long expires, Credentials by) {
        StreamGrant g = typed.sign(new StreamGrant(rental, "s-g", agent, kinds, expires, "0x" + "5e".repeat(32), null),
                by.getEcKeyPair());
        return new Message.StreamGrant(List.of(kinds.split(",")), expires, g.nonce(), g.signature());
    }

    @Test
    void execAndTunnelNeedTheRentersGrantWhenTheOwnerRequiresIt() throws Exception {
        Path socket = DockerContainerRuntimeIT.socketFromEnvironment();
        AgentProcess.Result noEscrow = AgentProcess.run(Map.of(), "run", "--set", "agent.state_dir=" + dir.resolve("x"),
                "--set", "market.stream_grants=required");
        assertThat(noEscrow.exitCode()).as("grants without escrow are a configuration error").isEqualTo(3);
        assertThat(noEscrow.stderr()).contains("market.stream_grants").contains("escrow.enabled");
        try (LocalChain chain = LocalChain.start()) {
            LocalChain.Deployment d = chain.deploy();
            Path keystore = dir.resolve("wallet/keystore.json");
            Files.createDirectories(keystore.getParent());
            Path password = dir.resolve("wallet/password");
            Files.writeString(password, "it-password\n", StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
            Keystore.importKey(keystore, Numeric.toHexStringWithPrefixZeroPadded(
                    LocalChain.PROVIDER.getEcKeyPair().getPrivateKey(), 64), "it-password", true);
            try (RunningAgent agent = new RunningAgent(dir.resolve("agent"), "gaming-pc-rtx4090.conf",
                    "sessions.enabled=true", "docker.socket=" + socket, "sessions.cpus_per_gpu=1",
                    "sessions.memory_per_gpu_mb=256", "sessions.disk_per_gpu_gb=1", "sessions.stop_grace_ms=1000",
                    "market.listen=127.0.0.1:0", "market.plaintext=true", "market.stream_grants=required",
                    "escrow.enabled=true", "escrow.rpc_url=" + chain.url(), "escrow.chain_id=1337",
                    "escrow.contract=" + d.escrow(), "escrow.token=" + d.token(), "escrow.keystore=" + keystore,
                    "escrow.password_file=" + password, "escrow.min_priority_fee_gwei=1", "escrow.max_fee_gwei=200",
                    "escrow.poll_interval_ms=200", "escrow.credit_limit_s=600", "offer.prices=RTX 4090=611");
                 SchedulerClient client = new SchedulerClient(null);
                 SchedulerConnection c = client.connect(agent.marketAddress())) {
                Message.Welcome w = c.call(new Message.Hello(List.of(1), "it", null, List.of("streams")),
                        Message.Welcome.class, T);
                assertThat(w.capabilities()).contains("streams", "stream_grants");
                String rental = chain.open(d, LocalChain.PROVIDER.getAddress(), PRICE.multiply(BigInteger.valueOf(600)), PRICE,
                        600, LocalChain.RENTER.getAddress());
                c.call(new Message.Launch("s-g", rental, LocalChain.RENTER.getAddress(), 1, null, "gpu-agent-test/busybox:1",
                        List.of("sh", "-c", "echo booted; sleep 600"), Map.of(), List.of(), null, "611", 600L),
                        Message.SessionReply.class, T);
                await().atMost(T).until(() -> c.call(new Message.Status("s-g"), Message.SessionReply.class, T)
                        .session().state().equals("running"));

                StreamGrantTypedData typed = new StreamGrantTypedData(LocalChain.CHAIN_ID, d.escrow());
                long in10m = Instant.now().getEpochSecond() + 600;
                String me = w.payoutAddress();
                assertThatThrownBy(() -> open(c, exec(null), new StreamsIT.Sink()))
                        .as("the marketplace's word alone").hasMessageStartingWith("grant_required");
                assertThatThrownBy(() -> open(c, exec(grant(typed, rental, me, "exec", in10m, LocalChain.STRANGER)),
                        new StreamsIT.Sink())).hasMessageStartingWith("grant_invalid").hasMessageContaining("voucher signer");
                assertThatThrownBy(() -> open(c, exec(grant(typed, rental, me, "tunnel", in10m, LocalChain.RENTER)),
                        new StreamsIT.Sink())).hasMessageStartingWith("grant_invalid").hasMessageContaining("not exec");
                assertThatThrownBy(() -> open(c, exec(grant(typed, rental, me, "exec", in10m - 1200, LocalChain.RENTER)),
                        new StreamsIT.Sink())).hasMessageStartingWith("grant_invalid").hasMessageContaining("expired");
                assertThatThrownBy(() -> open(c, exec(grant(typed, rental, "0x" + "42".repeat(20), "exec", in10m,
                        LocalChain.RENTER)), new StreamsIT.Sink()))
                        .as("a grant for another agent").hasMessageStartingWith("grant_invalid");
                assertThat(agent.get("/metrics").body()).contains("gpu_agent_streams_refused_total{code=\"grant_invalid\"} 4.0")
                        .contains("gpu_agent_streams_refused_total{code=\"grant_required\"} 1.0")
                        .contains("gpu_agent_streams_opened_total{kind=\"exec\"} 0.0");

                StreamsIT.Sink out = new StreamsIT.Sink();
                ClientStream s = open(c, exec(grant(typed, rental, me, "exec,tunnel", in10m, LocalChain.RENTER)), out);
                Message.StreamClosed end = s.closed().get(30, TimeUnit.SECONDS);
                assertThat(out.out()).isEqualTo("inside\n");
                assertThat(end.exitCode()).isEqualTo(5);

                StreamsIT.Sink logs = new StreamsIT.Sink();
                ClientStream l = open(c, new Message.StreamOpen("s-g", NEXT.incrementAndGet(), "logs", null, null, null, null,
                        null, null, null, false, null, null), logs);
                l.closed().get(30, TimeUnit.SECONDS);
                assertThat(logs.out()).as("logs need no grant").contains("booted");
                c.call(new Message.Stop("s-g", "test"), Message.SessionReply.class, T);
            }
        }
    }
}

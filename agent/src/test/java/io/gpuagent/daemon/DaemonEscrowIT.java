package io.gpuagent.daemon;

import io.gpuagent.container.docker.DockerContainerRuntimeIT;
import io.gpuagent.escrow.Voucher;
import io.gpuagent.escrow.web3j.Keystore;
import io.gpuagent.escrow.web3j.Signatures;
import io.gpuagent.escrow.web3j.VoucherTypedData;
import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.protocol.Message;
import io.gpuagent.testsupport.AgentProcess;
import io.gpuagent.testsupport.LocalChain;
import io.gpuagent.testsupport.RunningAgent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * `gpu-agent run` with escrow on a private ganache, sessions on the real test engine and a
 * scheduler on the protocol: the welcome proves the payout wallet, launches are checked against
 * the rental on chain, bad vouchers are refused with their code and change nothing, a paid session
 * is claimed and closed on chain with the right payout, fee and refund, a session whose renter
 * pays nothing ends with payment_overdue, and metrics and `gpu-agent claims` show it all.
 */
class DaemonEscrowIT {
    private static final Duration T = Duration.ofSeconds(30);
    private static final BigInteger PRICE = BigInteger.valueOf(611);
    private static final String IMAGE = "gpu-agent-test/busybox:1";

    @TempDir
    Path dir;

    private static Message.Launch launch(String session, String rental, String price, String command) {
        return new Message.Launch(session, rental, LocalChain.RENTER.getAddress(), 1, null, IMAGE, List.of("sh", "-c", command),
                Map.of(), List.of(), null, price, 120L);
    }

    private static <T extends Message> T awaitEvent(List<Message> events, Class<T> type, java.util.function.Predicate<T> p,
                                                    LocalChain chain) {
        return await().atMost(T).pollInterval(Duration.ofMillis(250)).until(() -> {
            chain.advanceTime(0); // instamine: a block now, so that chain time keeps up with the wall clock
            return events.stream().filter(type::isInstance).map(type::cast).filter(p).reduce((a, b) -> b).orElse(null);
        }, java.util.Objects::nonNull);
    }

    @Test
    void aRentalIsCheckedPaidByVouchersClaimedOnChainAndAnUnpaidOneEndsOverdue() throws Exception {
        Path socket = DockerContainerRuntimeIT.socketFromEnvironment();
        try (LocalChain chain = LocalChain.start()) {
            LocalChain.Deployment d = chain.deploy();
            Path keystore = dir.resolve("wallet/keystore.json");
            Files.createDirectories(keystore.getParent());
            Path password = dir.resolve("wallet/password");
            Files.writeString(password, "it-password\n", StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
            Keystore.importKey(keystore, Numeric.toHexStringWithPrefixZeroPadded(
                    LocalChain.PROVIDER.getEcKeyPair().getPrivateKey(), 64), "it-password", true);
            Path state = dir.resolve("agent/state");
            try (RunningAgent agent = new RunningAgent(dir.resolve("agent"), "server-8x-h100.conf",
                    "sessions.enabled=true", "docker.socket=" + socket, "sessions.gpu_attach=none", "sessions.cpus_per_gpu=1",
                    "sessions.memory_per_gpu_mb=256", "sessions.disk_per_gpu_gb=1", "sessions.stop_grace_ms=1000",
                    "market.listen=127.0.0.1:0", "market.plaintext=true",
                    "escrow.enabled=true", "escrow.rpc_url=" + chain.url(), "escrow.chain_id=1337",
                    "escrow.contract=" + d.escrow(), "escrow.token=" + d.token(), "escrow.keystore=" + keystore,
                    "escrow.password_file=" + password, "escrow.min_priority_fee_gwei=1", "escrow.max_fee_gwei=200",
                    "escrow.poll_interval_ms=200", "escrow.credit_limit_s=3");
                 SchedulerClient client = new SchedulerClient(null);
                 SchedulerConnection c = client.connect(agent.marketAddress())) {
                List<Message> events = new CopyOnWriteArrayList<>();
                c.onEvent(events::add);
                String challenge = "0123456789abcdef0123456789abcdef";
                Message.Welcome w = c.call(new Message.Hello(List.of(1), "it", challenge, List.of()), Message.Welcome.class, T);
                assertThat(w.payoutAddress()).isEqualToIgnoringCase(LocalChain.PROVIDER.getAddress());
                assertThat(w.capabilities()).contains("vouchers");
                // the escrow that vouchers are signed against, named where a scheduler looks (issue 10, conformance)
                assertThat(w.chainId()).isEqualTo(LocalChain.CHAIN_ID);
                assertThat(w.escrowContract()).isEqualToIgnoringCase(d.escrow());
                assertThat(c.call(new Message.GetOffer(), Message.Offer.class, T).escrowContract())
                        .isEqualToIgnoringCase(d.escrow());
                assertThat(Signatures.recoverPersonal(w.signedMessage().getBytes(StandardCharsets.UTF_8), w.challengeSignature()))
                        .as("the welcome proves the payout wallet").isEqualToIgnoringCase(w.payoutAddress());
                assertThat(w.signedMessage()).endsWith("challenge: " + challenge);

                BigInteger deposit = PRICE.multiply(BigInteger.valueOf(120));
                String rental = chain.open(d, LocalChain.PROVIDER.getAddress(), deposit, PRICE, 120, LocalChain.RENTER.getAddress());
                // launches the rental cannot pay are refused before anything starts
                String nowhere = "0x" + "77".repeat(32);
                assertThatThrownBy(() -> c.call(launch("s-badid", "0x1234", "611", "sleep 30"), Message.SessionReply.class, T))
                        .as("protocol.md's code for a rental that is no rental id").hasMessageStartingWith("policy_rental_id");
                assertThatThrownBy(() -> c.call(launch("s-nowhere", nowhere, "611", "sleep 30"), Message.SessionReply.class, T))
                        .hasMessageStartingWith("rental_unknown");
                assertThatThrownBy(() -> c.call(launch("s-dear", rental, "1222", "sleep 30"), Message.SessionReply.class, T))
                        .hasMessageStartingWith("rental_");
                assertThat(c.call(new Message.ListSessions(), Message.Sessions.class, T).sessions()).isEmpty();

                c.call(launch("s-paid", rental, "611", "sleep 4"), Message.SessionReply.class, T);
                awaitEvent(events, Message.SessionState.class, s -> s.session().state().equals("running"), chain);
                VoucherTypedData typed = new VoucherTypedData(LocalChain.CHAIN_ID, d.escrow());
                Voucher good = typed.sign(rental, 2, PRICE.multiply(BigInteger.TWO), LocalChain.RENTER.getEcKeyPair());
                Voucher forged = typed.sign(rental, 2, PRICE.multiply(BigInteger.TWO), LocalChain.STRANGER.getEcKeyPair());
                Voucher overRate = typed.sign(rental, 2, BigInteger.valueOf(5000), LocalChain.RENTER.getEcKeyPair());
                Voucher otherChain = new VoucherTypedData(1, d.escrow()).sign(rental, 3, PRICE.multiply(BigInteger.valueOf(3)),
                        LocalChain.RENTER.getEcKeyPair());
                assertThatThrownBy(() -> send(c, "s-paid", forged)).hasMessageStartingWith("voucher_bad_signature");
                assertThatThrownBy(() -> send(c, "s-paid", overRate)).hasMessageStartingWith("voucher_over_rate");
                assertThatThrownBy(() -> send(c, "s-paid", otherChain)).hasMessageStartingWith("voucher_bad_signature");
                assertThat(send(c, "s-paid", good).cumulativeSeconds()).isEqualTo(2);
                Voucher lower = typed.sign(rental, 1, PRICE, LocalChain.RENTER.getEcKeyPair());
                assertThatThrownBy(() -> send(c, "s-paid", lower)).hasMessageStartingWith("voucher_not_increasing");
                assertThat(send(c, "s-paid", good).cumulativeAmount()).as("a resent voucher is acked again")
                        .isEqualTo("1222");

                Message.SessionEnded end = awaitEvent(events, Message.SessionEnded.class,
                        e -> e.session().session().equals("s-paid"), chain);
                long billed = end.session().billedSeconds();
                assertThat(billed).isBetween(4L, 6L);
                BigInteger paid = PRICE.multiply(BigInteger.valueOf(billed));
                send(c, "s-paid", typed.sign(rental, billed, paid, LocalChain.RENTER.getEcKeyPair()));
                Message.Claim claim = awaitEvent(events, Message.Claim.class, cl -> cl.close() && cl.state().equals("final"), chain);
                assertThat(claim.rentals()).containsExactly(rental.toLowerCase());
                BigInteger fee = paid.multiply(BigInteger.valueOf(LocalChain.FEE_BPS)).divide(BigInteger.valueOf(10_000));
                assertThat(chain.balanceOf(d, LocalChain.PROVIDER.getAddress())).isEqualTo(paid.subtract(fee));
                assertThat(chain.withdrawable(d, LocalChain.RENTER.getAddress())).isEqualTo(deposit.subtract(paid));

                // a renter who pays nothing: ended once metered use runs 3 s ahead of the (absent) vouchers
                String unpaid = chain.open(d, LocalChain.PROVIDER.getAddress(), deposit, PRICE, 120, LocalChain.RENTER.getAddress());
                c.call(launch("s-unpaid", unpaid, "611", "sleep 60"), Message.SessionReply.class, T);
                Message.SessionEnded overdue = awaitEvent(events, Message.SessionEnded.class,
                        e -> e.session().session().equals("s-unpaid"), chain);
                assertThat(overdue.session().reason()).isEqualTo("payment_overdue");
                // ended at 4 s metered (3 s ahead of nothing), then SIGTERM, 1 s of grace, SIGKILL: all billed
                assertThat(overdue.session().billedSeconds()).isBetween(4L, 9L);

                String metrics = agent.get("/metrics").body();
                assertThat(metrics).contains("gpu_agent_claimed_base_units " + paid + ".0")
                        .contains("gpu_agent_claims{state=\"final\"} 1.0")
                        .containsPattern("gpu_agent_claim_gas_spent_wei_total [1-9]");
                AgentProcess.Result status = AgentProcess.run(Map.of(), "status", "--url", agent.base());
                assertThat(status.stdout()).contains("scheduler: 1 connected (1 past hello)")
                        .containsPattern("earnings \\(token base units\\): earned \\d+, claimed " + paid + ", pending 0 to 0x");
            }
            AgentProcess.Result claims = AgentProcess.run(Map.of(), "claims", "--json", "--set", "agent.state_dir=" + state);
            assertThat(claims.exitCode()).as(claims.stderr()).isZero();
            assertThat(claims.stdout()).contains("FINAL");
        }
    }

    private static Message.VoucherAck send(SchedulerConnection c, String session, Voucher v) throws Exception {
        return c.call(new Message.Voucher(session, v.rentalId(), v.cumulativeSeconds(), v.cumulativeAmount().toString(),
                v.signature()), Message.VoucherAck.class, T);
    }
}

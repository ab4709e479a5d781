package io.gpuagent.escrow.web3j;

import io.gpuagent.escrow.ClaimState;
import io.gpuagent.escrow.ClaimView;
import io.gpuagent.escrow.EscrowStore;
import io.gpuagent.escrow.Voucher;
import io.gpuagent.testsupport.LocalChain;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.utils.Numeric;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * kill -9 of the claim worker's process between signing and sending, and between sending and
 * recording it: after a restart on the same state directory exactly one claim lands, with the
 * transaction signed before the crash, and the agent finishes it.
 */
class ClaimCrashIT {
    static LocalChain chain;
    @TempDir
    Path state;

    @BeforeAll
    static void startChain() throws Exception {
        chain = LocalChain.start();
    }

    @AfterAll
    static void stopChain() {
        if (chain != null) {
            chain.close();
        }
    }

    record Run(Process process, BufferedReader out) {
    }

    Run child(String crashAt, LocalChain.Deployment d, Voucher v) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path")));
        if (!crashAt.isEmpty()) {
            cmd.add("-Dgpuagent.test.crashAt=" + crashAt);
        }
        cmd.addAll(List.of(ClaimProcessMain.class.getName(), state.toString(), chain.url(), d.escrow(), d.token(),
                Numeric.toHexStringWithPrefixZeroPadded(LocalChain.PROVIDER.getEcKeyPair().getPrivateKey(), 64), "s-1",
                v.rentalId(), Long.toString(v.cumulativeSeconds()), v.cumulativeAmount().toString(), v.signature(), "60"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread watchdog = new Thread(() -> {
            try {
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly(); // a hung child ends the test with its output instead of hanging the build
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "claim-process-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        return new Run(p, new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
    }

    static String awaitLine(Run r, String prefix) throws Exception {
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = r.out().readLine()) != null) {
            seen.append(line).append('\n');
            if (line.startsWith(prefix)) {
                return line.substring(prefix.length()).trim();
            }
        }
        throw new AssertionError("the child process ended without printing " + prefix + ":\n" + seen);
    }

    static void kill9(Run r) throws Exception {
        r.process().destroyForcibly(); // SIGKILL on Linux
        assertThat(r.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    Voucher setUp(LocalChain.Deployment d) throws Exception {
        String rental = chain.open(d, LocalChain.PROVIDER.getAddress(), BigInteger.valueOf(1_000_000), BigInteger.valueOf(1000),
                3600, LocalChain.RENTER.getAddress());
        chain.advanceTime(120);
        return new VoucherTypedData(LocalChain.CHAIN_ID, d.escrow()).sign(rental, 60, BigInteger.valueOf(60_000),
                LocalChain.RENTER.getEcKeyPair());
    }

    String finishAfterRestart(LocalChain.Deployment d, Voucher v) throws Exception {
        Run again = child("", d, v);
        String hash = awaitLine(again, "FINAL ");
        assertThat(again.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(again.process().exitValue()).isZero();
        return hash;
    }

    @Test
    void killedBetweenSigningAndSendingTheSameTransactionIsSentAfterRestartAndLandsOnce() throws Exception {
        LocalChain.Deployment d = chain.deploy();
        Voucher v = setUp(d);
        Run r = child("before-send", d, v);
        awaitLine(r, "CRASHPOINT before-send");
        kill9(r);
        ClaimView signed = EscrowStore.readOnly(EscrowStore.directory(state)).claims().get(0);
        assertThat(signed.state()).isEqualTo(ClaimState.SIGNED);
        assertThat(chain.web3j().ethGetTransactionByHash(signed.txHash()).send().getTransaction()).isEmpty();
        assertThat(finishAfterRestart(d, v)).isEqualTo(signed.txHash());
        assertThat(chain.claimedEvents(d, v.rentalId())).hasSize(1);
        assertThat(EscrowStore.readOnly(EscrowStore.directory(state)).claims()).singleElement()
                .satisfies(c -> assertThat(c.state()).isEqualTo(ClaimState.FINAL));
    }

    @Test
    void killedBetweenSendingAndRecordingItTheReceiptIsFoundAfterRestartAndNothingIsSentTwice() throws Exception {
        LocalChain.Deployment d = chain.deploy();
        Voucher v = setUp(d);
        Run r = child("after-send", d, v);
        awaitLine(r, "CRASHPOINT after-send");
        kill9(r);
        ClaimView signed = EscrowStore.readOnly(EscrowStore.directory(state)).claims().get(0);
        assertThat(signed.state()).isEqualTo(ClaimState.SIGNED); // the node has it; the store did not record SENT
        assertThat(chain.receipt(signed.txHash())).isPresent();
        BigInteger minedIn = chain.receipt(signed.txHash()).orElseThrow().getBlockNumber();
        long nonceBefore = chain.web3j().ethGetTransactionCount(LocalChain.PROVIDER.getAddress(),
                org.web3j.protocol.core.DefaultBlockParameterName.LATEST).send().getTransactionCount().longValueExact();
        assertThat(finishAfterRestart(d, v)).isEqualTo(signed.txHash());
        assertThat(chain.claimedEvents(d, v.rentalId())).hasSize(1);
        long nonceAfter = chain.web3j().ethGetTransactionCount(LocalChain.PROVIDER.getAddress(),
                org.web3j.protocol.core.DefaultBlockParameterName.LATEST).send().getTransactionCount().longValueExact();
        assertThat(nonceAfter).isEqualTo(nonceBefore); // no second transaction, not even a reverted one
        // regression: the same bytes were broadcast again after the restart and ganache executed them a second
        // time (reverted) under the same hash; the agent now looks for the receipt before any re-broadcast
        assertThat(chain.receipt(signed.txHash()).orElseThrow().getBlockNumber()).isEqualTo(minedIn);
        assertThat(chain.receipt(signed.txHash()).orElseThrow().isStatusOK()).isTrue();
    }
}

package io.gpuagent.escrow.web3j;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.escrow.ChainException;
import io.gpuagent.escrow.ChainGateway;
import io.gpuagent.escrow.ClaimItem;
import io.gpuagent.escrow.ClaimPolicy;
import io.gpuagent.escrow.ClaimRevertException;
import io.gpuagent.escrow.ClaimState;
import io.gpuagent.escrow.ClaimView;
import io.gpuagent.escrow.CloseRequest;
import io.gpuagent.escrow.EscrowPayouts;
import io.gpuagent.escrow.EscrowStore;
import io.gpuagent.escrow.FeeQuote;
import io.gpuagent.escrow.Fees;
import io.gpuagent.escrow.RentalTerms;
import io.gpuagent.escrow.SendResult;
import io.gpuagent.escrow.SignedTx;
import io.gpuagent.escrow.TxReceipt;
import io.gpuagent.escrow.Voucher;
import io.gpuagent.util.Clock;
import org.web3j.crypto.Credentials;

import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The claim worker in a process of its own, for kill -9 tests (ClaimCrashIT). Arguments: state dir,
 * RPC URL, escrow, token, provider key, session, voucher (rental, seconds, amount, signature),
 * billed seconds. System property {@code gpuagent.test.crashAt}: {@code before-send} (prints
 * CRASHPOINT and hangs just before eth_sendRawTransaction) or {@code after-send} (just after the node
 * accepted it, before the agent recorded SENT); the test kills the process there. Without it, the
 * process runs until the rental's claim is FINAL, prints {@code FINAL <tx hash>} and exits 0.
 */
public final class ClaimProcessMain {
    private ClaimProcessMain() {
    }

    public static void main(String[] a) throws Exception {
        Path stateDir = Path.of(a[0]);
        AgentConfig.Escrow cfg = new AgentConfig.Escrow(true, a[1], 1337, a[2], a[3], "", "", "wallet-password", "finalized",
                1, 1, 1000, 86_400, 0, 10, 60, 100);
        Credentials creds = Credentials.create(a[4]);
        String session = a[5];
        Voucher v = new Voucher(a[6], Long.parseLong(a[7]), new BigInteger(a[8]), a[9]);
        long billed = Long.parseLong(a[10]);
        String crashAt = System.getProperty("gpuagent.test.crashAt", "");
        ChainGateway chain = new Web3jChain(cfg.rpcUrl(), cfg.chainId(), cfg.contract(), creds, Duration.ofSeconds(10));
        if (!crashAt.isEmpty()) {
            chain = new CrashPoint((Web3jChain) chain, crashAt);
        }
        EscrowPayouts p = new EscrowPayouts(chain, new VoucherTypedData(cfg.chainId(), cfg.contract()), new WalletSigner(creds),
                EscrowStore.open(EscrowStore.directory(stateDir), Clock.SYSTEM), ClaimPolicy.of(cfg), Clock.SYSTEM);
        p.sessionRunning(session, v.rentalId());
        p.acceptVoucher(session, v);
        p.sessionEnded(session, v.rentalId(), billed);
        p.start();
        while (true) {
            Optional<ClaimView> done = p.claims().stream()
                    .filter(c -> c.state() == ClaimState.FINAL && c.rentals().contains(v.rentalId())).findFirst();
            Optional<ClaimView> failed = p.claims().stream().filter(c -> c.state().isTerminal() && c.state() != ClaimState.FINAL
                    && c.state() != ClaimState.REPLACED && c.rentals().contains(v.rentalId())).findFirst();
            if (failed.isPresent()) {
                System.out.println("TERMINAL " + failed.get());
                System.out.flush();
                System.exit(1);
            }
            if (done.isPresent()) {
                System.out.println("FINAL " + done.get().txHash());
                System.out.flush();
                p.close();
                System.exit(0);
            }
            Thread.sleep(20); // the poll's interval; its deadline is the parent test's (ClaimCrashIT kills it after 120 s)
        }
    }

    /** The real gateway, stopping for ever at one point of the send so that the test can kill -9 there. */
    static final class CrashPoint implements ChainGateway {
        private final Web3jChain d;
        private final String at;

        CrashPoint(Web3jChain d, String at) {
            this.d = d;
            this.at = at;
        }

        private static void hang(String point) {
            System.out.println("CRASHPOINT " + point);
            System.out.flush();
            while (true) { // on purpose: parked here for ever until the test kills the process with SIGKILL
                try {
                    Thread.sleep(60_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public SendResult send(String rawTx) throws ChainException {
            if (at.equals("before-send")) {
                hang(at);
            }
            SendResult r = d.send(rawTx);
            if (at.equals("after-send")) {
                hang(at);
            }
            return r;
        }

        @Override
        public String providerAddress() {
            return d.providerAddress();
        }

        @Override
        public RentalTerms rental(String rentalId) throws ChainException {
            return d.rental(rentalId);
        }

        @Override
        public long latestBlock() throws ChainException {
            return d.latestBlock();
        }

        @Override
        public long chainTime() throws ChainException {
            return d.chainTime();
        }

        @Override
        public OptionalLong finalizedBlock() throws ChainException {
            return d.finalizedBlock();
        }

        @Override
        public FeeQuote fees() throws ChainException {
            return d.fees();
        }

        @Override
        public long nonce(boolean pending) throws ChainException {
            return d.nonce(pending);
        }

        @Override
        public BigInteger estimateClaimGas(List<ClaimItem> items) throws ChainException, ClaimRevertException {
            return d.estimateClaimGas(items);
        }

        @Override
        public SignedTx signClaim(List<ClaimItem> items, long nonce, BigInteger gasLimit, Fees fees) {
            return d.signClaim(items, nonce, gasLimit, fees);
        }

        @Override
        public Optional<TxReceipt> receipt(String txHash) throws ChainException {
            return d.receipt(txHash);
        }

        @Override
        public boolean known(String txHash) throws ChainException {
            return d.known(txHash);
        }

        @Override
        public List<CloseRequest> closeRequests(long from, long to) throws ChainException {
            return d.closeRequests(from, to);
        }
    }
}

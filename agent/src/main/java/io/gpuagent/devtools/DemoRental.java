package io.gpuagent.devtools;

import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.escrow.Voucher;
import io.gpuagent.escrow.web3j.Signatures;
import io.gpuagent.market.AgentSchedulerPort;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.protocol.Message;

import java.io.PrintWriter;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One rental as {@code gpu-agent demo rent} plays it, renter and marketplace at once, step by
 * step: {@link #hello} (the payout wallet proven), {@link #open} (the deposit on chain),
 * {@link #launch} (over the protocol), {@link #followToTheClosingClaim} (a voucher per usage tick
 * and one after the end, until the agent's closing claim is final), {@link #settle} (payout, fee
 * and refund read back and checked).
 */
final class DemoRental {
    private static final Duration CALL = Duration.ofSeconds(30);

    /** The demo cannot go on; the message says why. */
    static final class Failure extends Exception {
        private final int exitCode;

        Failure(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }

        int exitCode() {
            return exitCode;
        }
    }

    private final SchedulerConnection conn;
    private final DemoMarketplace chain;
    private final DemoMarketplace.Account renter;
    private final DemoMarketplace.Deployment d;
    private final Consumer<String> say;
    private final BlockingQueue<Message> events = new LinkedBlockingQueue<>();
    private Message.Welcome welcome;
    private Message.OfferGpu gpu;
    private BigInteger price;
    private BigInteger deposit;
    private BigInteger renterBefore;
    private BigInteger providerBefore;
    private BigInteger feesBefore;
    private String rental;
    private String session;
    private long paidSeconds;
    private Message.SessionInfo end;

    DemoRental(SchedulerConnection conn, DemoMarketplace chain, DemoMarketplace.Account renter,
               DemoMarketplace.Deployment d, Consumer<String> say) {
        this.conn = conn;
        this.chain = chain;
        this.renter = renter;
        this.d = d;
        this.say = say;
        conn.onEvent(events::add);
    }

    /** Says hello with a fresh challenge and checks the agent's signature proves its payout wallet. */
    void hello(InetSocketAddress agent) throws Exception {
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        String hex = HexFormat.of().formatHex(challenge);
        welcome = conn.call(new Message.Hello(List.of(1), "gpu-agent demo", hex, List.of("events")), Message.Welcome.class, CALL);
        if (welcome.payoutAddress() == null) {
            throw new Failure(ExitCodes.CONFIG, "the agent has no payout wallet: escrow.enabled is false in its config");
        }
        String signer = Signatures.recoverPersonal(welcome.signedMessage().getBytes(StandardCharsets.UTF_8),
                welcome.challengeSignature());
        if (!welcome.signedMessage().equals(AgentSchedulerPort.challengeText(welcome.hostId(), hex))
                || !signer.equalsIgnoreCase(welcome.payoutAddress())) {
            throw new Failure(ExitCodes.INTERNAL, "the agent's challenge signature does not prove " + welcome.payoutAddress());
        }
        say.accept("connected to the agent at " + agent.getHostString() + ":" + agent.getPort() + " over mutual TLS 1.3; "
                + "it signed our challenge with its payout wallet " + welcome.payoutAddress()
                + (welcome.simulated() ? " (its GPUs are SIMULATED)" : ""));
    }

    /** Picks a free GPU from the offer and opens a rental covering it for two minutes. */
    void open() throws Exception {
        Message.Offer offer = conn.call(new Message.GetOffer(), Message.Offer.class, CALL);
        gpu = offer.gpus().stream().filter(Message.OfferGpu::free).findFirst()
                .orElseThrow(() -> new Failure(ExitCodes.UNREACHABLE, "the agent offers no free GPU: " + offer));
        price = new BigInteger(gpu.pricePerSecond());
        long maxDuration = Math.max(120, offer.minDurationS());
        deposit = price.multiply(BigInteger.valueOf(maxDuration));
        say.accept("offer: " + offer.freeGpus() + " free GPUs; renting 1 " + gpu.model() + " at " + price
                + " base units/s (" + DemoCommand.tokens(price.multiply(BigInteger.valueOf(3600))) + " an hour)");
        renterBefore = chain.tokenBalance(d, renter.getAddress());
        providerBefore = chain.tokenBalance(d, welcome.payoutAddress());
        feesBefore = chain.feesAccrued(d);
        rental = chain.open(renter, d, welcome.payoutAddress(), deposit, price, maxDuration);
        say.accept("renter " + renter.getAddress() + " opened rental " + rental + " with a deposit of "
                + DemoCommand.tokens(deposit) + " (up to " + maxDuration + " s)");
    }

    /** Launches a container on the chosen GPU that says hello and sleeps. */
    void launch(String image, int seconds) throws Exception {
        session = "demo-" + Long.toString(System.currentTimeMillis(), 36);
        long maxDuration = deposit.divide(price).longValueExact();
        Message.SessionReply launched = conn.call(new Message.Launch(session, rental, renter.getAddress(), null,
                List.of(gpu.uuid()), image, List.of("sh", "-c", "echo hello from the renter container; sleep " + seconds),
                Map.of(), List.of(), null, price.toString(), maxDuration), Message.SessionReply.class, CALL);
        say.accept("launched session " + session + " (" + image + ", `sleep " + seconds + "`) on GPU " + gpu.index() + ": "
                + launched.session().state());
    }

    /** Pays every usage tick with a voucher, and the end with a last one, until the closing claim is final. */
    void followToTheClosingClaim(long deadlineNanos) throws Exception {
        while (true) {
            Message m = events.poll(Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (m == null) {
                throw new Failure(ExitCodes.UNREACHABLE, "the demo timed out waiting for "
                        + (end == null ? "the session to end" : "the agent's closing claim"));
            }
            if (m instanceof Message.SessionState s && s.session().session().equals(session)) {
                say.accept("session " + s.session().state() + (s.session().reason() != null ? " (" + s.session().reason() + ")" : ""));
            } else if (m instanceof Message.SessionUsage u && u.session().equals(session) && u.billedSeconds() > paidSeconds) {
                payUpTo(u.billedSeconds());
            } else if (m instanceof Message.SessionEnded e && e.session().session().equals(session)) {
                end = e.session();
                say.accept("session ended after " + end.billedSeconds() + " s billed (" + end.reason() + ")");
                payUpTo(end.billedSeconds());
            } else if (m instanceof Message.Claim cl && cl.rentals().contains(rental) && closingClaimDone(cl)) {
                return;
            }
        }
    }

    private boolean closingClaimDone(Message.Claim cl) throws Failure {
        say.accept("claim " + cl.claim() + ": " + cl.state() + (cl.transaction() != null ? " " + cl.transaction() : "")
                + (cl.close() ? " (closing the rental)" : ""));
        if (cl.close() && List.of("failed", "reverted", "skipped").contains(cl.state())) {
            throw new Failure(ExitCodes.INTERNAL, "the closing claim ended " + cl.state() + ": " + cl.detail());
        }
        return cl.close() && cl.state().equals("final");
    }

    /**
     * A voucher for every second up to {@code seconds}: the live meter can step by two, and the
     * closing claim takes the highest voucher within the finally billed seconds, so a second with
     * no voucher of its own would go unpaid when the engine's times settle on it.
     */
    private void payUpTo(long seconds) throws Exception {
        for (long s = paidSeconds + 1; s <= seconds; s++) {
            pay(s);
        }
    }

    private void pay(long seconds) throws Exception {
        BigInteger amount = price.multiply(BigInteger.valueOf(seconds));
        Voucher v = chain.voucher(renter, d, rental, seconds, amount);
        Message.VoucherAck ack = conn.call(new Message.Voucher(session, rental, seconds, amount.toString(), v.signature()),
                Message.VoucherAck.class, CALL);
        say.accept("renter signed a voucher for " + seconds + " s = " + amount + "; the agent holds "
                + ack.cumulativeSeconds() + " s");
        paidSeconds = seconds;
    }

    /** The renter withdraws its refund; payout, fee and refund are read back and must add up. */
    void settle(PrintWriter out) throws Exception {
        // the engine's times settle the bill: vouchers that ran ahead of them are not charged
        long billed = end.billedSeconds();
        BigInteger paid = price.multiply(BigInteger.valueOf(billed));
        BigInteger fee = paid.multiply(BigInteger.valueOf(DemoCommand.FEE_BPS)).divide(BigInteger.valueOf(10_000));
        BigInteger providerGot = chain.tokenBalance(d, welcome.payoutAddress()).subtract(providerBefore);
        BigInteger feeGot = chain.feesAccrued(d).subtract(feesBefore);
        BigInteger refund = chain.withdrawable(d, renter.getAddress());
        chain.withdraw(renter, d);
        BigInteger renterSpent = renterBefore.add(deposit).subtract(chain.tokenBalance(d, renter.getAddress()));
        say.accept("read back from the chain:");
        out.printf("  %-44s %16s%n", "renter paid (" + billed + " s billed x " + price + "/s)", DemoCommand.tokens(paid));
        out.printf("  %-44s %16s   to %s%n", "provider payout", DemoCommand.tokens(providerGot), welcome.payoutAddress());
        out.printf("  %-44s %16s%n", "platform fee (" + DemoCommand.FEE_BPS / 100 + " %)", DemoCommand.tokens(feeGot));
        out.printf("  %-44s %16s   of %s deposited%n", "renter refund (withdrawn)", DemoCommand.tokens(refund),
                DemoCommand.tokens(deposit));
        out.flush();
        if (!providerGot.equals(paid.subtract(fee)) || !feeGot.equals(fee) || !refund.equals(deposit.subtract(paid))
                || !renterSpent.equals(paid)) {
            throw new Failure(ExitCodes.INTERNAL, "the balances do not add up: expected payout " + paid.subtract(fee)
                    + ", fee " + fee + ", refund " + deposit.subtract(paid));
        }
        say.accept("the balances add up: payout + fee = what the renter paid; refund = deposit - paid");
    }
}

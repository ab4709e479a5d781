package io.gpuagent.daemon;

import io.gpuagent.escrow.ClaimView;
import io.gpuagent.escrow.Payouts;
import io.gpuagent.escrow.Voucher;
import io.gpuagent.escrow.VoucherException;
import io.gpuagent.market.CommandException;
import io.gpuagent.market.EventBridge;
import io.gpuagent.market.PaymentPort;
import io.gpuagent.protocol.Message;
import io.gpuagent.session.PaymentGate;
import io.gpuagent.session.SessionListener;
import io.gpuagent.session.SessionState;
import io.gpuagent.session.SessionView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * Joins the escrow to the rest of the agent: the scheduler link's payment port (payout identity,
 * rental checks, vouchers), the sessions' payment gate (credit limit), session lifecycle to claims
 * (running: claimed periodically; ended: the final, closing claim), and claim changes to events.
 */
final class EscrowBridge implements PaymentPort, PaymentGate, SessionListener {
    private static final Logger log = LoggerFactory.getLogger(EscrowBridge.class);

    private final Payouts payouts;
    private final String token;
    private final long chainId;
    private final String contract;
    private volatile EventBridge events;

    EscrowBridge(Payouts payouts, String token, long chainId, String contract) {
        this.contract = contract;
        this.payouts = payouts;
        this.token = token;
        this.chainId = chainId;
        payouts.addListener(this::claimChanged);
    }

    /** Where claim events go once the scheduler link runs. */
    void events(EventBridge bridge) {
        this.events = bridge;
    }

    private void claimChanged(ClaimView c) {
        log.info("claim {} of {}: {} ({} base units{}{})", c.id(), c.rentals(), c.state(), c.amount(),
                c.txHash().isEmpty() ? "" : ", tx " + c.txHash(), c.detail() == null || c.detail().isEmpty() ? "" : ": " + c.detail());
        EventBridge e = events;
        if (e != null) {
            e.onClaim(new Message.Claim(c.id(), c.rentals(), c.state().name().toLowerCase(Locale.ROOT), c.amount().toString(),
                    c.close(), c.txHash().isEmpty() ? null : c.txHash(), c.detail()));
        }
    }

    // ---- PaymentPort -------------------------------------------------------------------------

    @Override
    public String payoutAddress() {
        return payouts.payoutAddress();
    }

    @Override
    public String token() {
        return token;
    }

    @Override
    public Long chainId() {
        return chainId;
    }

    @Override
    public String signChallenge(String message) {
        return payouts.signer().sign(message.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String escrowContract() {
        return contract;
    }

    @Override
    public void checkRental(Message.Launch launch) throws CommandException {
        if (!io.gpuagent.escrow.Voucher.isRentalId(launch.rental())) {
            // the request itself is wrong, as the launch policy's other rules say: nothing was asked of the chain
            throw new CommandException("policy_rental_id", "rental \"" + launch.rental() + "\" is not an escrow rental id: "
                    + "send 0x and 64 hex digits, the id the escrow contract gave the rental when it was opened");
        }
        try {
            payouts.verifyRental(launch.rental(), new BigInteger(launch.pricePerSecond()), launch.maxDurationS());
        } catch (VoucherException e) {
            throw new CommandException(e.code().wire(), e.getMessage());
        }
    }

    @Override
    public void checkStreamGrant(Message.StreamOpen open, String rental) throws CommandException {
        Message.StreamGrant g = open.grant();
        io.gpuagent.escrow.StreamGrant grant = new io.gpuagent.escrow.StreamGrant(rental, open.session(),
                payouts.payoutAddress(), io.gpuagent.escrow.StreamGrant.kinds(g.kinds()), g.expires(), g.nonce(),
                g.signature());
        try {
            payouts.checkStreamGrant(grant, open.kind(), rental);
        } catch (io.gpuagent.escrow.StreamGrantException e) {
            throw new CommandException(e.code(), e.getMessage());
        }
    }

    @Override
    public Message.VoucherAck voucher(Message.Voucher v) throws CommandException {
        try {
            Voucher held = payouts.acceptVoucher(v.session(), new Voucher(v.rental(), v.cumulativeSeconds(),
                    new BigInteger(v.cumulativeAmount()), v.signature()));
            return new Message.VoucherAck(v.session(), held.rentalId(), held.cumulativeSeconds(),
                    held.cumulativeAmount().toString());
        } catch (VoucherException e) {
            throw new CommandException(e.code().wire(), e.getMessage());
        }
    }

    // ---- PaymentGate ---------------------------------------------------------------------------

    @Override
    public OptionalLong paidSeconds(String rentalId) {
        return OptionalLong.of(payouts.paidSeconds(rentalId));
    }

    // ---- SessionListener -----------------------------------------------------------------------

    @Override
    public void onChange(SessionView s) {
        if (s.state() == SessionState.RUNNING) {
            payouts.sessionRunning(s.sessionId(), s.rentalId());
        } else if (s.state().terminal() && s.billedSeconds() > 0) {
            payouts.sessionEnded(s.sessionId(), s.rentalId(), s.billedSeconds());
        }
    }
}

package io.gpuagent.market;

import io.gpuagent.protocol.ErrorCode;
import io.gpuagent.protocol.Message;

/**
 * The payment side as the scheduler link sees it (the daemon adapts the escrow to it): the
 * payout identity proven in the hello, the rental check at launch, and vouchers.
 */
public interface PaymentPort {
    /** The wallet claims are paid to, or null when escrow is disabled. */
    String payoutAddress();

    /** The escrow token's address, or null. */
    String token();

    /** The chain id of the escrow, or null. */
    Long chainId();

    /** The escrow contract's address (vouchers' EIP-712 verifyingContract), or null when escrow is disabled. */
    default String escrowContract() {
        return null;
    }

    /** EIP-191 signature of {@code message} by the payout wallet (0x hex), or null when escrow is disabled. */
    String signChallenge(String message);

    /** Refuses a launch whose rental cannot pay (unknown, closed, not ours, rate too low). */
    void checkRental(Message.Launch launch) throws CommandException;

    /** Verifies and keeps a voucher; answers with the highest one held. */
    Message.VoucherAck voucher(Message.Voucher voucher) throws CommandException;

    /**
     * Checks the renter's grant of a {@code stream.open} into a session paid by {@code rental}
     * (docs/streams.md); may read the chain, so never called on an event loop.
     *
     * @throws CommandException {@code grant_invalid}, naming what failed
     */
    default void checkStreamGrant(Message.StreamOpen open, String rental) throws CommandException {
        throw new CommandException("grant_invalid", "this agent checks no grants: escrow.enabled = false");
    }

    /** No escrow: launches are not checked against a chain and vouchers are refused. */
    PaymentPort NONE = new PaymentPort() {
        @Override
        public String payoutAddress() {
            return null;
        }

        @Override
        public String token() {
            return null;
        }

        @Override
        public Long chainId() {
            return null;
        }

        @Override
        public String signChallenge(String message) {
            return null;
        }

        @Override
        public void checkRental(Message.Launch launch) {
        }

        @Override
        public Message.VoucherAck voucher(Message.Voucher voucher) throws CommandException {
            throw new CommandException(ErrorCode.UNAVAILABLE.wire(), "this agent takes no vouchers: escrow.enabled = false");
        }
    };
}

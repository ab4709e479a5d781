package io.gpuagent.escrow;

/**
 * A voucher or a rental that the agent refuses, with a stable code for the scheduler
 * (docs/payments.md lists them). A refused voucher changes nothing: nothing is stored.
 */
public final class VoucherException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Stable error codes; {@link #wire()} is what the protocol sends. */
    public enum Code {
        /** Not a voucher: bad rental id, negative numbers, signature not 65 bytes of hex. */
        MALFORMED("voucher_malformed"),
        /** The signature does not recover to the rental's voucher signer (forged, or signed for another rental, contract or chain). */
        BAD_SIGNATURE("voucher_bad_signature"),
        /** No rental with this id on chain. */
        UNKNOWN_RENTAL("voucher_unknown_rental"),
        /** The rental pays another provider. */
        WRONG_PROVIDER("voucher_wrong_provider"),
        /** The rental is closed on chain. */
        RENTAL_CLOSED("voucher_rental_closed"),
        /** A lower amount than one already held, or fewer seconds for a higher amount. */
        NOT_INCREASING("voucher_not_increasing"),
        /** More than the rental's max rate times the voucher's seconds. */
        OVER_RATE("voucher_over_rate"),
        /** More than the rental's deposit. */
        OVER_DEPOSIT("voucher_over_deposit"),
        /** More seconds than the rental's max duration. */
        OVER_DURATION("voucher_over_duration"),
        /** The voucher names another rental than the session's. */
        WRONG_RENTAL("voucher_wrong_rental"),
        /** The chain could not be asked (RPC down) and the rental is not cached: retry later. */
        CHAIN_UNAVAILABLE("escrow_unavailable"),
        /** The escrow store cannot take the voucher durably now (disk full): retry later. */
        STORE_UNAVAILABLE("escrow_store_unavailable"),
        /** At launch: no rental with this id on chain. */
        RENTAL_UNKNOWN("rental_unknown"),
        /** At launch: the rental is closed. */
        RENTAL_NOT_OPEN("rental_closed"),
        /** At launch: the rental pays another provider. */
        RENTAL_WRONG_PROVIDER("rental_wrong_provider"),
        /** At launch: the rental's max rate is below the price asked. */
        RENTAL_UNDER_PRICE("rental_under_price"),
        /** At launch: the rental's max duration is below the duration asked. */
        RENTAL_TOO_SHORT("rental_too_short"),
        /** At launch: nothing deposited. */
        RENTAL_NO_DEPOSIT("rental_no_deposit"),
        /** At launch: the rental's deadline has passed (or is about to). */
        RENTAL_EXPIRED("rental_expired");

        private final String wire;

        Code(String wire) {
            this.wire = wire;
        }

        /** The code as the protocol and the logs spell it. */
        public String wire() {
            return wire;
        }
    }

    private final Code code;

    public VoucherException(Code code, String message) {
        super(message);
        this.code = code;
    }

    public VoucherException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }

    /** Whether asking again later may succeed (the chain was unreachable). */
    public boolean retryable() {
        return code == Code.CHAIN_UNAVAILABLE || code == Code.STORE_UNAVAILABLE;
    }

    @Override
    public String getMessage() {
        return code.wire() + ": " + super.getMessage();
    }
}

package io.gpuagent.session;

import java.util.OptionalLong;

/**
 * How far a session is paid, in seconds, by its renter's vouchers (the escrow keeps the
 * vouchers; the daemon adapts it). A session whose metered seconds run ahead of its paid seconds
 * by more than the credit limit is ended with reason {@code payment_overdue}.
 */
@FunctionalInterface
public interface PaymentGate {
    /** The seconds the highest voucher of {@code rentalId} covers, or empty when payments are not tracked. */
    OptionalLong paidSeconds(String rentalId);

    /** No vouchers (escrow disabled): never overdue. */
    PaymentGate NONE = rental -> OptionalLong.empty();
}

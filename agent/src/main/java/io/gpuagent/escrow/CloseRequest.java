package io.gpuagent.escrow;

/** A {@code CloseRequested(rentalId, deadline)} event: the renter asked to close; the final claim must land by {@code deadline}. */
public record CloseRequest(String rentalId, long deadline, long blockNumber) {
}

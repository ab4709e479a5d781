package io.gpuagent.escrow;

/** What eth_sendRawTransaction answered, classified. */
public enum SendResult {
    /** Accepted into the node's pool (or mined at once). */
    ACCEPTED,
    /** The node already has this exact transaction (pool or chain). */
    ALREADY_KNOWN,
    /** The nonce is below the account's: some transaction (maybe this one) already used it. */
    NONCE_TOO_LOW,
    /** Another transaction with this nonce is pending and this one does not outbid it. */
    REPLACEMENT_UNDERPRICED,
    /** Refused for another reason (no funds for gas, fee below the node's floor, ...): retried later. */
    REJECTED
}

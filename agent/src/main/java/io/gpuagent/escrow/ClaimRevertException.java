package io.gpuagent.escrow;

/**
 * The node says a claim would revert (from {@code eth_estimateGas}), with the contract's custom
 * error decoded when it is one of the escrow's ({@code PastDeadline}, {@code AmountNotIncreasing}, ...).
 */
public final class ClaimRevertException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String error;

    /**
     * @param error the custom error's name, or "" when the revert data is not one of the escrow's errors
     */
    public ClaimRevertException(String error, String message) {
        super(message);
        this.error = error;
    }

    /** The escrow's custom error name, or "". */
    public String error() {
        return error;
    }
}

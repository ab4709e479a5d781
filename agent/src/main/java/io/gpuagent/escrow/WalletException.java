package io.gpuagent.escrow;

/** The wallet cannot be used: keystore missing or damaged, wrong password, password file unsafe. The message says the fix. */
public final class WalletException extends Exception {
    private static final long serialVersionUID = 1L;

    public WalletException(String message) {
        super(message);
    }

    public WalletException(String message, Throwable cause) {
        super(message, cause);
    }
}

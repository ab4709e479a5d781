package io.gpuagent.market;

/** A scheduler command was refused; {@link #code()} is the stable error code sent back. Nothing changed. */
public final class CommandException extends Exception {
    private final String code;

    public CommandException(String code, String message) {
        super(message);
        this.code = code;
    }

    public String code() {
        return code;
    }
}

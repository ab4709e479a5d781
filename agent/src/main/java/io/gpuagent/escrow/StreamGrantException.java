package io.gpuagent.escrow;

/** A stream was refused for want of a valid renter's grant; {@link #code()}: {@code grant_required} or {@code grant_invalid}. */
public final class StreamGrantException extends Exception {
    private final String code;

    public StreamGrantException(String code, String message) {
        super(message);
        this.code = code;
    }

    public String code() {
        return code;
    }
}

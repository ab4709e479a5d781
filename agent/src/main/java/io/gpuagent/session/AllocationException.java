package io.gpuagent.session;

/** GPUs could not be allocated; {@link #code()} is stable for the scheduler. */
public final class AllocationException extends Exception {
    private final String code;

    public AllocationException(String code, String message) {
        super(message);
        this.code = code;
    }

    public String code() {
        return code;
    }
}

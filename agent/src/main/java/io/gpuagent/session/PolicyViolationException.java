package io.gpuagent.session;

/**
 * A launch request outside the owner's policy. {@link #rule()} is stable (for the scheduler's
 * error code); the message names the offending value and what is allowed. Nothing was created.
 */
public final class PolicyViolationException extends Exception {
    private final String rule;

    public PolicyViolationException(String rule, String message) {
        super(message);
        this.rule = rule;
    }

    public String rule() {
        return rule;
    }
}

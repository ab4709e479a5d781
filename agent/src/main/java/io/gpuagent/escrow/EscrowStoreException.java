package io.gpuagent.escrow;

import io.gpuagent.journal.JournalException;

/**
 * The escrow store could not make a change durable for good (an fsync failed; see
 * {@link io.gpuagent.journal.JournalFatalException}). Nothing was acknowledged; the daemon must
 * exit (code 6) so that systemd restarts it and recovery keeps what was durable.
 */
public final class EscrowStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EscrowStoreException(String what, JournalException cause) {
        super("escrow store: cannot " + what + ": " + cause.getMessage(), cause);
    }
}

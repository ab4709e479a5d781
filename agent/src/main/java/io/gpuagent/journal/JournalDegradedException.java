package io.gpuagent.journal;

/**
 * A record could not be made durable because the journal's filesystem is full. Not fatal: the
 * record stays buffered in memory, in order, and is written by the first {@link Journal#commit()}
 * after space returns. The session layer refuses new launches while {@link Journal#isDegraded()}.
 */
public final class JournalDegradedException extends JournalException {
    private final long seq;

    public JournalDegradedException(long seq, String reason) {
        super("journal record " + seq + " is buffered in memory but not durable: " + reason
                + ". It will be written, in order, by the first commit after space returns.");
        this.seq = seq;
    }

    /** The sequence number the buffered record has and keeps. */
    public long seq() {
        return seq;
    }
}

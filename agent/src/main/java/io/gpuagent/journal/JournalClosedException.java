package io.gpuagent.journal;

/** The journal was closed: no more records are accepted, and buffered ones were not written. */
public final class JournalClosedException extends JournalException {
    public JournalClosedException(String message) {
        super(message);
    }
}

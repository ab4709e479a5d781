package io.gpuagent.journal;

import java.io.IOException;

/**
 * Something the {@link Journal} could not do. The subclasses say what the caller should do:
 * {@link JournalCorruptException} (an operator must look), {@link JournalFatalException} (exit
 * and let systemd restart the agent), {@link JournalDegradedException} (disk full: keep metering
 * in memory, refuse new launches), {@link JournalClosedException} (shutting down).
 */
public abstract class JournalException extends IOException {
    protected JournalException(String message) {
        super(message);
    }

    protected JournalException(String message, Throwable cause) {
        super(message, cause);
    }
}

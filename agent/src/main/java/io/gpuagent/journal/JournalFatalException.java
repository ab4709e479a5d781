package io.gpuagent.journal;

/**
 * The journal can no longer promise durability: an fsync ({@code FileChannel.force}) failed, or
 * a write failed for a reason other than lack of space. After an fsync failure the kernel may have
 * dropped the dirty pages and cleared the error, so retrying could acknowledge records that are
 * not on disk. The journal therefore refuses everything from then on; the daemon exits with code 6
 * and systemd restarts it, and recovery keeps every record that was acknowledged.
 */
public final class JournalFatalException extends JournalException {
    public JournalFatalException(String message, Throwable cause) {
        super(message, cause);
    }
}

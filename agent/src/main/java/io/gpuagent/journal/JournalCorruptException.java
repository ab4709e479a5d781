package io.gpuagent.journal;

/**
 * The journal on disk is damaged somewhere other than a torn tail: a bad segment header, a CRC
 * failure or a sequence gap before the last record of the last segment. Never skipped silently,
 * since skipping could lose billed seconds or bill them twice; the message names the file, the
 * byte offset and what the operator should do.
 */
public final class JournalCorruptException extends JournalException {
    private final String file;
    private final long offset;
    private final String problem;

    public JournalCorruptException(String file, long offset, String problem) {
        super("journal segment " + file + " is corrupt at byte offset " + offset + ": " + problem
                + ". The agent does not start on a damaged journal, because guessing could lose or double-bill"
                + " metered seconds. Keep a copy of the journal directory, inspect it with"
                + " `gpu-agent journal dump --dir " + parentOf(file) + "` and follow docs/journal.md,"
                + " \"Recovering from corruption\".");
        this.file = file;
        this.offset = offset;
        this.problem = problem;
    }

    /** The damaged segment, as a path. */
    public String file() {
        return file;
    }

    /** Byte offset in {@link #file()} where the damage starts. */
    public long offset() {
        return offset;
    }

    /** What is wrong there, without the advice. */
    public String problem() {
        return problem;
    }

    private static String parentOf(String file) {
        int slash = file.lastIndexOf('/');
        return slash > 0 ? file.substring(0, slash) : ".";
    }
}

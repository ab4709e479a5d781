package io.gpuagent.journal;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.Locale;

/**
 * Tells a full filesystem (ENOSPC, or EDQUOT for a quota) from other I/O errors. The JDK has no
 * errno on {@link IOException}: {@code FileChannel.write} puts strerror(3) in the message and the
 * {@code Files} methods put it in {@link FileSystemException#getReason()}; both are checked, along
 * the cause chain.
 */
final class OutOfSpace {
    private static final String[] MESSAGES = {"no space left on device", "disk quota exceeded"};

    private OutOfSpace() {
    }

    static boolean is(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (mentionsNoSpace(t.getMessage())
                    || t instanceof FileSystemException fse && mentionsNoSpace(fse.getReason())) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static boolean mentionsNoSpace(String message) {
        if (message == null) {
            return false;
        }
        String m = message.toLowerCase(Locale.ROOT);
        for (String s : MESSAGES) {
            if (m.contains(s)) {
                return true;
            }
        }
        return false;
    }
}

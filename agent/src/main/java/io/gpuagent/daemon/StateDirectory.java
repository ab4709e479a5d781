package io.gpuagent.daemon;

import io.gpuagent.util.OwnerOnlyFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The agent's state directory ({@code agent.state_dir}) made private before anything is written
 * into it: created 0700 when missing, and everything in it narrowed to its owner (no group or
 * others bits: directories 0700, files 0600) when an older agent, another tool or a looser umask
 * left it readable. What was changed is logged once, as one warning. Under systemd,
 * {@code StateDirectoryMode=0700} and {@code UMask=0077} already give the same modes; this makes
 * them hold for an agent started any other way (a shell, a container, a test).
 */
public final class StateDirectory {
    private static final Logger log = LoggerFactory.getLogger(StateDirectory.class);
    /** At most this many paths are named in the warning; the rest are counted. */
    private static final int NAMED = 10;

    private StateDirectory() {
    }

    /**
     * Creates or narrows {@code dir} as above.
     *
     * @return what was narrowed (empty when all was private already)
     * @throws StateDirectoryException when it cannot be created, read, or narrowed (a path owned
     *                                 by another user); the message names the path and the fix
     */
    static List<OwnerOnlyFiles.Tightened> prepare(Path dir) throws StateDirectoryException {
        try {
            if (!Files.isDirectory(dir)) {
                OwnerOnlyFiles.createDirectories(dir);
                log.info("created the state directory {} (mode 0700)", dir);
            }
            List<OwnerOnlyFiles.Tightened> changed = OwnerOnlyFiles.tighten(dir);
            if (!changed.isEmpty()) {
                StringBuilder sb = new StringBuilder();
                changed.stream().limit(NAMED).forEach(t -> sb.append("\n  ").append(t));
                if (changed.size() > NAMED) {
                    sb.append("\n  ... and ").append(changed.size() - NAMED).append(" more");
                }
                log.warn("the state directory {} was readable by others: narrowed {} paths to their owner "
                        + "(an older agent or a umask looser than 077 made them):{}", dir, changed.size(), sb);
            }
            return changed;
        } catch (OwnerOnlyFiles.ForeignOwnerException e) {
            throw new StateDirectoryException(e.getMessage(), e);
        } catch (IOException e) {
            throw new StateDirectoryException("cannot prepare the state directory " + dir + " (agent.state_dir): " + e
                    + "; create it for the agent's user (install -d -m 0700 -o <user> " + dir
                    + ") or set agent.state_dir to a directory it owns", e);
        }
    }

    /** The state directory cannot be made private: the owner must act (exit code 3). */
    public static final class StateDirectoryException extends Exception {
        StateDirectoryException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}

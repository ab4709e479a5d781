package io.gpuagent.daemon;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The agent's version, stamped into the jar at build time ({@code version.properties}, filtered
 * by Maven). Plain Java: the daemon logs and advertises it, the command line prints it.
 */
public final class AgentVersion {
    private AgentVersion() {
    }

    /** The version stamped into the jar, or {@code unknown} when the resource is missing. */
    public static String version() {
        try (InputStream in = AgentVersion.class.getResourceAsStream("/io/gpuagent/daemon/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}

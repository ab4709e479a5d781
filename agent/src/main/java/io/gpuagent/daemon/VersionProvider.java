package io.gpuagent.daemon;

import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** {@code gpu-agent --version}: the agent's version and the Java runtime it runs on. */
public final class VersionProvider implements CommandLine.IVersionProvider {

    /** The version stamped into the jar at build time. */
    public static String version() {
        try (InputStream in = VersionProvider.class.getResourceAsStream("/io/gpuagent/daemon/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {
            "gpu-agent " + version(),
            "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"
        };
    }
}

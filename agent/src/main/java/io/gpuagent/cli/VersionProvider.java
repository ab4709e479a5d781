package io.gpuagent.cli;

import io.gpuagent.daemon.AgentVersion;
import picocli.CommandLine;

/** {@code gpu-agent --version}: the agent's version and the Java runtime it runs on. */
public final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {
            "gpu-agent " + AgentVersion.version(),
            "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"
        };
    }
}

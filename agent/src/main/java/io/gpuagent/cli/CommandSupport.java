package io.gpuagent.cli;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigException;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.gpu.GpuUnavailableException;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The config options shared by commands, and the mapping of typed failures to exit codes. Public
 * for the development commands that plug into the command line ({@link CommandPlugin}).
 */
public final class CommandSupport {
    /** The file the systemd unit and the install script use. */
    static final Path SYSTEM_CONFIG = Path.of("/etc/gpu-agent/agent.toml");

    private CommandSupport() {
    }

    /** {@code --config} and {@code --set}, mixed into the commands that read the configuration. */
    public static final class ConfigOptions {
        @CommandLine.Option(names = {"-c", "--config"}, paramLabel = "FILE",
                description = "agent.toml to use (default: /etc/gpu-agent/agent.toml when it exists, "
                        + "else built-in defaults)")
        Path config;

        @CommandLine.Option(names = "--set", paramLabel = "KEY=VALUE",
                description = "override one key, e.g. --set gpu.sample_interval_ms=500 (repeatable; wins over "
                        + "the file and GPU_AGENT__SECTION__KEY environment variables)")
        List<String> sets = new ArrayList<>();

        /**
         * The configuration: {@code --config} (else the system file when it exists, else the
         * built-in defaults), then the environment, then {@code --set}.
         */
        public AgentConfig load() throws ConfigException {
            Path file = config;
            if (file == null && java.nio.file.Files.exists(SYSTEM_CONFIG)) {
                file = SYSTEM_CONFIG;
            }
            return ConfigLoader.load(file, System.getenv(), sets);
        }
    }

    /** Prints a configuration error and returns {@link ExitCodes#CONFIG}. */
    public static int configError(PrintWriter err, ConfigException e) {
        err.println("gpu-agent: configuration error: " + e.getMessage());
        return ExitCodes.CONFIG;
    }

    static int gpuUnavailable(PrintWriter err, GpuUnavailableException e) {
        err.println("gpu-agent: " + e.getMessage());
        return e.kind() == GpuUnavailableException.Kind.LIBRARY ? ExitCodes.NVML_LIBRARY : ExitCodes.NVML_INIT;
    }
}

package io.gpuagent.cli;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigException;
import io.gpuagent.daemon.ControlSocket;
import io.gpuagent.daemon.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code gpu-agent drain} and {@code undrain}: through the running daemon's control socket. */
@Command(name = "drain", mixinStandardHelpOptions = true,
        description = {"Stop taking new sessions (maintenance); running sessions are not touched.",
            "Talks to the running daemon over <agent.state_dir>/control.sock. `undrain` reverses it.",
            "Exit codes: 0 ok, 3 bad config, 7 the daemon could not be reached."})
class DrainCommand implements Callable<Integer> {
    @CommandLine.Mixin
    CommandSupport.ConfigOptions options = new CommandSupport.ConfigOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    String command() {
        return "drain";
    }

    @Override
    public Integer call() {
        AgentConfig config;
        try {
            config = options.load();
        } catch (ConfigException e) {
            return CommandSupport.configError(spec.commandLine().getErr(), e);
        }
        Path dir = Path.of(config.agent().stateDir());
        try {
            String answer = ControlSocket.send(dir, command());
            spec.commandLine().getOut().println(answer);
            spec.commandLine().getOut().flush();
            return answer.startsWith("ok") ? ExitCodes.OK : ExitCodes.INTERNAL;
        } catch (IOException e) {
            spec.commandLine().getErr().println("gpu-agent: cannot reach the agent's control socket "
                    + dir.resolve(ControlSocket.FILE) + " (" + e.getMessage() + "): is it running with sessions "
                    + "enabled, and are you its user or root?");
            return ExitCodes.UNREACHABLE;
        }
    }

    /** {@code gpu-agent undrain}. */
    @Command(name = "undrain", mixinStandardHelpOptions = true,
            description = {"Take new sessions again after `gpu-agent drain`.",
                "Exit codes: 0 ok, 3 bad config, 7 the daemon could not be reached."})
    static final class Undrain extends DrainCommand {
        @Override
        String command() {
            return "undrain";
        }
    }
}

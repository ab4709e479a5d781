package io.gpuagent.cli;

import io.gpuagent.daemon.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.nio.file.Path;

/**
 * {@code gpu-agent}: the daemon ({@code run}) and the owner's tools ({@code probe},
 * {@code check}). Exit codes are in {@link ExitCodes}. The development tools ({@code demo},
 * {@code scheduler}, {@code tls init}) are not named here: they plug in as {@link CommandPlugin}s.
 */
@Command(name = "gpu-agent",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Host agent of a peer-to-peer GPU rental marketplace: probes this machine's NVIDIA GPUs "
                    + "through NVML, samples them every second, watches their health, serves Prometheus "
                    + "metrics and runs renters' containers on Docker, metered per second.",
            "",
            "Exit codes: 0 ok, 1 internal error, 2 bad command line, 3 bad or missing config, "
                    + "4 NVML library missing or unloadable, 5 NVML failed to initialise, 6 fatal runtime "
                    + "failure, 7 the running agent could not be reached, 8 the agent refused a scheduler request."
        },
        subcommands = {RunCommand.class, ProbeCommand.class, StatusCommand.class, DrainCommand.class,
                DrainCommand.Undrain.class, CheckCommand.class, JournalCommand.class, TlsCommand.class,
                WalletCommand.class, ClaimsCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (run, probe, status, check)");
    }

    /** Builds the command line, the plugged-in commands included, with the agent's exit-code mapping. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        PluginCommands.attach(cl, Main.class.getClassLoader());
        // a relative path option means the working directory, as in a shell (never a library name for JNA)
        cl.registerConverter(Path.class, s -> Path.of(s).toAbsolutePath().normalize());
        cl.setExecutionStrategy(Main::refuseUnmatched);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            org.slf4j.LoggerFactory.getLogger(Main.class).error("unexpected failure", ex);
            cmd.getErr().println("gpu-agent: internal error: " + ex);
            return ExitCodes.INTERNAL;
        });
        return cl;
    }

    /**
     * Runs the parsed command, but first refuses words no command knows: picocli lets {@code --help}
     * win over them, so {@code gpu-agent earnigs --help} printed the top-level help and exited 0
     * instead of naming the unknown command and exiting 2.
     */
    private static int refuseUnmatched(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (!p.unmatched().isEmpty()) {
                throw new CommandLine.UnmatchedArgumentException(p.commandSpec().commandLine(), p.unmatched());
            }
        }
        return new CommandLine.RunLast().execute(parsed);
    }

    /** Runs one command and exits with its code. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}

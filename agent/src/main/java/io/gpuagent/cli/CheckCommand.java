package io.gpuagent.cli;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigException;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.daemon.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code gpu-agent check}: validates the configuration and prints the effective one, secrets masked. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Validate the configuration and print the effective values (file < environment < --set),",
            "with secrets masked. Exit code 0 when valid, 3 when not."})
final class CheckCommand implements Callable<Integer> {
    @CommandLine.Mixin
    CommandSupport.ConfigOptions options = new CommandSupport.ConfigOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        try {
            AgentConfig config = options.load();
            spec.commandLine().getOut().print(ConfigLoader.describe(config));
            spec.commandLine().getOut().flush();
            return ExitCodes.OK;
        } catch (ConfigException e) {
            return CommandSupport.configError(spec.commandLine().getErr(), e);
        }
    }
}

package io.gpuagent.cli;

import picocli.CommandLine;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Adds the {@link CommandPlugin}s on the class path to the command line, each under its parent and
 * before its named sibling, so that {@code --help} lists the commands in the same order whether
 * they are built in or plugged in. A plugin that cannot be loaded is left out with a warning on
 * stderr (not a log line: before a command has read the configuration, logging is not set up); the
 * rest of the command line works without it.
 */
final class PluginCommands {
    private PluginCommands() {
    }

    /** Adds every plugin {@code loader} finds to the command line under {@code root}. */
    static void attach(CommandLine root, ClassLoader loader) {
        Iterator<CommandPlugin> plugins = ServiceLoader.load(CommandPlugin.class, loader).iterator();
        while (true) {
            try {
                if (!plugins.hasNext()) {
                    return;
                }
                CommandPlugin p = plugins.next();
                CommandLine parent = find(root, p.parent());
                if (parent == null) {
                    warn("command plugin " + p.getClass().getName() + " names the parent command '" + p.parent()
                            + "', which does not exist: left out");
                    continue;
                }
                insert(parent, new CommandLine(p.command()), p.before());
            } catch (ServiceConfigurationError | LinkageError | CommandLine.InitializationException e) {
                warn("a command plugin could not be loaded and is left out: " + e);
            }
        }
    }

    /** The command at {@code path} (words separated by spaces; {@code ""} is the root), or null. */
    private static CommandLine find(CommandLine root, String path) {
        CommandLine at = root;
        for (String word : path.trim().split("\\s+")) {
            if (!word.isEmpty()) {
                at = at.getSubcommands().get(word);
                if (at == null) {
                    return null;
                }
            }
        }
        return at;
    }

    /** Adds {@code child} before the sibling {@code before}: the siblings from there on come out and go back after it. */
    private static void insert(CommandLine parent, CommandLine child, String before) {
        CommandLine.Model.CommandSpec spec = parent.getCommandSpec();
        List<String> names = new ArrayList<>(spec.subcommands().keySet());
        int at = before.isEmpty() ? -1 : names.indexOf(before);
        List<CommandLine> after = new ArrayList<>();
        if (at >= 0) {
            for (String name : names.subList(at, names.size())) {
                CommandLine removed = spec.removeSubcommand(name); // null for an alias of one already removed
                if (removed != null) {
                    after.add(removed);
                }
            }
        }
        spec.addSubcommand(child.getCommandName(), child);
        for (CommandLine c : after) {
            spec.addSubcommand(c.getCommandName(), c);
        }
    }

    private static void warn(String message) {
        System.err.println("gpu-agent: warning: " + message);
    }
}

package io.gpuagent.devtools;

import io.gpuagent.cli.CommandPlugin;

/**
 * {@code gpu-agent web-terminal}, listed before {@code demo}; found through
 * {@code META-INF/services/io.gpuagent.cli.CommandPlugin} like {@link DevtoolsCommands}' plugins.
 */
public final class WebTerminalPlugin implements CommandPlugin {
    @Override
    public String parent() {
        return "";
    }

    @Override
    public String before() {
        return "demo";
    }

    @Override
    public Object command() {
        return new WebTerminalCommand();
    }
}

package io.gpuagent.devtools;

import io.gpuagent.cli.CommandPlugin;

/**
 * The development tools' commands as {@code gpu-agent} finds them: each class below is listed in
 * {@code META-INF/services/io.gpuagent.cli.CommandPlugin} (a rename must follow there), and says
 * where its command goes so that {@code --help} lists the commands in their usual order.
 */
public final class DevtoolsCommands {
    private DevtoolsCommands() {
    }

    /** {@code gpu-agent scheduler}, listed after {@code tls}. */
    public static final class Scheduler implements CommandPlugin {
        @Override
        public String parent() {
            return "";
        }

        @Override
        public String before() {
            return "wallet";
        }

        @Override
        public Object command() {
            return new SchedulerCommand();
        }
    }

    /** {@code gpu-agent demo}, listed last before {@code help}. */
    public static final class Demo implements CommandPlugin {
        @Override
        public String parent() {
            return "";
        }

        @Override
        public String before() {
            return "help";
        }

        @Override
        public Object command() {
            return new DemoCommand();
        }
    }

    /** {@code gpu-agent tls init}, listed before {@code tls fingerprint}. */
    public static final class TlsInit implements CommandPlugin {
        @Override
        public String parent() {
            return "tls";
        }

        @Override
        public String before() {
            return "fingerprint";
        }

        @Override
        public Object command() {
            return new TlsInitCommand();
        }
    }
}

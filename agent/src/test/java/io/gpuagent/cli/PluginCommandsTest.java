package io.gpuagent.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The development commands plug in where they were listed before, and the command line works without them. */
class PluginCommandsTest {
    private static final String SERVICES = "META-INF/services/" + CommandPlugin.class.getName();

    @TempDir
    Path tmp;

    /** A class loader whose only {@link CommandPlugin} services file is {@code services} (null: none). */
    private static ClassLoader onlyServices(Path services) {
        return new ClassLoader(PluginCommandsTest.class.getClassLoader()) {
            @Override
            public Enumeration<URL> getResources(String name) throws IOException {
                if (!name.equals(SERVICES)) {
                    return super.getResources(name);
                }
                return services == null ? Collections.emptyEnumeration()
                        : Collections.enumeration(List.of(services.toUri().toURL()));
            }
        };
    }

    private static List<String> names(CommandLine cl) {
        return List.copyOf(cl.getSubcommands().keySet());
    }

    @Test
    void theDevelopmentCommandsAreListedInTheirUsualPlaces() {
        CommandLine cl = Main.commandLine();
        assertThat(names(cl)).containsExactly("run", "probe", "status", "drain", "undrain", "check", "journal", "tls",
                "scheduler", "wallet", "claims", "web-terminal", "demo", "help");
        assertThat(names(cl.getSubcommands().get("tls"))).containsExactly("init", "fingerprint", "help");
        assertThat(cl.getSubcommands().get("tls").getSubcommands().get("init").getCommandSpec().qualifiedName())
                .isEqualTo("gpu-agent tls init");
    }

    @Test
    void withoutPluginsTheProductionCommandsWork() {
        CommandLine cl = new CommandLine(new Main());
        PluginCommands.attach(cl, onlyServices(null));
        assertThat(names(cl)).containsExactly("run", "probe", "status", "drain", "undrain", "check", "journal", "tls",
                "wallet", "claims", "help");
        assertThat(names(cl.getSubcommands().get("tls"))).containsExactly("fingerprint", "help");
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(new StringWriter()));
        assertThat(cl.execute("tls", "fingerprint", tmp.resolve("none.pem").toString())).isEqualTo(3);
        assertThat(cl.execute("demo")).as("an unknown command is a usage error").isEqualTo(2);
    }

    @Test
    void aPluginGoesBeforeItsSiblingAndOneWithoutAParentOrAClassIsLeftOutWithAWarning() throws Exception {
        Path services = tmp.resolve("services");
        Files.writeString(services, String.join("\n", Early.class.getName(), Orphan.class.getName(),
                "io.gpuagent.cli.NoSuchPlugin") + "\n", StandardCharsets.UTF_8);
        CommandLine cl = new CommandLine(new Main());
        PrintStream original = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            PluginCommands.attach(cl, onlyServices(services));
        } finally {
            System.setErr(original);
        }
        assertThat(names(cl)).containsExactly("run", "early", "probe", "status", "drain", "undrain", "check", "journal",
                "tls", "wallet", "claims", "help");
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("gpu-agent: warning: command plugin " + Orphan.class.getName())
                .contains("'no such'")
                .contains("io.gpuagent.cli.NoSuchPlugin");
    }

    /** A command listed before {@code probe}. */
    public static final class Early implements CommandPlugin {
        @Override
        public String parent() {
            return "";
        }

        @Override
        public String before() {
            return "probe";
        }

        @Override
        public Object command() {
            return new EarlyCommand();
        }
    }

    /** A command whose parent does not exist. */
    public static final class Orphan implements CommandPlugin {
        @Override
        public String parent() {
            return "no such";
        }

        @Override
        public Object command() {
            return new EarlyCommand();
        }
    }

    @Command(name = "early")
    static final class EarlyCommand implements Runnable {
        @Override
        public void run() {
        }
    }
}

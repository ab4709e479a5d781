package io.gpuagent.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line as a shell user types it: mistyped commands and relative paths. */
class MainTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void aMistypedCommandWithHelpIsNamedAndExits2() {
        assertThat(run("earnigs", "--help")).isEqualTo(2);
        assertThat(err.toString()).contains("'earnigs'");
        assertThat(out.toString()).as("no help printed as if all were well").doesNotContain("Usage: gpu-agent [");
    }

    @Test
    void aMistypedSubcommandWithHelpIsNamedAndExits2() {
        assertThat(run("tls", "inti", "--help")).isEqualTo(2);
        assertThat(err.toString()).contains("'inti'").contains("tls init");
    }

    @Test
    void helpOfRealCommandsStillExits0() {
        assertThat(run("--help")).isZero();
        assertThat(run("probe", "--help")).isZero();
        assertThat(run("tls", "init", "--help")).isZero();
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void aRelativePathOptionMeansTheWorkingDirectory() {
        CommandLine.ParseResult parsed = Main.commandLine().parseArgs("probe", "--nvml-library",
                "native/build/libnvidia-ml.so.1");
        Path lib = parsed.subcommand().matchedOptionValue("--nvml-library", null);
        assertThat(lib).isAbsolute().isEqualTo(Path.of("").toAbsolutePath().resolve("native/build/libnvidia-ml.so.1"));
        Path dir = Main.commandLine().parseArgs("journal", "dump", "--dir", "../x/./journal").subcommand().subcommand()
                .matchedOptionValue("--dir", null);
        assertThat(dir).isEqualTo(Path.of("").toAbsolutePath().resolve("../x/journal").normalize());
    }
}

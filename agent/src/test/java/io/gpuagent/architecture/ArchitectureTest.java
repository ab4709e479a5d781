package io.gpuagent.architecture;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent's packages keep the layering that docs/architecture.md states as an allow-list: each
 * room uses only the rooms and libraries its row names (dependencies point inward, each library
 * stays in the rooms that own it, nothing imports the dev tools). The rules are read from the
 * document, so the table and the test cannot drift apart; the planted cases show that a break of
 * each kind fails.
 */
class ArchitectureTest {
    private static Path repo;
    private static Layering layering;

    @TempDir
    Path tmp;

    @BeforeAll
    static void read() throws IOException {
        repo = Path.of(System.getProperty("gpuagent.repoRoot", ".."));
        layering = Layering.fromDocument(repo.resolve("docs/architecture.md"));
    }

    @Test
    void theAgentKeepsTheLayeringOfDocsArchitectureMd() {
        assertThat(layering.rooms()).hasSizeGreaterThan(20);
        assertThat(layering.violations(repo.resolve("agent/src/main/java"))).isEmpty();
    }

    @Test
    void devtoolsIsInNoRoomsList() {
        layering.rooms().values().forEach(r -> assertThat(r.uses()).as(r.name()).doesNotContain("devtools"));
    }

    /** A source tree with every room of the table (one class each) plus {@code extra}, checked. */
    private List<String> plant(String pkg, String source) throws IOException {
        Path root = Files.createTempDirectory(tmp, "src");
        for (String room : layering.rooms().keySet()) {
            write(root, room, "package io.gpuagent." + room + ";\nfinal class Room {\n}\n", "Room");
        }
        write(root, pkg, source, "Planted");
        return layering.violations(root);
    }

    private static void write(Path root, String pkg, String source, String name) throws IOException {
        Path dir = root.resolve("io/gpuagent/" + pkg.replace('.', '/'));
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(name + ".java"), source);
    }

    @Test
    void aCleanTreeOfEveryRoomPasses() throws IOException {
        assertThat(plant("session", "package io.gpuagent.session;\nimport io.gpuagent.journal.Journal;\n"
                + "final class Planted {\n}\n")).isEmpty();
    }

    @Test
    void aPlantedUpwardImportFails() throws IOException {
        assertThat(plant("session", "package io.gpuagent.session;\nimport io.gpuagent.market.SchedulerPort;\n"
                + "final class Planted {\n}\n"))
                .singleElement().asString().contains("Planted.java (session) uses market");
    }

    @Test
    void aPlantedQualifiedNameInCodeFails() throws IOException {
        assertThat(plant("journal", "package io.gpuagent.journal;\nfinal class Planted {\n"
                + "    io.gpuagent.session.SessionView v; // io.gpuagent.daemon.Daemon in a comment does not count\n"
                + "    String s = \"io.gpuagent.metrics.MetricsEndpoint in a string neither\";\n}\n"))
                .singleElement().asString().contains("(journal) uses session");
    }

    @Test
    void aLibraryOutsideItsRoomsFails() throws IOException {
        assertThat(plant("session", "package io.gpuagent.session;\nimport io.netty.channel.Channel;\n"
                + "final class Planted {\n}\n"))
                .singleElement().asString().contains("uses Netty");
        assertThat(plant("metrics", "package io.gpuagent.metrics;\nfinal class Planted {\n"
                + "    Object o = new com.sun.jna.Memory(8);\n}\n"))
                .singleElement().asString().contains("uses JNA");
    }

    @Test
    void aLibraryInNoTableFails() throws IOException {
        assertThat(plant("util", "package io.gpuagent.util;\nimport com.google.common.collect.ImmutableList;\n"
                + "final class Planted {\n}\n"))
                .singleElement().asString().contains("a library in no table");
    }

    @Test
    void productionCodeImportingTheDevToolsFails() throws IOException {
        assertThat(plant("cli", "package io.gpuagent.cli;\nimport io.gpuagent.devtools.DemoCommand;\n"
                + "final class Planted {\n}\n"))
                .singleElement().asString().contains("(cli) uses devtools");
    }

    @Test
    void aPackageWithoutARoomFails() throws IOException {
        assertThat(plant("attic", "package io.gpuagent.attic;\nfinal class Planted {\n}\n"))
                .singleElement().asString().contains("package attic has no room");
    }

    @Test
    void theJdkAndSlf4jAreAllowedEverywhere() throws IOException {
        assertThat(plant("util", "package io.gpuagent.util;\nimport java.util.List;\nimport javax.net.ssl.SSLContext;\n"
                + "import org.slf4j.Logger;\nfinal class Planted {\n}\n")).isEmpty();
    }
}

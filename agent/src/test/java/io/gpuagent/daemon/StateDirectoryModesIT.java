package io.gpuagent.daemon;

import io.gpuagent.testsupport.AgentProcess;
import io.gpuagent.testsupport.RunningAgent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16, item 6: the agent's state files are owner-only whatever the umask it was started with.
 * Outside systemd (no {@code UMask=0077}, no {@code StateDirectoryMode=0700}) an owner's shell
 * has umask 022, under which plain file calls make 0755 directories and 0644 files. Here every
 * command that writes under {@code agent.state_dir} runs under {@code umask 022}: {@code wallet new},
 * {@code tls init}, then {@code run} with sessions on (the journal, the control socket) and escrow on
 * (its store; the chain RPC points at a closed port, which the agent tolerates at start). Then the
 * tree is walked: every directory 0700, every regular file 0600, the socket 0600 (connecting to a
 * unix socket needs write permission, so 0600 is the loosest mode that still lets the agent's user
 * run `gpu-agent drain`; nothing tighter would). And a state directory an older agent left 0755/0644
 * is narrowed at the next start, which says so in its log.
 */
class StateDirectoryModesIT {
    private static final String UMASK = "022";

    @TempDir
    Path dir;

    @Test
    void everythingUnderTheStateDirectoryIsOwnerOnlyUnderUmask022AndAnOlderAgentsModesAreNarrowed() throws Exception {
        Path socket = io.gpuagent.container.docker.DockerContainerRuntimeIT.socketFromEnvironment();
        Path state = dir.resolve("state");
        Path password = dir.resolve("password");
        Files.writeString(password, "it-password\n");
        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));

        cli("wallet", "new", "--light-kdf", "--password-file", password.toString(), "--set", "agent.state_dir=" + state);
        cli("tls", "init", "--set", "agent.state_dir=" + state);
        assertThat(state.resolve("wallet/keystore.json")).exists();
        assertThat(state.resolve("tls/agent-key.pem")).exists();

        String[] sets = {"sessions.enabled=true", "docker.socket=" + socket, "sessions.gpu_attach=none",
            "escrow.enabled=true", "escrow.rpc_url=http://127.0.0.1:1", "escrow.chain_id=1337",
            "escrow.contract=0x" + "11".repeat(20), "escrow.token=0x" + "22".repeat(20),
            "escrow.password_file=" + password};
        try (RunningAgent agent = RunningAgent.underUmask(UMASK, dir, "gaming-pc-rtx4090.conf", sets)) {
            assertThat(state.resolve("journal")).isDirectory();
            assertThat(state.resolve("escrow")).isDirectory();
            assertThat(state.resolve(ControlSocket.FILE)).exists();
            assertThat(agent.log()).doesNotContain("was readable by others");
            assertOwnerOnly(state);
        }
        assertOwnerOnly(state); // what the drain wrote at stop too

        // an older agent (or a copy with cp -r under umask 022) left everything readable
        List<Path> all = tree(state);
        for (Path p : all) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
        }
        try (RunningAgent agent = RunningAgent.underUmask(UMASK, dir, "gaming-pc-rtx4090.conf", sets)) {
            // one warning naming the first ten paths (the root first) and counting the rest
            assertThat(agent.log()).contains("the state directory " + state + " was readable by others: narrowed "
                    + all.size() + " paths").contains(state.toRealPath() + " 0755 -> 0700");
            assertOwnerOnly(state);
        }
    }

    private static void cli(String... args) throws Exception {
        AgentProcess.Result r = AgentProcess.run(AgentProcess.withUmask(UMASK, AgentProcess.builder(Map.of(), args)), args);
        assertThat(r.exitCode()).as(String.join(" ", args) + ": " + r.stdout() + r.stderr()).isZero();
    }

    private static List<Path> tree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> !Files.isSymbolicLink(p) && !p.getFileName().toString().equals(ControlSocket.FILE)).toList();
        }
    }

    /** Every directory 0700, every regular file and socket 0600; nothing group or world readable. */
    private static void assertOwnerOnly(Path root) throws IOException {
        List<String> seen = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                String mode = PosixFilePermissions.toString(a.permissions());
                seen.add(root.relativize(p) + " " + mode);
                if (a.isDirectory()) {
                    assertThat(mode).as(p + " (a directory)").isEqualTo("rwx------");
                } else if (a.isRegularFile() || a.isOther()) {
                    assertThat(mode).as(p + (a.isOther() ? " (a socket)" : " (a file)")).isEqualTo("rw-------");
                } else {
                    assertThat(a.isSymbolicLink()).as(p + " is a directory, a file, a socket or a link").isTrue();
                }
            }
        }
        assertThat(seen).as("the tree walked").anyMatch(l -> l.startsWith("journal/journal-"))
                .anyMatch(l -> l.startsWith("escrow/journal-")).anyMatch(l -> l.startsWith("wallet/keystore.json"))
                .anyMatch(l -> l.startsWith("tls/agent-key.pem"));
    }
}

package io.gpuagent.daemon;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

/** The state directory made private at start (issue 16, item 6). */
class StateDirectoryTest {
    @TempDir
    Path dir;

    @Test
    void aMissingStateDirectoryAndItsMissingParentsAreCreated0700() throws Exception {
        Path state = dir.resolve("var/lib/gpu-agent");
        assertThat(StateDirectory.prepare(state)).isEmpty();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("var")))).isEqualTo("rwx------");
    }

    @Test
    void whatAnOlderAgentLeftReadableIsNarrowedAndReportedOnce() throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        Path segment = Files.writeString(Files.createDirectories(state.resolve("journal")).resolve("journal-1.wal"), "x");
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(segment, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(StateDirectory.prepare(state)).hasSize(3); // state, journal (made under umask 022), the segment
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(segment))).isEqualTo("rw-------");
        assertThat(StateDirectory.prepare(state)).isEmpty();
    }

    @Test
    void aStateDirectoryThatIsAFileIsAnErrorThatNamesItAndTheFix() throws Exception {
        Path state = Files.writeString(dir.resolve("state"), "not a directory");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> StateDirectory.prepare(state))
                .isInstanceOf(StateDirectory.StateDirectoryException.class)
                .hasMessageContaining(state.toString()).hasMessageContaining("agent.state_dir");
    }
}

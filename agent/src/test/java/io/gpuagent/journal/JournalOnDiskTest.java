package io.gpuagent.journal;

import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The journal's contract on the real filesystem, and the modes of its files. */
class JournalOnDiskTest extends JournalContract {
    @TempDir
    Path dir;

    @Override
    protected JournalFiles files() throws Exception {
        return DiskJournalFiles.open(dir.resolve("journal"), true);
    }

    @Test
    void theDirectoryAndItsMissingParentsAre0700AndSegments0600UnderAUmaskOf022() throws Exception {
        Path journal = dir.resolve("state/journal");
        try (Journal j = Journal.open(journal, new ManualClock(), r -> { })) {
            j.append(1, utf8("launch s-1"));
            j.commit();
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(journal))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(journal.getParent()))).isEqualTo("rwx------");
        try (Stream<Path> s = Files.list(journal)) {
            assertThat(s.toList()).isNotEmpty().allSatisfy(p -> assertThat(PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(p))).as(p.toString()).isEqualTo("rw-------"));
        }
    }
}

package io.gpuagent.journal;

import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The journal's contract on the real filesystem. */
class JournalOnDiskTest extends JournalContract {
    @TempDir
    Path dir;

    @Override
    protected JournalFiles files() throws Exception {
        return DiskJournalFiles.open(dir.resolve("journal"), true);
    }
}

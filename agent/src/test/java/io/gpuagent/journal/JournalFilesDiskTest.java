package io.gpuagent.journal;

import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The real directory passes the contract. */
class JournalFilesDiskTest extends JournalFilesContract {
    @TempDir
    Path dir;

    @Override
    protected JournalFiles newFiles() throws Exception {
        return DiskJournalFiles.open(dir.resolve("journal"), true);
    }
}

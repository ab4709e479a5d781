package io.gpuagent.journal;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What every {@link JournalFiles} must do; run against the disk and against the fake. */
abstract class JournalFilesContract {
    protected JournalFiles files;

    protected abstract JournalFiles newFiles() throws Exception;

    @BeforeEach
    void setUp() throws Exception {
        files = newFiles();
    }

    @Test
    void positionalWritesAndReadsSeeTheSameBytes() throws Exception {
        try (JournalFiles.SegmentFile f = files.create("a.wal")) {
            assertThat(f.size()).isZero();
            assertThat(f.write(bytes("hello"), 0)).isEqualTo(5);
            assertThat(f.write(bytes("world"), 5)).isEqualTo(5);
            f.write(bytes("W"), 5);
            assertThat(f.size()).isEqualTo(10);
            ByteBuffer dst = ByteBuffer.allocate(16);
            assertThat(f.read(dst, 3)).isEqualTo(7);
            assertThat(new String(dst.array(), 0, 7, StandardCharsets.US_ASCII)).isEqualTo("loWorld");
            assertThat(f.read(ByteBuffer.allocate(4), 10)).isEqualTo(-1);
            f.force();
        }
        try (JournalFiles.SegmentFile f = files.open("a.wal", false)) {
            assertThat(f.size()).isEqualTo(10);
        }
    }

    @Test
    void truncateCutsTheFile() throws Exception {
        try (JournalFiles.SegmentFile f = files.create("a.wal")) {
            f.write(bytes("0123456789"), 0);
            f.truncate(4);
            assertThat(f.size()).isEqualTo(4);
            ByteBuffer dst = ByteBuffer.allocate(10);
            assertThat(f.read(dst, 0)).isEqualTo(4);
            f.truncate(8); // never grows
            assertThat(f.size()).isEqualTo(4);
        }
    }

    @Test
    void listShowsWhatWasCreatedAndNotDeleted() throws Exception {
        assertThat(files.list()).isEmpty();
        files.create("a.wal").close();
        files.create("b.wal").close();
        files.delete("a.wal");
        files.syncDirectory();
        assertThat(files.list()).containsExactly("b.wal");
        assertThat(files.describe("b.wal")).endsWith("/b.wal");
    }

    @Test
    void createRefusesAnExistingFileAndOpenAndDeleteAMissingOne() throws Exception {
        files.create("a.wal").close();
        assertThatThrownBy(() -> files.create("a.wal")).isInstanceOf(FileAlreadyExistsException.class);
        assertThatThrownBy(() -> files.open("missing.wal", false)).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> files.delete("missing.wal")).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void aReadOnlyFileCannotBeWritten() throws Exception {
        files.create("a.wal").close();
        try (JournalFiles.SegmentFile f = files.open("a.wal", false)) {
            assertThatThrownBy(() -> f.write(bytes("x"), 0)).isInstanceOf(Exception.class);
            assertThat(f.size()).isZero();
        }
    }

    @Test
    void aClosedFileRefusesUse() throws Exception {
        JournalFiles.SegmentFile f = files.create("a.wal");
        f.close();
        assertThatThrownBy(f::size).isInstanceOf(java.nio.channels.ClosedChannelException.class);
    }

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }
}

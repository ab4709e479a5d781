package io.gpuagent.journal;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The fake passes the disk's contract, and its knobs do what the fault tests rely on. */
class JournalFilesFakeTest extends JournalFilesContract {
    private FakeJournalFiles fake;

    @Override
    protected JournalFiles newFiles() {
        fake = new FakeJournalFiles();
        return fake;
    }

    @Test
    void aFullDiskCutsAWriteShortThenFailsWithEnospc() throws Exception {
        fake.capacity(6);
        try (JournalFiles.SegmentFile f = fake.create("a.wal")) {
            ByteBuffer src = ByteBuffer.wrap(new byte[10]);
            assertThat(f.write(src, 0)).isEqualTo(6);
            assertThatThrownBy(() -> f.write(src, 6)).isInstanceOf(IOException.class)
                    .hasMessage("No space left on device");
            assertThat(OutOfSpace.is(assertThrows(() -> f.write(src, 6)))).isTrue();
            f.write(ByteBuffer.wrap(new byte[3]), 0); // overwriting needs no space
        }
    }

    @Test
    void aCrashKeepsOnlyWhatWasFsyncedUnderNamesThatWereFsynced() throws Exception {
        try (JournalFiles.SegmentFile f = fake.create("a.wal")) {
            f.write(ByteBuffer.wrap(new byte[]{1, 2}), 0);
            f.force();
            fake.syncDirectory();
            f.write(ByteBuffer.wrap(new byte[]{3}), 2);
        }
        fake.create("b.wal").close(); // never made durable by a directory fsync
        FakeJournalFiles after = fake.crash();
        assertThat(after.list()).containsExactly("a.wal");
        assertThat(after.content("a.wal")).containsExactly(1, 2);
        assertThat(fake.forces()).isEqualTo(1);
        assertThat(fake.directorySyncs()).isEqualTo(1);
    }

    @Test
    void failingFsyncsFailUntilHealed() throws Exception {
        fake.failForces(new IOException("Input/output error"));
        try (JournalFiles.SegmentFile f = fake.create("a.wal")) {
            assertThatThrownBy(f::force).hasMessage("Input/output error");
            assertThatThrownBy(fake::syncDirectory).hasMessage("Input/output error");
            fake.failForces(null);
            f.force();
        }
    }

    private static Throwable assertThrows(ThrowingCall c) {
        try {
            c.call();
        } catch (Throwable t) {
            return t;
        }
        throw new AssertionError("expected a failure");
    }

    private interface ThrowingCall {
        void call() throws Exception;
    }
}

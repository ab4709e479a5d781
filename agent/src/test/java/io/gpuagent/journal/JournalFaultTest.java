package io.gpuagent.journal;

import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.LongStream;

import static io.gpuagent.journal.JournalContract.seqs;
import static io.gpuagent.journal.JournalContract.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Faults staged with the fake directory: fsync counts, failing fsyncs, a full disk, a power cut. */
class JournalFaultTest {
    private final ManualClock clock = new ManualClock();
    private final FakeJournalFiles fake = new FakeJournalFiles();

    private Journal open(FakeJournalFiles files, JournalOptions options, List<JournalRecord> replayed) throws IOException {
        return Journal.open(files, options, clock, replayed::add);
    }

    private static List<JournalRecord> replay(FakeJournalFiles files) throws IOException {
        List<JournalRecord> out = new ArrayList<>();
        Journal.open(files, JournalOptions.DEFAULTS, new ManualClock(), out::add).close();
        return out;
    }

    private static List<Long> oneTo(long n) {
        return LongStream.rangeClosed(1, n).boxed().toList();
    }

    @Test
    void sixtyFourSessionsTickWithOneWriteAndOneFsync() throws Exception {
        Journal j = open(fake, JournalOptions.DEFAULTS, new ArrayList<>());
        for (int tick = 0; tick < 3; tick++) {
            int forces = fake.forces();
            int writes = fake.writes();
            List<CompletableFuture<Long>> futures = new ArrayList<>();
            for (int s = 0; s < 64; s++) {
                futures.add(j.append(1, new byte[100]));
            }
            assertThat(fake.forces()).isEqualTo(forces);
            assertThat(j.commit()).isEqualTo(64);
            assertThat(fake.forces() - forces).as("fsyncs in tick %d", tick).isEqualTo(1);
            assertThat(fake.writes() - writes).as("writes in tick %d", tick).isEqualTo(1);
            assertThat(futures).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
        }
        assertThat(j.stats().commits()).isEqualTo(3);
    }

    @Test
    void acknowledgedRecordsSurviveAPowerCutAndUnacknowledgedOnesMayNot() throws Exception {
        Journal j = open(fake, JournalOptions.DEFAULTS.withSegmentBytes(300), new ArrayList<>());
        for (int i = 0; i < 20; i++) {
            j.append(1, utf8("tick " + i));
            j.commit();
        }
        j.append(1, utf8("never committed"));
        assertThat(replay(fake.crash())).extracting(JournalRecord::seq).containsExactlyElementsOf(oneTo(20));
    }

    @Test
    void aFailedFsyncIsFatalAndTheJournalRefusesEverythingAfter() throws Exception {
        Journal j = open(fake, JournalOptions.DEFAULTS, new ArrayList<>());
        j.appendDurably(1, utf8("durable"));
        CompletableFuture<Long> lost = j.append(1, utf8("in the failed commit"));
        fake.failForces(new IOException("Input/output error"));
        assertThatThrownBy(j::commit).isInstanceOfSatisfying(JournalFatalException.class, e -> assertThat(e.getMessage())
                .contains("fsync").contains("/fake/journal/journal-00000000000000000001.wal")
                .contains("Input/output error").contains("code 6"));
        assertThat(lost).isCompletedExceptionally();
        fake.failForces(null); // even if the disk seems to recover: the kernel may have dropped the pages
        assertThatThrownBy(() -> j.append(1, utf8("x"))).isInstanceOf(JournalFatalException.class)
                .hasMessageContaining("refuses records after a fatal failure");
        assertThatThrownBy(() -> j.appendDurably(1, utf8("x"))).isInstanceOf(JournalFatalException.class);
        assertThatThrownBy(() -> j.snapshot(utf8("x"))).isInstanceOf(JournalFatalException.class);
        assertThatThrownBy(j::commit).isInstanceOf(JournalFatalException.class);
        j.close();
        assertThat(seqs(replay(fake.crash()))).startsWith(1L).hasSizeLessThanOrEqualTo(2);
    }

    @Test
    void aWriteErrorOtherThanAFullDiskIsFatal() throws Exception {
        Journal j = open(fake, JournalOptions.DEFAULTS, new ArrayList<>());
        CompletableFuture<Long> f = j.append(1, utf8("x"));
        fake.failWrites(new IOException("Read-only file system"));
        assertThatThrownBy(j::commit).isInstanceOf(JournalFatalException.class).hasMessageContaining("write failed");
        assertThat(f).isCompletedExceptionally();
        assertThat(j.isDegraded()).isFalse();
    }

    @Test
    void aFullDiskDegradesKeepsEverythingInMemoryAndWritesItOnceWhenSpaceReturns() throws Exception {
        Journal j = open(fake, JournalOptions.DEFAULTS, new ArrayList<>());
        j.appendDurably(1, utf8("before"));
        long durableSize = fake.content("journal-00000000000000000001.wal").length;
        fake.spaceLeft(50); // room for one and a bit of the 64 records: the write is cut short
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        for (int tick = 0; tick < 3; tick++) {
            for (int s = 0; s < 64; s++) {
                futures.add(j.append(1, utf8("tick " + tick + " session " + s)));
            }
            assertThat(j.commit()).isZero();
            assertThat(j.isDegraded()).isTrue();
            assertThat(fake.content("journal-00000000000000000001.wal")).as("partial write cut back").hasSize((int) durableSize);
        }
        assertThat(j.degradedReason()).hasValueSatisfying(r -> assertThat(r).contains("No space left on device")
                .contains("192 records"));
        assertThat(j.stats().degraded()).isTrue();
        assertThat(j.stats().pendingRecords()).isEqualTo(192);
        assertThat(j.stats().noSpaceFailures()).isEqualTo(3);
        assertThat(futures).noneMatch(CompletableFuture::isDone);
        assertThat(seqs(replay(fake.crash()))).as("nothing unacknowledged reached the disk").containsExactly(1L);

        JournalDegradedException degraded = org.assertj.core.api.Assertions.catchThrowableOfType(
                () -> j.appendDurably(2, utf8("stop intent")), JournalDegradedException.class);
        assertThat(degraded.seq()).isEqualTo(194);
        assertThat(degraded.getMessage()).contains("buffered in memory").contains("No space left");

        fake.unlimitedSpace();
        assertThat(j.commit()).isEqualTo(193);
        assertThat(j.isDegraded()).isFalse();
        assertThat(j.stats().pendingRecords()).isZero();
        assertThat(futures).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
        assertThat(futures.get(0)).isCompletedWithValue(2L);
        j.close();
        List<JournalRecord> replayed = replay(fake.crash());
        assertThat(seqs(replayed)).containsExactlyElementsOf(oneTo(194));
        assertThat(new String(replayed.get(193).payload(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("stop intent");
    }

    @Test
    void aFullDiskWhileStartingANewSegmentDegradesAndRecovers() throws Exception {
        JournalOptions small = JournalOptions.DEFAULTS.withSegmentBytes(100);
        Journal j = open(fake, small, new ArrayList<>());
        for (int i = 0; i < 3; i++) {
            j.appendDurably(1, utf8("fill fill fill " + i)); // 32 + 3 x 32 > 100: the next commit rotates
        }
        fake.spaceLeft(10); // not even a header fits
        CompletableFuture<Long> f = j.append(1, utf8("needs a new segment"));
        assertThat(j.commit()).isZero();
        assertThat(j.isDegraded()).isTrue();
        assertThat(fake.list()).containsExactly("journal-00000000000000000001.wal");
        fake.unlimitedSpace();
        assertThat(j.commit()).isEqualTo(1);
        assertThat(f).isCompletedWithValue(4L);
        j.close();
        assertThat(fake.list()).containsExactlyInAnyOrder("journal-00000000000000000001.wal", "journal-00000000000000000004.wal");
        assertThat(seqs(replay(fake.crash()))).containsExactlyElementsOf(oneTo(4));
    }

    @Test
    void aSnapshotOnAFullDiskWaitsInMemoryAndCompactsWhenWritten() throws Exception {
        Journal j = open(fake, JournalOptions.DEFAULTS, new ArrayList<>());
        j.appendDurably(1, utf8("one"));
        fake.spaceLeft(0);
        assertThatThrownBy(() -> j.snapshot(utf8("state"))).isInstanceOf(JournalDegradedException.class);
        CompletableFuture<Long> after = j.append(1, utf8("after the snapshot"));
        fake.unlimitedSpace();
        assertThat(j.commit()).isEqualTo(2);
        assertThat(after).isCompletedWithValue(3L);
        assertThat(fake.list()).containsExactly("journal-00000000000000000002.wal");
        j.close();
        assertThat(replay(fake.crash())).containsExactly(new JournalRecord(2, 0, utf8("state")),
                new JournalRecord(3, 1, utf8("after the snapshot")));
    }

    @Test
    void closingWhileTheDiskIsFullFailsTheBufferedRecords() throws Exception {
        Journal j = open(fake, JournalOptions.DEFAULTS, new ArrayList<>());
        fake.spaceLeft(0);
        CompletableFuture<Long> f = j.append(1, utf8("stuck"));
        j.close();
        assertThat(f).isCompletedExceptionally();
        assertThatThrownBy(f::join).hasCauseInstanceOf(JournalClosedException.class);
        assertThat(j.stats().pendingRecords()).isZero();
    }

    @Test
    void slowFsyncsLandInTheHistogram() throws Exception {
        Journal j = open(fake, JournalOptions.DEFAULTS, new ArrayList<>());
        fake.onForce(() -> clock.advance(Duration.ofMillis(30)));
        j.appendDurably(1, utf8("x"));
        int bucket50ms = java.util.Arrays.binarySearch(JournalStats.BUCKETS, 0.05);
        assertThat(j.stats().fsyncBucket(bucket50ms)).isEqualTo(1);
        fake.onForce(() -> clock.advance(Duration.ofSeconds(7)));
        j.appendDurably(1, utf8("y")); // over the warning threshold: logged, counted in +Inf
        assertThat(j.stats().fsyncBucket(JournalStats.BUCKETS.length)).isEqualTo(1);
        assertThat(j.stats().fsyncSumSeconds()).isEqualTo(7.03, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void outOfSpaceIsRecognisedInMessagesReasonsAndCauses() {
        assertThat(OutOfSpace.is(new IOException("No space left on device"))).isTrue();
        assertThat(OutOfSpace.is(new FileSystemException("/x", null, "No space left on device"))).isTrue();
        assertThat(OutOfSpace.is(new IOException("wrapped", new IOException("Disk quota exceeded")))).isTrue();
        assertThat(OutOfSpace.is(new IOException("Input/output error"))).isFalse();
        assertThat(OutOfSpace.is(new FileSystemException("/x", null, "Read-only file system"))).isFalse();
        assertThat(OutOfSpace.is(new IOException((String) null))).isFalse();
    }
}

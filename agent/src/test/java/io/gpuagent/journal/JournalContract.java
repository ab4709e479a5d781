package io.gpuagent.journal;

import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the journal does over any {@link JournalFiles}: run on the real disk and on the fake, so the
 * fault tests that only the fake can stage stand on a fake that behaves like the disk.
 */
abstract class JournalContract {
    protected final ManualClock clock = new ManualClock();
    private final List<Journal> opened = new ArrayList<>();

    /** The directory, the same one on every call (a clean reopen). */
    protected abstract JournalFiles files() throws Exception;

    protected Journal open(JournalOptions options, List<JournalRecord> replayed) throws Exception {
        Journal j = Journal.open(files(), options, clock, replayed::add);
        opened.add(j);
        return j;
    }

    protected List<JournalRecord> reopenAndReplay(JournalOptions options) throws Exception {
        List<JournalRecord> replayed = new ArrayList<>();
        open(options, replayed).close();
        return replayed;
    }

    @AfterEach
    void closeAll() {
        opened.forEach(Journal::close);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static List<Long> seqs(List<JournalRecord> records) {
        return records.stream().map(JournalRecord::seq).toList();
    }

    @Test
    void recordsRoundTripInOrderWithTheirTypesAndPayloads() throws Exception {
        Journal j = open(JournalOptions.DEFAULTS, new ArrayList<>());
        j.append(1, utf8("launch s-1"));
        j.append(2, new byte[0]);
        j.append(255, new byte[]{0, (byte) 0xff, 7});
        assertThat(j.commit()).isEqualTo(3);
        j.close();
        assertThat(reopenAndReplay(JournalOptions.DEFAULTS)).containsExactly(
                new JournalRecord(1, 1, utf8("launch s-1")),
                new JournalRecord(2, 2, new byte[0]),
                new JournalRecord(3, 255, new byte[]{0, (byte) 0xff, 7}));
    }

    @Test
    void aFutureCompletesOnlyAfterTheCommitThatMadeItDurable() throws Exception {
        Journal j = open(JournalOptions.DEFAULTS, new ArrayList<>());
        CompletableFuture<Long> a = j.append(1, utf8("a"));
        CompletableFuture<Long> b = j.append(1, utf8("b"));
        assertThat(a).isNotDone();
        assertThat(b).isNotDone();
        assertThat(j.stats().pendingRecords()).isEqualTo(2);
        j.commit();
        assertThat(a).isCompletedWithValue(1L);
        assertThat(b).isCompletedWithValue(2L);
        assertThat(j.stats().pendingRecords()).isZero();
        assertThat(j.commit()).isZero();
    }

    @Test
    void appendDurablyReturnsTheSequenceOnceDurable() throws Exception {
        Journal j = open(JournalOptions.DEFAULTS, new ArrayList<>());
        CompletableFuture<Long> tick = j.append(1, utf8("tick"));
        assertThat(j.appendDurably(7, utf8("launch intent"))).isEqualTo(2);
        assertThat(tick).isCompletedWithValue(1L); // one commit took both
        assertThat(j.stats().commits()).isEqualTo(1);
    }

    @Test
    void sequenceNumbersContinueAfterAReopen() throws Exception {
        Journal j = open(JournalOptions.DEFAULTS, new ArrayList<>());
        j.appendDurably(1, utf8("one"));
        j.close();
        List<JournalRecord> replayed = new ArrayList<>();
        Journal again = open(JournalOptions.DEFAULTS, replayed);
        assertThat(seqs(replayed)).containsExactly(1L);
        assertThat(again.appendDurably(1, utf8("two"))).isEqualTo(2);
        again.close();
        assertThat(seqs(reopenAndReplay(JournalOptions.DEFAULTS))).containsExactly(1L, 2L);
    }

    @Test
    void aFullSegmentIsFollowedByANewOneAndReplaySpansThemAll() throws Exception {
        JournalOptions small = JournalOptions.DEFAULTS.withSegmentBytes(200);
        Journal j = open(small, new ArrayList<>());
        for (int tick = 0; tick < 10; tick++) {
            j.append(1, utf8("tick " + tick + " a"));
            j.append(1, utf8("tick " + tick + " b"));
            j.commit();
        }
        j.close();
        List<String> segments = files().list().stream().sorted().toList();
        // 32-byte header + 4 commits of 2 x 27-28 bytes passes 200: the 5th commit starts a segment
        assertThat(segments).containsExactly("journal-00000000000000000001.wal", "journal-00000000000000000009.wal",
                "journal-00000000000000000017.wal");
        List<JournalRecord> replayed = reopenAndReplay(small);
        assertThat(seqs(replayed)).containsExactlyElementsOf(LongStream.rangeClosed(1, 20).boxed().toList());
        assertThat(new String(replayed.get(19).payload(), StandardCharsets.UTF_8)).isEqualTo("tick 9 b");
    }

    @Test
    void aSnapshotStartsASegmentDeletesTheOlderOnesAndRecoveryStartsThere() throws Exception {
        JournalOptions small = JournalOptions.DEFAULTS.withSegmentBytes(200);
        Journal j = open(small, new ArrayList<>());
        for (int i = 0; i < 12; i++) {
            j.appendDurably(1, utf8("before " + i));
        }
        assertThat(files().list()).hasSizeGreaterThan(1);
        long snap = j.snapshot(utf8("state after 12"));
        assertThat(snap).isEqualTo(13);
        assertThat(files().list()).containsExactly("journal-00000000000000000013.wal");
        assertThat(j.stats().segments()).isEqualTo(1);
        j.appendDurably(1, utf8("after"));
        j.close();
        List<JournalRecord> replayed = new ArrayList<>();
        Journal again = open(small, replayed);
        assertThat(replayed).containsExactly(new JournalRecord(13, Journal.SNAPSHOT, utf8("state after 12")),
                new JournalRecord(14, 1, utf8("after")));
        assertThat(replayed.get(0).isSnapshot()).isTrue();
        assertThat(again.recovery().snapshotSeq()).hasValue(13);
    }

    @Test
    void snapshotsInARowEachKeepOnlyTheirOwnSegment() throws Exception {
        Journal j = open(JournalOptions.DEFAULTS, new ArrayList<>());
        j.snapshot(utf8("s1"));
        j.snapshot(utf8("s2"));
        j.close();
        assertThat(files().list()).containsExactly("journal-00000000000000000002.wal");
        assertThat(reopenAndReplay(JournalOptions.DEFAULTS)).containsExactly(new JournalRecord(2, 0, utf8("s2")));
    }

    @Test
    void appendsFromManyThreadsAreAllDurableInOneGaplessSequence() throws Exception {
        Journal j = open(JournalOptions.DEFAULTS, new ArrayList<>());
        int threads = 8;
        int each = 200;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> appenders = new ArrayList<>();
        List<CompletableFuture<Long>> futures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < each; i++) {
                        futures.add(j.append(1 + id, utf8(id + ":" + i)));
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "journal-test-appender-" + t);
            appenders.add(th);
            th.start();
        }
        AtomicBoolean stop = new AtomicBoolean();
        Thread committer = new Thread(() -> {
            try {
                while (!stop.get()) {
                    j.commit();
                }
            } catch (JournalException e) {
                throw new AssertionError(e);
            }
        }, "journal-test-committer");
        committer.start();
        start.countDown();
        for (Thread th : appenders) {
            th.join();
        }
        stop.set(true);
        committer.join();
        j.commit();
        assertThat(futures).hasSize(threads * each).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
        j.close();
        List<JournalRecord> replayed = reopenAndReplay(JournalOptions.DEFAULTS);
        assertThat(seqs(replayed)).containsExactlyElementsOf(LongStream.rangeClosed(1, threads * each).boxed().toList());
        for (int t = 0; t < threads; t++) {
            int type = 1 + t;
            List<String> mine = replayed.stream().filter(r -> r.type() == type)
                    .map(r -> new String(r.payload(), StandardCharsets.UTF_8)).toList();
            assertThat(mine).as("thread %d's records in its order", t)
                    .containsExactlyElementsOf(java.util.stream.IntStream.range(0, each).mapToObj(i -> type - 1 + ":" + i).toList());
        }
    }

    @Test
    void typesOutsideTheCallersRangeAndOversizedPayloadsAreRefused() throws Exception {
        Journal j = open(JournalOptions.DEFAULTS, new ArrayList<>());
        assertThatThrownBy(() -> j.append(0, new byte[1])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1..255");
        assertThatThrownBy(() -> j.append(256, new byte[1])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> j.appendDurably(-1, new byte[1])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> j.append(1, new byte[JournalFormat.MAX_PAYLOAD + 1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limit");
    }

    @Test
    void closeCommitsWhatIsBufferedAndThenRefuses() throws Exception {
        Journal j = open(JournalOptions.DEFAULTS, new ArrayList<>());
        CompletableFuture<Long> f = j.append(1, utf8("last words"));
        j.close();
        assertThat(f).isCompletedWithValue(1L);
        assertThatThrownBy(() -> j.append(1, utf8("late"))).isInstanceOf(JournalClosedException.class);
        assertThatThrownBy(j::commit).isInstanceOf(JournalClosedException.class);
        j.close(); // twice is harmless
        assertThat(seqs(reopenAndReplay(JournalOptions.DEFAULTS))).containsExactly(1L);
    }

    @Test
    void statsCountCommitsRecordsBytesAndFsyncs() throws Exception {
        Journal j = open(JournalOptions.DEFAULTS, new ArrayList<>());
        long fsyncsAtOpen = j.stats().fsyncCount(); // the new segment's header
        for (int i = 0; i < 64; i++) {
            j.append(1, new byte[100]);
        }
        j.commit();
        JournalStats s = j.stats();
        assertThat(s.commits()).isEqualTo(1);
        assertThat(s.records()).isEqualTo(64);
        assertThat(s.bytes()).isEqualTo(64 * (8 + 9 + 100));
        assertThat(s.fsyncCount()).isEqualTo(fsyncsAtOpen + 1);
        long inBuckets = 0;
        for (int i = 0; i <= JournalStats.BUCKETS.length; i++) {
            inBuckets += s.fsyncBucket(i);
        }
        assertThat(inBuckets).isEqualTo(s.fsyncCount());
        assertThat(s.degraded()).isFalse();
    }
}

package io.gpuagent.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static io.gpuagent.journal.JournalFormat.MAX_LENGTH;
import static io.gpuagent.journal.JournalFormat.MIN_LENGTH;
import static io.gpuagent.journal.JournalFormat.RECORD_PREFIX;

/**
 * Reads a journal directory without changing it and applies the recovery rules of
 * {@link Journal}: every header, CRC and sequence number is checked; bad bytes at the very end
 * of the last segment are a torn tail (reported, not fixed: {@link Journal#open} cuts them);
 * anything else is a {@link JournalCorruptException}. Used by recovery and by
 * {@code gpu-agent journal dump}.
 */
public final class JournalScanner {
    /** Which segments to read. */
    public enum Mode {
        /** From the newest segment that starts with a snapshot (or the first one): what recovery replays. */
        RECOVER,
        /** Every segment, including ones a snapshot has superseded but compaction has not deleted yet. */
        ALL
    }

    /** Receives segments and records in journal order. */
    public interface Visitor {
        /** A segment whose header checked out is about to be read. */
        default void segment(String name, SegmentHeader header, long size) {
        }

        /** A record whose CRC and sequence number checked out. */
        void record(JournalEntry entry);
    }

    /**
     * Bad bytes at the end of the last segment: a write the crash interrupted, never acknowledged.
     *
     * @param segment file name
     * @param offset  where the first bad record starts (the good data ends here)
     * @param bytes   how many bytes follow from there to the end of the file
     * @param problem what was wrong with the first bad record
     */
    public record TornTail(String segment, long offset, long bytes, String problem) {
    }

    /**
     * One segment that was read.
     *
     * @param validEnd offset just after its last good record
     * @param records  good records in it
     */
    public record SegmentState(String name, SegmentHeader header, long size, long validEnd, long records) {
    }

    /**
     * What a scan found.
     *
     * @param segments      the segments read, in order
     * @param superseded    older segments before the newest snapshot ({@link Mode#RECOVER} only): deletable
     * @param tornCreation  a last segment file shorter than a header (a crash while creating it): deletable
     * @param tornTail      bad bytes at the end of the last segment, if any
     * @param records       good records read
     * @param nextSeq       the sequence number the next record gets
     * @param snapshotSeq   sequence of the snapshot the replay started from, if any
     */
    public record Result(List<SegmentState> segments, List<String> superseded, Optional<String> tornCreation,
                         Optional<TornTail> tornTail, long records, long nextSeq, OptionalLong snapshotSeq) {
    }

    private record Attempt(JournalEntry entry, String problem) {
    }

    private JournalScanner() {
    }

    /**
     * Reads the journal in {@code files}, handing every good record to {@code visitor} in order.
     *
     * @throws JournalCorruptException at the first damage that is not a torn tail, after the records
     *                                 before it were visited
     */
    public static Result scan(JournalFiles files, Mode mode, Visitor visitor) throws IOException {
        List<String> names = new ArrayList<>();
        for (String n : files.list()) {
            if (JournalFormat.parseSegmentName(n) > 0) {
                names.add(n);
            }
        }
        names.sort(Comparator.comparingLong(JournalFormat::parseSegmentName));
        Optional<String> tornCreation = Optional.empty();
        if (!names.isEmpty()) {
            String last = names.get(names.size() - 1);
            try (JournalFiles.SegmentFile f = files.open(last, false)) {
                if (f.size() < SegmentHeader.SIZE) {
                    tornCreation = Optional.of(last);
                    names.remove(names.size() - 1);
                }
            }
        }
        int start = 0;
        if (mode == Mode.RECOVER) {
            for (int i = names.size() - 1; i > 0; i--) {
                if (startsWithSnapshot(files, names.get(i))) {
                    start = i;
                    break;
                }
            }
        }
        List<SegmentState> segments = new ArrayList<>();
        Optional<TornTail> torn = Optional.empty();
        long expected = tornCreation.map(JournalFormat::parseSegmentName).orElse(1L);
        long records = 0;
        OptionalLong snapshot = OptionalLong.empty();
        for (int i = start; i < names.size(); i++) {
            String name = names.get(i);
            boolean last = i == names.size() - 1;
            try (JournalFiles.SegmentFile f = files.open(name, false)) {
                SegmentInput in = new SegmentInput(f, f.size());
                String path = files.describe(name);
                SegmentHeader h = readHeader(in, path, name);
                if (i > start && h.firstSeq() != expected) {
                    throw new JournalCorruptException(path, 12, "sequence gap: the previous segment ends at "
                            + (expected - 1) + " but this one starts at " + h.firstSeq());
                }
                visitor.segment(name, h, in.size());
                expected = h.firstSeq();
                long pos = SegmentHeader.SIZE;
                long count = 0;
                while (pos < in.size()) {
                    Attempt a = readAt(in, name, pos);
                    if (a.entry() == null) {
                        if (!last) {
                            throw new JournalCorruptException(path, pos, a.problem() + " (in a segment that is not the last)");
                        }
                        JournalEntry after = findIntactRecordAfter(in, name, pos, expected);
                        if (after != null) {
                            throw new JournalCorruptException(path, pos, a.problem() + "; an intact record (seq "
                                    + after.record().seq() + ") follows at offset " + after.offset() + ", so this is not a torn tail");
                        }
                        torn = Optional.of(new TornTail(name, pos, in.size() - pos, a.problem()));
                        break;
                    }
                    JournalRecord r = a.entry().record();
                    if (r.seq() != expected) {
                        throw new JournalCorruptException(path, pos, "sequence gap: expected record " + expected + ", found " + r.seq());
                    }
                    if (r.isSnapshot()) {
                        if (pos != SegmentHeader.SIZE) {
                            throw new JournalCorruptException(path, pos, "snapshot record " + r.seq() + " is not the first record of its segment");
                        }
                        snapshot = OptionalLong.of(r.seq());
                    }
                    visitor.record(a.entry());
                    expected++;
                    count++;
                    pos += RECORD_PREFIX + a.entry().length();
                }
                records += count;
                segments.add(new SegmentState(name, h, in.size(), pos, count));
            }
        }
        return new Result(List.copyOf(segments), List.copyOf(names.subList(0, start)), tornCreation, torn, records,
                expected, snapshot);
    }

    private static SegmentHeader readHeader(SegmentInput in, String path, String name) throws IOException {
        if (in.size() < SegmentHeader.SIZE) {
            throw new JournalCorruptException(path, 0, "the file is " + in.size() + " bytes, shorter than the "
                    + SegmentHeader.SIZE + "-byte segment header");
        }
        return SegmentHeader.decode(in.bytes(0, SegmentHeader.SIZE), path, JournalFormat.parseSegmentName(name));
    }

    private static boolean startsWithSnapshot(JournalFiles files, String name) throws IOException {
        try (JournalFiles.SegmentFile f = files.open(name, false)) {
            SegmentInput in = new SegmentInput(f, f.size());
            SegmentHeader h = readHeader(in, files.describe(name), name);
            if (in.size() == SegmentHeader.SIZE) {
                return false;
            }
            Attempt a = readAt(in, name, SegmentHeader.SIZE);
            return a.entry() != null && a.entry().record().isSnapshot() && a.entry().record().seq() == h.firstSeq();
        } catch (JournalCorruptException e) {
            return false; // not usable as a starting point; if it must be read, the scan reports it
        }
    }

    /** Reads the record at {@code pos}: a good entry, or what is wrong with it. */
    private static Attempt readAt(SegmentInput in, String name, long pos) throws IOException {
        long remaining = in.size() - pos;
        if (remaining < RECORD_PREFIX) {
            return new Attempt(null, "incomplete record: only " + remaining + " of the 8 length and CRC bytes");
        }
        int length = in.intAt(pos);
        if (length < MIN_LENGTH || length > MAX_LENGTH) {
            return new Attempt(null, "record length " + Integer.toUnsignedString(length) + " is outside "
                    + MIN_LENGTH + ".." + MAX_LENGTH);
        }
        if (remaining - RECORD_PREFIX < length) {
            return new Attempt(null, "incomplete record: its length says " + length + " bytes follow the CRC but only "
                    + (remaining - RECORD_PREFIX) + " do");
        }
        int stored = in.intAt(pos + 4);
        byte[] body = in.bytes(pos + RECORD_PREFIX, length);
        int computed = JournalFormat.crc(body, 0, length);
        if (stored != computed) {
            return new Attempt(null, String.format("record CRC32C mismatch (stored %08x, computed %08x)", stored, computed));
        }
        int type = body[0] & 0xff;
        long seq = ByteBuffer.wrap(body, 1, 8).getLong();
        JournalRecord r = new JournalRecord(seq, type, Arrays.copyOfRange(body, MIN_LENGTH, length));
        return new Attempt(new JournalEntry(name, pos, length, r), null);
    }

    /**
     * Looks for an intact record after a bad one at {@code badPos}. A torn tail has none (the crash
     * cut the last write short); a bit flip in the middle of the segment has one, and then dropping
     * the rest would lose acknowledged records. Candidates are filtered by a plausible sequence
     * number first, so this stays linear.
     */
    private static JournalEntry findIntactRecordAfter(SegmentInput in, String name, long badPos, long expected) throws IOException {
        long size = in.size();
        long maxSeq = expected + (size - badPos) / (RECORD_PREFIX + MIN_LENGTH);
        for (long q = badPos + 1; q + RECORD_PREFIX + MIN_LENGTH <= size; q++) {
            long seq = in.longAt(q + RECORD_PREFIX + 1);
            if (seq < expected || seq > maxSeq) {
                continue;
            }
            int length = in.intAt(q);
            if (length < MIN_LENGTH || length > MAX_LENGTH || q + RECORD_PREFIX + length > size) {
                continue;
            }
            Attempt a = readAt(in, name, q);
            if (a.entry() != null) {
                return a.entry();
            }
        }
        return null;
    }
}

package io.gpuagent.journal;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.zip.CRC32C;

/**
 * The 32-byte header at offset 0 of every segment file, big-endian (see {@link Journal} for
 * the whole format):
 * <pre>
 * offset size field
 *  0      8   magic "GPUAJRNL" (ASCII 47 50 55 41 4A 52 4E 4C)
 *  8      2   format version, u16 = 1
 * 10      2   flags, u16 = 0 (a reader rejects flags it does not know)
 * 12      8   first sequence number, u64 >= 1 (also in the file name)
 * 20      8   creation wall time, u64 epoch milliseconds (informational)
 * 28      4   CRC32C of bytes 0..27, u32
 * </pre>
 *
 * @param version       format version, {@value #VERSION} for everything this agent writes
 * @param flags         reserved, 0
 * @param firstSeq      sequence number of the segment's first record (the next one, while it is empty)
 * @param createdMillis wall-clock creation time, epoch milliseconds
 */
public record SegmentHeader(int version, int flags, long firstSeq, long createdMillis) {
    /** Size of the header in bytes; the first record starts here. */
    public static final int SIZE = 32;
    /** The format version this agent reads and writes. */
    public static final int VERSION = 1;
    static final byte[] MAGIC = {'G', 'P', 'U', 'A', 'J', 'R', 'N', 'L'};

    /** A version-1 header for a new segment. */
    static SegmentHeader forNewSegment(long firstSeq, Instant created) {
        return new SegmentHeader(VERSION, 0, firstSeq, created.toEpochMilli());
    }

    /** Creation time as an instant. */
    public Instant created() {
        return Instant.ofEpochMilli(createdMillis);
    }

    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        b.put(MAGIC).putShort((short) version).putShort((short) flags).putLong(firstSeq).putLong(createdMillis);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, SIZE - 4);
        b.putInt((int) crc.getValue());
        return b.flip();
    }

    /**
     * Decodes and checks a header read from {@code file}, whose name says {@code nameSeq}.
     *
     * @throws JournalCorruptException naming the file, offset 0 and the check that failed
     */
    static SegmentHeader decode(byte[] bytes, String file, long nameSeq) throws JournalCorruptException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                throw new JournalCorruptException(file, 0, "bad magic (not a gpu-agent journal segment, or its header is damaged)");
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, SIZE - 4);
        int stored = b.getInt(SIZE - 4);
        if (stored != (int) crc.getValue()) {
            throw new JournalCorruptException(file, 0, String.format("header CRC32C mismatch (stored %08x, computed %08x)",
                    stored, (int) crc.getValue()));
        }
        int version = Short.toUnsignedInt(b.getShort(8));
        int flags = Short.toUnsignedInt(b.getShort(10));
        long firstSeq = b.getLong(12);
        long created = b.getLong(20);
        if (version != VERSION) {
            throw new JournalCorruptException(file, 8, "format version " + version + " is not supported (this agent reads "
                    + VERSION + "); a newer agent wrote it, so upgrade the agent");
        }
        if (flags != 0) {
            throw new JournalCorruptException(file, 10, String.format("unknown header flags %04x", flags));
        }
        if (firstSeq < 1 || firstSeq != nameSeq) {
            throw new JournalCorruptException(file, 12, "header says first sequence " + Long.toUnsignedString(firstSeq)
                    + " but the file name says " + nameSeq);
        }
        return new SegmentHeader(version, flags, firstSeq, created);
    }
}

package io.gpuagent.journal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Encoding of records and segment names; the format itself is documented on {@link Journal}.
 * A record is {@code length u32 | crc32c u32 | type u8 | seq u64 | payload}, big-endian, where
 * {@code length = 9 + payload bytes} and the CRC covers type, seq and payload.
 */
final class JournalFormat {
    /** Bytes before the part counted by the length field: length and CRC. */
    static final int RECORD_PREFIX = 8;
    /** Smallest valid length field: type (1) + seq (8) with an empty payload. */
    static final int MIN_LENGTH = 9;
    /** Largest payload accepted; bounds what a damaged length field can make a reader allocate. */
    static final int MAX_PAYLOAD = 16 << 20;
    static final int MAX_LENGTH = MIN_LENGTH + MAX_PAYLOAD;

    private static final String PREFIX = "journal-";
    private static final String SUFFIX = ".wal";
    private static final int DIGITS = 20;

    private JournalFormat() {
    }

    /** {@code journal-<first seq, 20 digits zero-padded>.wal}, so that names sort like sequences. */
    static String segmentName(long firstSeq) {
        return PREFIX + String.format("%0" + DIGITS + "d", firstSeq) + SUFFIX;
    }

    /** The first sequence a segment file name states, or -1 when the name is not a segment's. */
    static long parseSegmentName(String name) {
        if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX) || name.length() != PREFIX.length() + DIGITS + SUFFIX.length()) {
            return -1;
        }
        String digits = name.substring(PREFIX.length(), PREFIX.length() + DIGITS);
        for (int i = 0; i < digits.length(); i++) {
            if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
                return -1;
            }
        }
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            return -1; // beyond a signed u64: never written by this agent
        }
    }

    /** The complete bytes of one record, CRC included. */
    static byte[] encodeRecord(int type, long seq, byte[] payload) {
        byte[] out = new byte[RECORD_PREFIX + MIN_LENGTH + payload.length];
        ByteBuffer b = ByteBuffer.wrap(out);
        b.putInt(MIN_LENGTH + payload.length).putInt(0).put((byte) type).putLong(seq).put(payload);
        b.putInt(4, crc(out, RECORD_PREFIX, out.length - RECORD_PREFIX));
        return out;
    }

    static int crc(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }
}

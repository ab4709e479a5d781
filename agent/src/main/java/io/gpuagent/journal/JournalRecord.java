package io.gpuagent.journal;

import java.util.Arrays;

/**
 * One record of the journal as the caller wrote it: its sequence number, its type and its opaque
 * payload. Type {@value Journal#SNAPSHOT} is the journal's own snapshot record; callers use
 * 1..255.
 *
 * @param seq     sequence number, strictly increasing by one across the whole journal, from 1
 * @param type    0 (snapshot) or the caller's type, 1..255
 * @param payload the bytes given to append; never modified by the journal
 */
public record JournalRecord(long seq, int type, byte[] payload) {

    /** Whether this is a snapshot written by {@link Journal#snapshot(byte[])}. */
    public boolean isSnapshot() {
        return type == Journal.SNAPSHOT;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JournalRecord r && r.seq == seq && r.type == type && Arrays.equals(r.payload, payload);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(seq) * 31 + type * 17 + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return "JournalRecord[seq=" + seq + ", type=" + type + ", " + payload.length + " bytes]";
    }
}

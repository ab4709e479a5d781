package io.gpuagent.journal;

/**
 * A record together with where it was found, for recovery logs and {@code gpu-agent journal dump}.
 *
 * @param segment file name of the segment ({@code journal-<20 digits>.wal})
 * @param offset  byte offset of the record's length field in that file
 * @param length  the record's length field: bytes after the CRC (type + seq + payload = 9 + payload)
 * @param record  the decoded record; its CRC32C was verified
 */
public record JournalEntry(String segment, long offset, int length, JournalRecord record) {
}

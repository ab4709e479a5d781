package io.gpuagent.market.streams;

import io.gpuagent.protocol.ErrorCode;
import io.gpuagent.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCounted;

/**
 * A binary frame of a stream (docs/protocol.md, "Streams"). It travels in the same length-prefixed
 * frames as the JSON envelopes; its payload's first byte is {@code 0x00}, which no JSON text can
 * start with, so one length prefix carries either:
 * <pre>
 *   frame    = length payload
 *   length   : 4 bytes, unsigned big-endian, = 6 + number of data bytes
 *   payload  = 0x00 kind stream data
 *   kind     : 1 byte  1 DATA   bytes of the stream (stdin, stdout, a tunnel's bytes, log output)
 *                      2 STDERR bytes the container wrote to stderr (agent to scheduler only)
 *                      3 WINDOW data = 4 bytes, unsigned big-endian: more bytes the sender may send
 *                      4 EOF    no data: the sender sends no more DATA on this stream
 *   stream   : 4 bytes, unsigned big-endian, 1..2^31-1: the number chosen in stream.open
 *   data     : the rest of the payload (DATA, STDERR at most max_frame_bytes - 6; WINDOW exactly 4)
 * </pre>
 * The data is a slice of the frame buffer, not a copy: whoever holds the frame releases it.
 */
public record StreamFrame(int kind, long stream, ByteBuf data) implements ReferenceCounted {
    public static final byte MARKER = 0x00;
    public static final int DATA = 1;
    public static final int STDERR = 2;
    public static final int WINDOW = 3;
    public static final int EOF = 4;
    /** Marker, kind and stream number. */
    public static final int HEADER = 6;

    /** Whether a frame payload is a stream frame (its first byte is the marker). */
    public static boolean isStreamFrame(ByteBuf payload) {
        return payload.isReadable() && payload.getByte(payload.readerIndex()) == MARKER;
    }

    /**
     * Reads a stream frame from a whole payload; the data is a retained slice of it.
     *
     * @throws ProtocolException {@code malformed_frame}: too short, an unknown kind, stream 0 or over 2^31-1,
     *                           a WINDOW without exactly 4 bytes, an EOF with data
     */
    public static StreamFrame decode(ByteBuf payload) throws ProtocolException {
        int n = payload.readableBytes();
        if (n < HEADER) {
            throw malformed("a stream frame has at least 6 bytes (marker, kind, stream); this one has " + n);
        }
        int at = payload.readerIndex();
        int kind = payload.getUnsignedByte(at + 1);
        long stream = payload.getUnsignedInt(at + 2);
        if (kind < DATA || kind > EOF) {
            throw malformed("stream frame kind " + kind + " is unknown (1 DATA, 2 STDERR, 3 WINDOW, 4 EOF)");
        }
        if (stream < 1 || stream > 0x7FFF_FFFFL) {
            throw malformed("stream number " + stream + " is outside 1..2147483647");
        }
        int len = n - HEADER;
        if (kind == WINDOW && len != 4) {
            throw malformed("a WINDOW frame carries exactly 4 bytes; stream " + stream + "'s has " + len);
        }
        if (kind == WINDOW && payload.getUnsignedInt(at + HEADER) == 0) {
            throw malformed("a WINDOW frame grants at least one byte; stream " + stream + "'s grants 0");
        }
        if (kind == EOF && len != 0) {
            throw malformed("an EOF frame carries no data; stream " + stream + "'s has " + len + " bytes");
        }
        return new StreamFrame(kind, stream, payload.retainedSlice(at + HEADER, len));
    }

    private static ProtocolException malformed(String why) {
        return new ProtocolException(ErrorCode.MALFORMED_FRAME, why, null);
    }

    /** The 10 bytes before a frame's data: length prefix, marker, kind, stream. */
    public static ByteBuf header(ByteBufAllocator alloc, int kind, long stream, int dataBytes) {
        ByteBuf h = alloc.buffer(4 + HEADER);
        h.writeInt(HEADER + dataBytes);
        h.writeByte(MARKER);
        h.writeByte(kind);
        h.writeInt((int) stream);
        return h;
    }

    /** A whole WINDOW frame (length prefix included) granting {@code bytes}. */
    public static ByteBuf window(ByteBufAllocator alloc, long stream, long bytes) {
        ByteBuf h = header(alloc, WINDOW, stream, 4);
        h.writeInt((int) bytes);
        return h;
    }

    /** A whole EOF frame (length prefix included). */
    public static ByteBuf eof(ByteBufAllocator alloc, long stream) {
        return header(alloc, EOF, stream, 0);
    }

    /** The increment a WINDOW frame grants. */
    public long increment() {
        return data.getUnsignedInt(data.readerIndex());
    }

    @Override
    public int refCnt() {
        return data.refCnt();
    }

    @Override
    public StreamFrame retain() {
        data.retain();
        return this;
    }

    @Override
    public StreamFrame retain(int increment) {
        data.retain(increment);
        return this;
    }

    @Override
    public StreamFrame touch() {
        data.touch();
        return this;
    }

    @Override
    public StreamFrame touch(Object hint) {
        data.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return data.release();
    }

    @Override
    public boolean release(int decrement) {
        return data.release(decrement);
    }
}

package io.gpuagent.market;

import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

/**
 * Splits the byte stream into frames: a 4-byte big-endian length, then that many bytes of
 * payload. The limit is checked on the length prefix alone, before any payload is buffered
 * ({@code failFast}): a peer claiming a gigabyte costs four bytes. Over the limit:
 * {@link io.netty.handler.codec.TooLongFrameException}, which ends the connection. The prefix is
 * unsigned: a "negative" one reads as nearly 4 GiB and is refused the same way.
 */
public final class FrameDecoder extends LengthFieldBasedFrameDecoder {
    /** Default largest payload: 1 MiB (a launch with a long environment fits many times over). */
    public static final int DEFAULT_MAX_PAYLOAD = 1 << 20;

    public FrameDecoder(int maxPayload) {
        super(maxPayload + 4, 0, 4, 0, 4, true);
    }
}

package io.gpuagent.market.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;

/**
 * Splits the byte stream into frames: a 4-byte big-endian length, then that many bytes of
 * payload. The limit is checked on the length prefix alone, before any payload is buffered
 * ({@code failFast}): a peer claiming a gigabyte costs four bytes. Over the limit:
 * {@link io.netty.handler.codec.TooLongFrameException}, which ends the connection. The prefix is
 * unsigned: a "negative" one reads as nearly 4 GiB and is refused the same way.
 *
 * <p>Nothing after an oversized prefix is decoded, not even whole frames already received behind
 * it: the connection is ending, and a request served then would never be answered (fuzzing found
 * a launch run that way, docs/fuzzing.md).
 */
public final class FrameDecoder extends LengthFieldBasedFrameDecoder {
    /** Default largest payload: 1 MiB (a launch with a long environment fits many times over). */
    public static final int DEFAULT_MAX_PAYLOAD = 1 << 20;

    private boolean refused;

    public FrameDecoder(int maxPayload) {
        super(maxPayload + 4, 0, 4, 0, 4, true);
    }

    @Override
    protected Object decode(ChannelHandlerContext ctx, ByteBuf in) throws Exception {
        if (refused) {
            in.skipBytes(in.readableBytes());
            return null;
        }
        try {
            return super.decode(ctx, in);
        } catch (TooLongFrameException e) {
            // Netty skips only the oversized frame when it is whole; the rest would be decoded on close
            refused = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }
}

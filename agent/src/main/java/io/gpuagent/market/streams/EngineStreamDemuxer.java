package io.gpuagent.market.streams;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;

import java.util.List;

/**
 * The Docker engine's multiplexed stream (an exec or a container without a TTY, and their logs)
 * to {@link StreamChunk}s. Each piece the engine writes has an 8-byte header:
 * <pre>
 *   byte 0     stream: 0 stdin, 1 stdout, 2 stderr
 *   bytes 1-3  zero
 *   bytes 4-7  payload size, unsigned big-endian
 * </pre>
 * then the payload. Payloads are passed on as they arrive (a large one in several chunks), so
 * nothing here buffers more than one read.
 */
final class EngineStreamDemuxer extends ByteToMessageDecoder {
    private int kind;
    private long remaining;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            if (remaining == 0) {
                if (in.readableBytes() < 8) {
                    return;
                }
                int stream = in.readUnsignedByte();
                in.skipBytes(3);
                remaining = in.readUnsignedInt();
                if (stream > 2) {
                    throw new CorruptedFrameException("the engine's multiplexed stream names stream " + stream);
                }
                kind = stream == 2 ? StreamFrame.STDERR : StreamFrame.DATA;
                continue;
            }
            int n = (int) Math.min(remaining, in.readableBytes());
            out.add(new StreamChunk(kind, in.readRetainedSlice(n)));
            remaining -= n;
        }
    }
}

package io.gpuagent.market.netty;

import io.gpuagent.protocol.Envelope;
import io.gpuagent.protocol.EnvelopeCodec;
import io.gpuagent.protocol.MessageCodec;
import io.gpuagent.protocol.Outgoing;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

import java.io.IOException;

/**
 * {@link Outgoing} (a record, written straight into the frame) or {@link Envelope} (a tree) to a
 * frame: the 4-byte big-endian payload length, then the UTF-8 JSON. The JSON is written into the
 * frame buffer directly and the length filled in afterwards: no intermediate array, no copy.
 */
@ChannelHandler.Sharable
public final class EnvelopeEncoder extends MessageToByteEncoder<Object> {
    /** Room for the common answers (a session is ~700 bytes) without growing the buffer; larger ones grow it once. */
    private static final int INITIAL_FRAME_BYTES = 1024;

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof Outgoing || msg instanceof Envelope;
    }

    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, Object msg, boolean preferDirect) {
        return preferDirect ? ctx.alloc().ioBuffer(INITIAL_FRAME_BYTES) : ctx.alloc().heapBuffer(INITIAL_FRAME_BYTES);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, ByteBuf out) throws IOException {
        int start = out.writerIndex();
        out.writeInt(0); // the length, filled in below
        ByteBufOutputStream payload = new ByteBufOutputStream(out);
        if (msg instanceof Outgoing o) {
            MessageCodec.write(o.message(), o.id(), payload);
        } else {
            EnvelopeCodec.write((Envelope) msg, payload);
        }
        out.setInt(start, out.writerIndex() - start - 4);
    }
}

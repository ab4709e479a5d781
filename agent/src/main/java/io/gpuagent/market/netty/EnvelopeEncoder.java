package io.gpuagent.market.netty;

import io.gpuagent.protocol.Envelope;
import io.gpuagent.protocol.EnvelopeCodec;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/** {@link Envelope} to a frame: the 4-byte big-endian payload length, then the UTF-8 JSON. */
@ChannelHandler.Sharable
public final class EnvelopeEncoder extends MessageToByteEncoder<Envelope> {
    @Override
    protected void encode(ChannelHandlerContext ctx, Envelope msg, ByteBuf out) {
        byte[] payload = EnvelopeCodec.encode(msg);
        out.writeInt(payload.length);
        out.writeBytes(payload);
    }
}

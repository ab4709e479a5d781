package io.gpuagent.market.netty;

import io.gpuagent.protocol.EnvelopeCodec;
import io.gpuagent.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.MessageToMessageDecoder;

import java.util.List;

/**
 * Frame payload to {@link io.gpuagent.protocol.Envelope}. A payload that is not a valid envelope
 * raises a {@link DecoderException} whose cause is the {@link ProtocolException} (with its stable
 * code and, when it could be read, the request id), for the dispatch handler to answer.
 */
public final class EnvelopeDecoder extends MessageToMessageDecoder<ByteBuf> {
    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) throws ProtocolException {
        out.add(EnvelopeCodec.decode(ByteBufUtil.getBytes(frame)));
    }
}

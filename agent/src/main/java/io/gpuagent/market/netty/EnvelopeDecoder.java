package io.gpuagent.market.netty;

import io.gpuagent.market.streams.StreamFrame;
import io.gpuagent.protocol.EnvelopeCodec;
import io.gpuagent.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.MessageToMessageDecoder;

import java.util.List;

/**
 * Frame payload to {@link io.gpuagent.protocol.Envelope}, or to a {@link StreamFrame} when its
 * first byte is the stream marker (0x00, which starts no JSON text). A payload that is not a valid envelope
 * raises a {@link DecoderException} whose cause is the {@link ProtocolException} (with its stable
 * code and, when it could be read, the request id), for the dispatch handler to answer.
 */
public final class EnvelopeDecoder extends MessageToMessageDecoder<ByteBuf> {
    /** Set once streams are negotiated; before that a 0x00 payload is bad JSON, as in protocol v1. */
    private boolean streams;

    /** Reads stream frames from now on (the connection negotiated streams; called on its event loop). */
    public EnvelopeDecoder enableStreams() {
        streams = true;
        return this;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) throws ProtocolException {
        if (streams && StreamFrame.isStreamFrame(frame)) {
            out.add(StreamFrame.decode(frame));
            return;
        }
        out.add(EnvelopeCodec.decode(ByteBufUtil.getBytes(frame)));
    }
}

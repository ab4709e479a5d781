package io.gpuagent.market.streams;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Reads the head of the engine's answer to a hijacking request ({@code POST /exec/{id}/start}
 * with {@code Upgrade: tcp}): the status line and headers up to the blank line. Then it steps
 * out of the pipeline, and the bytes behind the head (the raw stream) go on to the handlers
 * after it. The status line completes {@link #head}; a head over 16 KiB is refused.
 */
final class HttpHeadDecoder extends ByteToMessageDecoder {
    private static final int MAX_HEAD = 16 * 1024;

    /** The status code and the head's text. */
    record Head(int status, String text) {
    }

    final CompletableFuture<Head> head = new CompletableFuture<>();

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int end = indexOfBlankLine(in);
        if (end < 0) {
            if (in.readableBytes() > MAX_HEAD) {
                throw new CorruptedFrameException("the engine's answer has no end of headers in " + MAX_HEAD + " bytes");
            }
            return;
        }
        String text = in.readCharSequence(end - in.readerIndex(), StandardCharsets.ISO_8859_1).toString();
        in.skipBytes(4);
        int status;
        try {
            status = Integer.parseInt(text.substring(9, 12));
        } catch (RuntimeException e) {
            throw new CorruptedFrameException("the engine's answer does not start with an HTTP status line: "
                    + text.lines().findFirst().orElse(""));
        }
        ctx.pipeline().remove(this);
        head.complete(new Head(status, text));
    }

    private static int indexOfBlankLine(ByteBuf in) {
        for (int i = in.readerIndex(); i + 3 < in.writerIndex(); i++) {
            if (in.getByte(i) == '\r' && in.getByte(i + 1) == '\n' && in.getByte(i + 2) == '\r' && in.getByte(i + 3) == '\n') {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!head.completeExceptionally(cause)) {
            ctx.fireExceptionCaught(cause);
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        head.completeExceptionally(new java.io.IOException("the engine closed the connection before answering"));
        super.channelInactive(ctx);
    }
}

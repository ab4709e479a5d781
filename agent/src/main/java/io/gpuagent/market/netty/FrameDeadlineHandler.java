package io.gpuagent.market.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * Cuts off slow senders: once the first byte of a frame arrives, the whole frame (4-byte length
 * plus payload) must arrive within the read timeout. Sits before the frame decoder and follows
 * the framing itself (it only counts bytes), so a peer that trickles a byte a minute into an
 * endless frame is closed however little it sends. Idle time between frames is
 * {@link io.netty.handler.timeout.IdleStateHandler}'s business, after the decoder.
 */
final class FrameDeadlineHandler extends ChannelInboundHandlerAdapter {
    private final long timeoutMillis;
    private final long timeoutNanos;
    private final MarketStats stats;
    private int headerBytes;          // bytes of the current length prefix seen (0..4)
    private int length;               // the prefix so far
    private long remaining;           // payload bytes still expected (when headerBytes == 4)
    private boolean inFrame;          // a frame has started and not yet ended
    private long frameStart;          // when it started, on the event loop's ticker
    /**
     * The timer, scheduled when a frame starts and none is pending, never cancelled when the frame
     * ends: when it fires it closes the connection if the frame in progress (if any) has run out,
     * else waits for that frame's own deadline. So back-to-back frames cost no timer each.
     */
    private ScheduledFuture<?> deadline;

    FrameDeadlineHandler(long timeoutMillis, MarketStats stats) {
        this.timeoutMillis = timeoutMillis;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        this.stats = stats;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf buf) {
            track(ctx, buf);
        }
        ctx.fireChannelRead(msg);
    }

    private void track(ChannelHandlerContext ctx, ByteBuf buf) {
        int i = buf.readerIndex();
        int end = buf.writerIndex();
        while (i < end) {
            if (headerBytes == 0 && remaining == 0) {
                frameStarted(ctx);
                if (end - i >= 4) {
                    length = buf.getInt(i); // the whole prefix at once, the common case
                    i += 4;
                    headerBytes = 4;
                    remaining = Integer.toUnsignedLong(length);
                    if (remaining == 0) {
                        frameDone();
                    }
                    continue;
                }
            }
            if (headerBytes < 4) {
                length = (length << 8) | (buf.getByte(i++) & 0xff);
                if (++headerBytes == 4) {
                    remaining = Integer.toUnsignedLong(length);
                    if (remaining == 0) {
                        frameDone();
                    }
                }
            } else {
                long take = Math.min(remaining, end - i);
                i += (int) take;
                remaining -= take;
                if (remaining == 0) {
                    frameDone();
                }
            }
        }
    }

    private void frameStarted(ChannelHandlerContext ctx) {
        inFrame = true;
        frameStart = ctx.executor().ticker().nanoTime();
        if (deadline == null) {
            deadline = ctx.executor().schedule(() -> expire(ctx), timeoutMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void frameDone() {
        headerBytes = 0;
        length = 0;
        remaining = 0;
        inFrame = false;
    }

    private void expire(ChannelHandlerContext ctx) {
        deadline = null;
        if (!inFrame || !ctx.channel().isActive()) {
            return;
        }
        long left = frameStart + timeoutNanos - ctx.executor().ticker().nanoTime();
        if (left > 0) {
            // a later frame than the one this timer was set for: wait for its own deadline
            deadline = ctx.executor().schedule(() -> expire(ctx), left, TimeUnit.NANOSECONDS);
            return;
        }
        stats.closed("read_timeout");
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
        super.channelInactive(ctx);
    }
}

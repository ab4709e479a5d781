package io.gpuagent.market.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The read deadline keeps one timer for a run of frames instead of one per frame (issue 13: the
 * timer per frame was a visible share of a status request's cost under C1). Pins that every frame
 * still gets exactly its own read timeout, counted from its first byte.
 */
class FrameDeadlineHandlerTest {
    private static final long TIMEOUT_MS = 1000;
    private final MockTicker ticker = Ticker.newMockTicker();
    private final MarketStats stats = new MarketStats();

    private EmbeddedChannel channel() {
        return EmbeddedChannel.builder().ticker(ticker).handlers(new FrameDeadlineHandler(TIMEOUT_MS, stats),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ReferenceCountUtil.release(msg);
                    }
                }).build();
    }

    private void advance(EmbeddedChannel ch, long millis) {
        ticker.advance(millis, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        ch.runPendingTasks();
    }

    private static ByteBuf frame(int payload) {
        return Unpooled.buffer().writeInt(payload).writeBytes(new byte[payload]);
    }

    @Test
    void aFrameStartedWhileAnEarlierFramesTimerIsPendingGetsItsWholeTimeout() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(frame(10)); // whole at 0: the timer it started is due at 1000
        advance(ch, TIMEOUT_MS - 10);
        ch.writeInbound(frame(10).writerIndex(6)); // a second frame starts at 990 and stops after 2 bytes
        advance(ch, 10);
        assertThat(ch.isOpen()).as("at 1000 the second frame has run 10 ms of its 1000").isTrue();
        advance(ch, TIMEOUT_MS - 11);
        assertThat(ch.isOpen()).as("at 1989").isTrue();
        advance(ch, 1);
        assertThat(ch.isOpen()).as("at 1990, the second frame's own deadline").isFalse();
        assertThat(stats.closed()).containsEntry("read_timeout", 1L);
    }

    @Test
    void framesBackToBackForLongerThanTheTimeoutAreNeverCutAndAPrefixSplitAcrossReadsStillCounts() {
        EmbeddedChannel ch = channel();
        for (int i = 0; i < 50; i++) {
            ch.writeInbound(frame(100));
            ByteBuf split = frame(3);
            ch.writeInbound(split.readRetainedSlice(2)); // half a prefix
            advance(ch, 50);
            ch.writeInbound(split); // the rest: the frame ends 50 ms after it began
        }
        assertThat(ch.isOpen()).as("2.5 s of frames, none slower than 50 ms").isTrue();
        ch.writeInbound(Unpooled.buffer().writeByte(0)); // one byte of a prefix, then nothing
        advance(ch, TIMEOUT_MS - 1);
        assertThat(ch.isOpen()).isTrue();
        advance(ch, 1);
        assertThat(ch.isOpen()).isFalse();
        assertThat(stats.closed()).containsEntry("read_timeout", 1L);
    }
}

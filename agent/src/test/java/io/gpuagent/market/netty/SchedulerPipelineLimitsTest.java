package io.gpuagent.market.netty;

import io.gpuagent.protocol.EnvelopeCodec;
import io.gpuagent.protocol.Message;
import io.gpuagent.protocol.MessageCodec;
import io.gpuagent.util.Clock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The time limits of a scheduler connection (frame deadline, idle timeout, rate limit and flood
 * cut-off) on Netty's {@link EmbeddedChannel} with a {@link MockTicker}, as Netty tests its own
 * timeout handlers: the pipeline is the link's own ({@link SchedulerChannelInitializer}), its
 * timers run on the ticker and the handler's {@link Clock} reads the same ticker, so the test moves
 * time and every bound is checked to the millisecond, on either side. The same limits on real
 * sockets and real time: {@code SchedulerLinkLimitsIT}.
 */
class SchedulerPipelineLimitsTest {
    private static final long READ_TIMEOUT_MS = 400;
    private static final long IDLE_TIMEOUT_MS = 1500;
    private static final long MESSAGES_PER_SECOND = 50;

    private final MockTicker ticker = Ticker.newMockTicker();
    private final Clock clock = new TickerClock(ticker);
    private final StubSchedulerPort port = new StubSchedulerPort();
    private final MarketStats stats = new MarketStats();
    private final SchedulerHub hub = new SchedulerHub(port, stats);
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    /** The link's clock made of the channel's ticker: one time for Netty's timers and the rate limit. */
    private static final class TickerClock implements Clock {
        private static final Instant ORIGIN = Instant.parse("2026-11-27T00:00:00Z");
        private final Ticker ticker;

        TickerClock(Ticker ticker) {
            this.ticker = ticker;
        }

        @Override
        public long monotonicNanos() {
            return ticker.nanoTime();
        }

        @Override
        public Instant wallTime() {
            return ORIGIN.plusNanos(ticker.nanoTime());
        }

        @Override
        public void sleep(Duration d) throws InterruptedException {
            ticker.sleep(d.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private EmbeddedChannel connection(long idleTimeoutMs) {
        EmbeddedChannel ch = EmbeddedChannel.builder().ticker(ticker).handlers(new SchedulerChannelInitializer(null, false,
                null, 0, null, new SchedulerChannelInitializer.Limits(4096, 2000, READ_TIMEOUT_MS, idleTimeoutMs,
                MESSAGES_PER_SECOND), port, hub, stats, clock, Runnable::run, "listen")).build();
        channels.add(ch);
        return ch;
    }

    @AfterEach
    void closeAll() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    /** Moves time on and runs every connection's timers that are due, as their event loops would. */
    private void advance(long millis) {
        ticker.advance(millis, TimeUnit.MILLISECONDS);
        for (EmbeddedChannel ch : channels) {
            ch.runScheduledPendingTasks();
            ch.runPendingTasks();
        }
    }

    private static byte[] frame(String json) {
        byte[] p = json.getBytes(StandardCharsets.UTF_8);
        return Unpooled.buffer(4 + p.length).writeInt(p.length).writeBytes(p).array();
    }

    /** One frame with {@code m}, as a scheduler sends it. */
    private static ByteBuf frameOf(Message m, String id) {
        byte[] p = EnvelopeCodec.encode(MessageCodec.encode(m, id));
        return Unpooled.buffer(4 + p.length).writeInt(p.length).writeBytes(p);
    }

    /** Every frame the agent has written so far, as JSON text. */
    private static List<String> answers(EmbeddedChannel ch) {
        List<String> out = new ArrayList<>();
        for (ByteBuf b = ch.readOutbound(); b != null; b = ch.readOutbound()) {
            try {
                while (b.readableBytes() >= 4) {
                    int n = b.readInt();
                    out.add(b.readCharSequence(n, StandardCharsets.UTF_8).toString());
                }
            } finally {
                b.release();
            }
        }
        return out;
    }

    private static long count(List<String> answers, String needle) {
        return answers.stream().filter(a -> a.contains(needle)).count();
    }

    @Test
    void aTruncatedFrameIsCutOffExactlyAtTheReadTimeout() {
        EmbeddedChannel ch = connection(30_000);
        byte[] f = frame("{\"v\":1,\"type\":\"list\",\"id\":\"slow\"}");
        ch.writeInbound(Unpooled.wrappedBuffer(f, 0, 6)); // the prefix and two bytes, then silence
        advance(READ_TIMEOUT_MS - 1);
        assertThat(ch.isOpen()).as("open until the read timeout").isTrue();
        advance(1);
        assertThat(ch.isOpen()).as("closed at the read timeout").isFalse();
        assertThat(stats.closed()).containsKey("read_timeout");
        assertThat(answers(ch)).as("the cut frame is never served").noneMatch(a -> a.contains("\"id\":\"slow\""));
    }

    @Test
    void aFrameThatArrivesWholeWithinTheReadTimeoutIsServedAndEndsItsDeadline() {
        EmbeddedChannel ch = connection(30_000);
        byte[] f = frame("{\"v\":1,\"type\":\"heartbeat\",\"id\":\"trickle\"}");
        ch.writeInbound(Unpooled.wrappedBuffer(f, 0, 2));
        advance(READ_TIMEOUT_MS - 1);
        ch.writeInbound(Unpooled.wrappedBuffer(f, 2, f.length - 2));
        assertThat(answers(ch)).anyMatch(a -> a.contains("\"id\":\"trickle\""));
        advance(10 * READ_TIMEOUT_MS);
        assertThat(ch.isOpen()).as("no deadline runs between frames").isTrue();
        assertThat(stats.closed()).doesNotContainKey("read_timeout");
    }

    @Test
    void anIdleConnectionIsClosedAtTheIdleTimeoutButHeartbeatsKeepOneOpen() {
        EmbeddedChannel idle = connection(IDLE_TIMEOUT_MS);
        EmbeddedChannel live = connection(IDLE_TIMEOUT_MS);
        live.writeInbound(frameOf(new Message.Hello(List.of(1), "live", null, List.of()), "h"));
        assertThat(answers(live)).anyMatch(a -> a.contains("\"type\":\"welcome\""));
        // the agent's own heartbeat, answered by the scheduler 3 ms later: the round trip is measured
        live.pipeline().get(SchedulerHandler.class).ping(live, "agent-hb-1");
        assertThat(answers(live)).anyMatch(a -> a.contains("\"id\":\"agent-hb-1\""));
        long elapsed = 3;
        advance(3);
        live.writeInbound(frameOf(new Message.Heartbeat(null), "agent-hb-1"));
        assertThat(stats.roundTrip().count()).as("the scheduler answered the agent's heartbeat").isEqualTo(1);

        while (elapsed + 200 < IDLE_TIMEOUT_MS) {
            advance(200);
            elapsed += 200;
            live.writeInbound(frameOf(new Message.Heartbeat(null), "hb-" + elapsed));
        }
        advance(IDLE_TIMEOUT_MS - 1 - elapsed);
        assertThat(idle.isOpen()).as("a silent connection is open until the idle timeout").isTrue();
        advance(1);
        assertThat(idle.isOpen()).as("and closed at it").isFalse();
        assertThat(stats.closed()).containsEntry("idle_timeout", 1L);

        for (int i = 0; i < 13; i++) {
            live.writeInbound(frameOf(new Message.Heartbeat(null), "hb-late-" + i));
            advance(200);
        }
        assertThat(live.isOpen()).as("a frame every 200 ms keeps a connection open past the idle timeout").isTrue();
        assertThat(count(answers(live), "\"type\":\"heartbeat\"")).isPositive();
    }

    @Test
    void aFloodIsAnsweredWithinTheBurstThenRateLimitedThenCutOff() {
        EmbeddedChannel ch = connection(30_000);
        ByteBuf burst = Unpooled.buffer();
        for (int i = 0; i < 1000; i++) {
            burst.writeBytes(frame("{\"v\":1,\"type\":\"heartbeat\",\"id\":\"x\"}"));
        }
        ch.writeInbound(burst); // all at one instant: nothing refills the bucket
        List<String> answers = answers(ch);
        assertThat(count(answers, "\"type\":\"heartbeat\"")).as("the burst: twice the rate").isEqualTo(2 * MESSAGES_PER_SECOND);
        assertThat(count(answers, "rate_limited")).as("refused until the flood limit, four times the rate")
                .isEqualTo(4 * MESSAGES_PER_SECOND);
        assertThat(ch.isOpen()).isFalse();
        assertThat(stats.errors()).containsKey("rate_limited");
        assertThat(stats.closed()).containsKey("flood");
    }

    @Test
    void theBucketRefillsAtTheConfiguredRate() {
        EmbeddedChannel ch = connection(30_000);
        for (int i = 0; i < 2 * MESSAGES_PER_SECOND; i++) {
            ch.writeInbound(frameOf(new Message.Heartbeat(null), "b" + i));
        }
        ch.writeInbound(frameOf(new Message.Heartbeat(null), "over"));
        assertThat(answers(ch)).last().asString().contains("rate_limited").contains("\"id\":\"over\"");
        // 50 a second: a token every 20 ms; 19 ms after the bucket emptied there is none yet
        advance(1000 / MESSAGES_PER_SECOND - 1);
        ch.writeInbound(frameOf(new Message.Heartbeat(null), "early"));
        assertThat(answers(ch)).singleElement().asString().contains("rate_limited");
        // 21 ms after: one token, not two
        advance(2);
        ch.writeInbound(frameOf(new Message.Heartbeat(null), "one"));
        ch.writeInbound(frameOf(new Message.Heartbeat(null), "two"));
        List<String> after = answers(ch);
        assertThat(after.get(0)).contains("\"type\":\"heartbeat\"").contains("\"id\":\"one\"");
        assertThat(after.get(1)).contains("rate_limited").contains("\"id\":\"two\"");
        assertThat(ch.isOpen()).isTrue();
    }
}

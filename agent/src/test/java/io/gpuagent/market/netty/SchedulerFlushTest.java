package io.gpuagent.market.netty;

import io.gpuagent.protocol.EnvelopeCodec;
import io.gpuagent.protocol.Message;
import io.gpuagent.protocol.MessageCodec;
import io.gpuagent.util.ManualClock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pins the flush batching found by the protocol benchmark (docs/benchmarks.md, "Scheduler
 * protocol"): each answer used to be flushed on its own, so a scheduler pipelining 16 requests got 16
 * TLS records and 16 socket writes; the answers to one read now leave in one flush.
 */
class SchedulerFlushTest {
    /** Counts the flushes that reach the socket end of the pipeline. */
    private static final class FlushCounter extends ChannelOutboundHandlerAdapter {
        int flushes;

        @Override
        public void flush(ChannelHandlerContext ctx) {
            flushes++;
            ctx.flush();
        }
    }

    @Test
    void theAnswersToRequestsReadTogetherLeaveInOneFlush() {
        StubSchedulerPort port = new StubSchedulerPort();
        MarketStats stats = new MarketStats();
        FlushCounter counter = new FlushCounter();
        EmbeddedChannel ch = new EmbeddedChannel(counter, new SchedulerChannelInitializer(null, false, null, 0, null,
                new SchedulerChannelInitializer.Limits(4096, 1000, 1000, 60_000, 1000), port,
                new SchedulerHub(port, stats), stats, new ManualClock(), Runnable::run, "listen"));
        counter.flushes = 0;
        ByteBuf read = Unpooled.buffer();
        for (int i = 0; i < 3; i++) {
            byte[] p = EnvelopeCodec.encode(MessageCodec.encode(new Message.Heartbeat(null), "hb-" + i));
            read.writeInt(p.length).writeBytes(p);
        }
        ch.writeInbound(read);

        int answers = 0;
        for (Object out = ch.readOutbound(); out != null; out = ch.readOutbound()) {
            answers++;
            ((ByteBuf) out).release();
        }
        assertThat(answers).isEqualTo(3);
        assertThat(counter.flushes).as("one flush for the three answers to one read").isEqualTo(1);
        ch.finishAndReleaseAll();
    }

    @Test
    void aTicksUsageEventsLeaveInOneFlushInOrder() throws Exception {
        StubSchedulerPort port = new StubSchedulerPort();
        MarketStats stats = new MarketStats();
        SchedulerHub hub = new SchedulerHub(port, stats);
        FlushCounter counter = new FlushCounter();
        EmbeddedChannel ch = new EmbeddedChannel(counter, new SchedulerChannelInitializer(null, false, null, 0, null,
                new SchedulerChannelInitializer.Limits(4096, 1000, 1000, 60_000, 1000), port,
                hub, stats, new ManualClock(), Runnable::run, "listen"));
        hub.add(ch);
        for (Object out = ch.readOutbound(); out != null; out = ch.readOutbound()) {
            ((ByteBuf) out).release(); // the offer a new connection gets
        }
        counter.flushes = 0;
        java.util.List<Message.SessionUsage> tick = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            tick.add(new Message.SessionUsage("s-" + i, "0x" + i, 100 + i, null));
        }
        hub.publishAll(tick, true);
        ch.runPendingTasks();

        java.util.List<String> seen = new java.util.ArrayList<>();
        for (Object out = ch.readOutbound(); out != null; out = ch.readOutbound()) {
            ByteBuf b = (ByteBuf) out;
            while (b.isReadable()) {
                byte[] payload = new byte[b.readInt()];
                b.readBytes(payload);
                Message.SessionUsage u = (Message.SessionUsage) MessageCodec.decode(EnvelopeCodec.decode(payload));
                seen.add(u.session() + "=" + u.billedSeconds());
            }
            b.release();
        }
        assertThat(seen).containsExactly("s-0=100", "s-1=101", "s-2=102", "s-3=103", "s-4=104", "s-5=105", "s-6=106",
                "s-7=107");
        assertThat(counter.flushes).as("one flush (one TLS record, one write) for the tick's eight events").isEqualTo(1);
        ch.finishAndReleaseAll();
    }
}

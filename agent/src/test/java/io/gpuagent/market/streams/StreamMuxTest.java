package io.gpuagent.market.streams;

import io.gpuagent.protocol.Message;
import io.gpuagent.protocol.Outgoing;
import io.gpuagent.util.ManualClock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The mux and its relays on embedded channels: the scheduler connection on one, each far end on
 * another. Windows in both directions, the limits, the refusals and what holds after them.
 */
class StreamMuxTest {
    private final ManualClock clock = new ManualClock();
    private final List<Message> replies = new ArrayList<>();
    private final List<EmbeddedChannel> farEnds = new ArrayList<>();
    private final Map<String, StreamService.Target> sessions = new java.util.HashMap<>();
    private StreamService service;
    private EmbeddedChannel link;
    private StreamMux mux;

    /** Far ends that are embedded channels; logs take no input. */
    private final StreamBackends backends = (open, container, loop) -> {
        EmbeddedChannel far = new EmbeddedChannel();
        far.pipeline().addLast(new ParkingHandler());
        farEnds.add(far);
        boolean input = !open.kind().equals("logs");
        return CompletableFuture.completedFuture(new Backend() {
            @Override
            public Channel channel() {
                return far;
            }

            @Override
            public boolean acceptsInput() {
                return input;
            }

            @Override
            public boolean tty() {
                return false;
            }

            @Override
            public CompletableFuture<Integer> exitCode() {
                return CompletableFuture.completedFuture(open.kind().equals("exec") ? 3 : null);
            }

            @Override
            public CompletableFuture<Void> resize(int cols, int rows) {
                return CompletableFuture.completedFuture(null);
            }
        });
    };

    @BeforeEach
    void setUp() {
        sessions.put("s-1", new StreamService.Target("s-1", true, "running", "c1"));
        sessions.put("s-old", new StreamService.Target("s-old", false, "ended", "c0"));
        service = new StreamService(backends, new StreamLimits(3, 2, 64 * 1024, Duration.ofSeconds(60), 256 * 1024),
                new StreamStats(), id -> Optional.ofNullable(sessions.get(id)), StreamService.GrantCheck.NONE);
        link = new EmbeddedChannel();
        mux = new StreamMux(service, clock, (ch, m, id) -> replies.add(m));
        link.pipeline().addLast(mux);
        mux.enable();
    }

    private static Message.StreamOpen exec(String session, long stream, Long window) {
        return new Message.StreamOpen(session, stream, "exec", List.of("cat"), false, null, null, null, null, null, null,
                window, null);
    }

    private Message last() {
        link.runPendingTasks();
        return replies.get(replies.size() - 1);
    }

    /** What the agent wrote to the scheduler: frames (as kind:stream:bytes) and messages. */
    private List<String> written() {
        List<String> out = new ArrayList<>();
        ByteBuf acc = Unpooled.buffer();
        for (Object o; (o = link.readOutbound()) != null; ) {
            if (o instanceof Outgoing g) {
                Message m = g.message();
                out.add(m instanceof Message.StreamClosed c ? "closed:" + c.stream() + ":" + c.reason() + ":" + c.exitCode()
                        : m.getClass().getSimpleName());
            } else {
                acc.writeBytes((ByteBuf) o);
                ((ByteBuf) o).release();
            }
        }
        while (acc.readableBytes() >= 4) {
            int len = acc.readInt();
            ByteBuf p = acc.readSlice(len);
            int kind = p.getUnsignedByte(1);
            long stream = p.getUnsignedInt(2);
            out.add(kind + ":" + stream + ":" + (kind == StreamFrame.WINDOW ? p.getUnsignedInt(6) : len - 6));
        }
        acc.release();
        return out;
    }

    private static long dataBytes(List<String> frames) {
        return frames.stream().filter(f -> f.startsWith("1:") || f.startsWith("2:"))
                .mapToLong(f -> Long.parseLong(f.substring(f.lastIndexOf(':') + 1))).sum();
    }

    private void fromScheduler(int kind, long stream, ByteBuf data) {
        ByteBuf payload = Unpooled.buffer();
        payload.writeByte(0).writeByte(kind).writeInt((int) stream).writeBytes(data);
        data.release();
        try {
            link.writeInbound(StreamFrame.decode(payload));
        } catch (io.gpuagent.protocol.ProtocolException e) {
            throw new AssertionError(e);
        } finally {
            payload.release();
        }
        link.runPendingTasks();
    }

    @Test
    void outputStopsAtTheSchedulersWindowAndTheFarEndIsNoLongerReadUntilItGrantsMore() {
        mux.open(exec("s-1", 1, 16 * 1024L), "r1");
        assertThat(last()).isEqualTo(new Message.StreamOpened(1, "s-1", "exec", 64 * 1024, false));
        EmbeddedChannel far = farEnds.get(0);
        assertThat(far.config().isAutoRead()).isTrue();

        far.writeInbound(Unpooled.wrappedBuffer(new byte[40 * 1024]));
        List<String> out = written();
        assertThat(dataBytes(out)).as("no more than the window").isEqualTo(16 * 1024);
        assertThat(far.config().isAutoRead()).as("the far end is not read while bytes wait").isFalse();

        fromScheduler(StreamFrame.WINDOW, 1, Unpooled.buffer().writeInt(20 * 1024));
        assertThat(dataBytes(written())).isEqualTo(20 * 1024);
        fromScheduler(StreamFrame.WINDOW, 1, Unpooled.buffer().writeInt(64 * 1024));
        assertThat(dataBytes(written())).as("the rest, and no more").isEqualTo(4 * 1024);
        assertThat(far.config().isAutoRead()).as("read again once its bytes went").isTrue();
    }

    @Test
    void inputIsGrantedBackOnceTheFarEndTookItAndDataBeyondTheWindowEndsOnlyThatStream() {
        mux.open(exec("s-1", 1, null), "r1");
        mux.open(exec("s-1", 2, null), "r2");
        link.runPendingTasks();
        written();
        fromScheduler(StreamFrame.DATA, 1, Unpooled.wrappedBuffer(new byte[20 * 1024]));
        ByteBuf got = farEnds.get(0).readOutbound();
        assertThat(got.readableBytes()).isEqualTo(20 * 1024);
        got.release();
        assertThat(written()).as("granted back: the far end took it").containsExactly("3:1:20480");

        fromScheduler(StreamFrame.DATA, 2, Unpooled.wrappedBuffer(new byte[64 * 1024 + 1]));
        assertThat(written()).containsExactly("closed:2:window_exceeded:null");
        assertThat(farEnds.get(1).isOpen()).isFalse();
        assertThat(farEnds.get(1).outboundMessages()).as("nothing of it reached the far end").isEmpty();
        assertThat(mux.size()).isEqualTo(1);
        assertThat(service.openInto("s-1")).isEqualTo(1);
        assertThat(service.stats().closedByReason()).containsEntry("window_exceeded", 1L);
    }

    @Test
    void anExecEndsWithItsExitCodeAfterItsOutputAndItsEof() {
        mux.open(exec("s-1", 5, null), "r");
        link.runPendingTasks();
        written();
        EmbeddedChannel far = farEnds.get(0);
        far.writeInbound(Unpooled.wrappedBuffer("bye\n".getBytes()));
        far.close();
        link.runPendingTasks();
        assertThat(written()).containsExactly("closed:5:exited:3", "1:5:4", "4:5:0");
        assertThat(service.stats().bytesOut()).containsEntry("exec", 4L);
        assertThat(mux.size()).isZero();
    }

    @Test
    void opensAreRefusedWithStableCodesAndLeaveNothingOpen() {
        mux.open(exec("s-nope", 1, null), "a");
        assertThat(last()).isEqualTo(new Message.Error("unknown_session", "no session s-nope"));
        mux.open(exec("s-old", 1, null), "b");
        assertThat(((Message.Error) last()).code()).isEqualTo("session_not_running");
        mux.open(exec("s-1", 1, null), "c");
        link.runPendingTasks();
        mux.open(exec("s-1", 1, null), "d");
        assertThat(((Message.Error) last()).code()).isEqualTo("stream_in_use");
        mux.open(exec("s-1", 2, null), "e");
        link.runPendingTasks();
        mux.open(exec("s-1", 3, null), "f");
        assertThat(((Message.Error) last()).code()).as("two per session").isEqualTo("stream_limit");
        sessions.put("s-2", new StreamService.Target("s-2", true, "running", "c2"));
        mux.open(exec("s-2", 3, null), "g");
        link.runPendingTasks();
        mux.open(exec("s-2", 4, null), "h");
        assertThat(((Message.Error) last()).code()).as("three per connection").isEqualTo("stream_limit");
        assertThat(mux.size()).isEqualTo(3);
        assertThat(farEnds).hasSize(3);
        assertThat(service.stats().refused()).containsEntry("stream_limit", 2L).containsEntry("unknown_session", 1L)
                .containsEntry("session_not_running", 1L).containsEntry("stream_in_use", 1L);
    }

    @Test
    void logsTakeNoInputAndFramesForStreamsNotOpenAreDropped() {
        mux.open(new Message.StreamOpen("s-1", 9L, "logs", null, null, null, null, null, null, 10, true, null, null), "l");
        link.runPendingTasks();
        written();
        fromScheduler(StreamFrame.DATA, 77, Unpooled.wrappedBuffer(new byte[10]));
        assertThat(mux.ignoredFrames()).isEqualTo(1);
        assertThat(mux.size()).isEqualTo(1);
        fromScheduler(StreamFrame.DATA, 9, Unpooled.wrappedBuffer(new byte[10]));
        assertThat(written()).containsExactly("closed:9:invalid_frame:null");
    }

    @Test
    void theIdleTimeoutAndAClosedConnectionEndStreamsAndFreeTheirSessions() {
        mux.open(exec("s-1", 1, null), "a");
        mux.open(exec("s-1", 2, null), "b");
        link.runPendingTasks();
        written();
        clock.advance(Duration.ofSeconds(30));
        fromScheduler(StreamFrame.DATA, 2, Unpooled.wrappedBuffer(new byte[1]));
        clock.advance(Duration.ofSeconds(31));
        link.advanceTimeBy(20, java.util.concurrent.TimeUnit.SECONDS);
        link.runScheduledPendingTasks();
        assertThat(written()).contains("closed:1:idle_timeout:null").doesNotContain("closed:2:idle_timeout:null");
        link.close();
        assertThat(farEnds).allMatch(f -> !f.isOpen());
        assertThat(service.openInto("s-1")).isZero();
    }
}

package io.gpuagent.market.streams;

import ch.qos.logback.classic.Level;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.gpuagent.market.netty.EnvelopeDecoder;
import io.gpuagent.market.netty.FrameDecoder;
import io.gpuagent.protocol.ErrorCode;
import io.gpuagent.protocol.Message;
import io.gpuagent.protocol.ProtocolException;
import io.gpuagent.util.ManualClock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes the streams' binary frames through the real decoders into the mux, with three streams open
 * (exec, tunnel, logs) whose far ends keep producing (docs/fuzzing.md). Whatever the bytes: only
 * {@code malformed_frame} (or a JSON error for a payload not starting with 0x00) comes out; no far
 * end is ever handed more than the agent's window plus what it granted back; no stream sends the
 * scheduler more than its window plus what the input granted; and once the connection closes every
 * far end is closed and no session keeps a stream counted.
 *
 * <p>Input: a sequence of frames, each one byte of payload length (0..255) and that many bytes;
 * after each frame the exec's far end writes 512 bytes.
 */
class StreamMuxFuzzTest {
    private static final long WINDOW = 4096;
    private static Level muxLevel;

    @BeforeAll
    static void quiet() {
        var logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(StreamMux.class);
        muxLevel = logger.getLevel();
        logger.setLevel(Level.WARN);
    }

    @AfterAll
    static void restore() {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(StreamMux.class)).setLevel(muxLevel);
    }

    @FuzzTest(maxDuration = "3m")
    void streamFrames(byte[] input) {
        Map<String, EmbeddedChannel> far = new HashMap<>();
        StreamBackends backends = (open, container, loop) -> {
            EmbeddedChannel ch = new EmbeddedChannel();
            ch.pipeline().addLast(new ParkingHandler());
            far.put(open.kind(), ch);
            boolean input2 = !open.kind().equals("logs");
            return CompletableFuture.completedFuture(new Backend() {
                public Channel channel() {
                    return ch;
                }

                public boolean acceptsInput() {
                    return input2;
                }

                public boolean tty() {
                    return false;
                }

                public CompletableFuture<Integer> exitCode() {
                    return CompletableFuture.completedFuture(0);
                }

                public CompletableFuture<Void> resize(int cols, int rows) {
                    return CompletableFuture.completedFuture(null);
                }
            });
        };
        StreamService service = new StreamService(backends, new StreamLimits(8, 8, WINDOW, Duration.ofHours(1), 8192),
                new StreamStats(), id -> Optional.of(new StreamService.Target(id, true, "running", "c")),
                StreamService.GrantCheck.NONE);
        List<Throwable> errors = new ArrayList<>();
        EmbeddedChannel link = new EmbeddedChannel();
        StreamMux mux = new StreamMux(service, new ManualClock(), (ch, m, id) -> { });
        link.pipeline().addLast(new FrameDecoder(1 << 16), new EnvelopeDecoder().enableStreams(), mux,
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        io.netty.util.ReferenceCountUtil.release(msg);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        errors.add(cause);
                    }
                });
        mux.enable();
        String[] kinds = {"exec", "tunnel", "logs"};
        for (int i = 0; i < kinds.length; i++) {
            mux.open(new Message.StreamOpen("s-1", (long) i + 1, kinds[i], null, null, null, null, null,
                    kinds[i].equals("tunnel") ? 80 : null, null, null, WINDOW, null), "o" + i);
        }
        link.runPendingTasks();
        long[] granted = new long[4];
        int at = 0;
        while (at < input.length) {
            int len = Math.min(input[at] & 0xff, input.length - at - 1);
            byte[] payload = java.util.Arrays.copyOfRange(input, at + 1, at + 1 + len);
            at += 1 + len;
            countWindows(payload, granted);
            ByteBuf frame = Unpooled.buffer(4 + len).writeInt(len).writeBytes(payload);
            link.writeInbound(frame);
            EmbeddedChannel exec = far.get("exec");
            if (exec != null && exec.isOpen()) {
                exec.writeInbound(Unpooled.wrappedBuffer(new byte[512]));
            }
            link.runPendingTasks();
        }
        for (Throwable t : errors) {
            assertThat(t).isInstanceOf(DecoderException.class);
            assertThat(t.getCause()).isInstanceOf(ProtocolException.class);
            assertThat(((ProtocolException) t.getCause()).code()).isIn(ErrorCode.MALFORMED_FRAME, ErrorCode.MALFORMED_JSON,
                    ErrorCode.NOT_AN_OBJECT, ErrorCode.MISSING_FIELD, ErrorCode.WRONG_TYPE, ErrorCode.UNSUPPORTED_VERSION,
                    ErrorCode.UNKNOWN_TYPE, ErrorCode.POLICY_SESSION_ID);
        }
        long[] sent = new long[4];
        long windowsFromAgent = 0;
        ByteBuf acc = Unpooled.buffer();
        for (Object o; (o = link.readOutbound()) != null; ) {
            if (o instanceof ByteBuf b) {
                acc.writeBytes(b);
                b.release();
            }
        }
        while (acc.readableBytes() >= 4) {
            int len = acc.readInt();
            ByteBuf p = acc.readSlice(len);
            int kind = p.getUnsignedByte(1);
            int stream = (int) p.getUnsignedInt(2);
            if (kind == StreamFrame.DATA || kind == StreamFrame.STDERR) {
                sent[stream] += len - 6;
            } else if (kind == StreamFrame.WINDOW) {
                windowsFromAgent += p.getUnsignedInt(6);
            }
        }
        acc.release();
        for (int s = 1; s <= 3; s++) {
            assertThat(sent[s]).as("stream " + s + " sent").isLessThanOrEqualTo(WINDOW + granted[s]);
        }
        long handed = 0;
        for (EmbeddedChannel ch : far.values()) {
            for (Object o; (o = ch.readOutbound()) != null; ) {
                handed += ((ByteBuf) o).readableBytes();
                ((ByteBuf) o).release();
            }
        }
        assertThat(handed).as("bytes handed to far ends").isLessThanOrEqualTo(2 * WINDOW + windowsFromAgent);
        link.close();
        assertThat(far.values()).allMatch(ch -> !ch.isOpen());
        assertThat(service.openInto("s-1")).isZero();
        far.values().forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    /** Sums the WINDOW increments a well-formed WINDOW payload grants, per stream 1..3. */
    private static void countWindows(byte[] p, long[] granted) {
        if (p.length == 10 && p[0] == 0 && p[1] == StreamFrame.WINDOW && p[2] == 0 && p[3] == 0 && p[4] == 0
                && p[5] >= 1 && p[5] <= 3) {
            long inc = ((p[6] & 0xffL) << 24) | ((p[7] & 0xffL) << 16) | ((p[8] & 0xffL) << 8) | (p[9] & 0xffL);
            granted[p[5]] += inc;
        }
    }
}

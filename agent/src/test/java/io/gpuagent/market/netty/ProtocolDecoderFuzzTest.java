package io.gpuagent.market.netty;

import ch.qos.logback.classic.Level;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.protocol.Envelope;
import io.gpuagent.protocol.EnvelopeCodec;
import io.gpuagent.protocol.ErrorCode;
import io.gpuagent.protocol.Message;
import io.gpuagent.protocol.MessageCodec;
import io.gpuagent.protocol.ProtocolException;
import io.gpuagent.util.ManualClock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzz tests of the scheduler protocol's decoding, from bytes to typed messages (docs/fuzzing.md).
 *
 * <p>In a plain build ({@code mvn verify}) Jazzer runs each target once on every committed input
 * in {@code src/test/resources/io/gpuagent/market/netty/ProtocolDecoderFuzzTestInputs/<target>/} and on
 * the empty input: a regression test, pure Java, no fuzzing. {@code -Pfuzz} fuzzes one target for
 * its {@code maxDuration}. Stream inputs start with a cut byte ({@link ProtocolStream}).
 */
class ProtocolDecoderFuzzTest {
    private static final int MAX_PAYLOAD = 4096;
    /** Field names, types and length prefixes: used when fuzzing, ignored by the regression run. */
    private static final String DICTIONARY = "/io/gpuagent/market/netty/protocol.dict";
    /** Codes the payload decoders may give (framing and dispatch have their own). */
    private static final Set<ErrorCode> DECODING_CODES = EnumSet.of(ErrorCode.MALFORMED_JSON, ErrorCode.NOT_AN_OBJECT,
            ErrorCode.MISSING_FIELD, ErrorCode.WRONG_TYPE, ErrorCode.UNSUPPORTED_VERSION, ErrorCode.UNKNOWN_TYPE,
            ErrorCode.POLICY_SESSION_ID, ErrorCode.POLICY_HOST_ACCESS);
    /** The oracle's own reader for ids: same limits as EnvelopeCodec, none of its rules. */
    private static final ObjectMapper ID_READER = new ObjectMapper();
    private static final Method BUFFERED;
    private static Level handlerLogLevel;

    static {
        ID_READER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
        try {
            // how much the frame decoder holds between reads; protected in Netty, read here to bound it
            BUFFERED = ByteToMessageDecoder.class.getDeclaredMethod("actualReadableBytes");
            BUFFERED.setAccessible(true);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @BeforeAll
    static void quietHandler() {
        // a connection logs its open and close at info: thousands a second when fuzzing
        var logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(SchedulerHandler.class);
        handlerLogLevel = logger.getLevel();
        logger.setLevel(Level.WARN);
    }

    @AfterAll
    static void restoreHandlerLog() {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(SchedulerHandler.class)).setLevel(handlerLogLevel);
    }

    /**
     * Framing and envelope decoding, whatever the bytes and however they are cut: only the typed
     * exceptions come out; the outcomes (envelopes, payload errors, the oversized prefix) are those
     * of the one-pass oracle, in order, and nothing follows an oversized prefix; each envelope
     * re-encodes to itself; the decoder never holds more than one frame's worth between reads.
     */
    @FuzzTest(maxDuration = "3m")
    @DictionaryFile(resourcePath = DICTIONARY)
    void framesAndEnvelopes(byte[] input) throws Exception {
        Collector sink = new Collector();
        FrameDecoder frames = new FrameDecoder(MAX_PAYLOAD);
        EmbeddedChannel ch = new EmbeddedChannel(frames, new EnvelopeDecoder(), sink);
        for (byte[] piece : ProtocolStream.pieces(input)) {
            if (!ch.isOpen()) {
                break;
            }
            ch.writeInbound(Unpooled.wrappedBuffer(piece));
            assertThat((int) BUFFERED.invoke(frames)).as("bytes held between reads").isLessThanOrEqualTo(MAX_PAYLOAD + 4);
        }
        ch.finishAndReleaseAll();
        if (!sink.unexpected.isEmpty()) {
            throw new AssertionError("unexpected exception from the decoders", sink.unexpected.get(0));
        }

        ProtocolStream.Reading expected = ProtocolStream.read(ProtocolStream.stream(input), MAX_PAYLOAD);
        List<String> want = new ArrayList<>();
        for (ProtocolStream.Frame f : expected.frames()) {
            want.add(f.envelope() != null ? describe(f.envelope()) : describe(f.error()));
        }
        if (expected.oversized()) {
            want.add("too_long");
        }
        assertThat(sink.outcomes).as("outcomes of the stream").containsExactlyElementsOf(want);
        for (Envelope e : sink.envelopes) {
            assertThat(EnvelopeCodec.decode(EnvelopeCodec.encode(e))).as("re-encoded").isEqualTo(e);
        }
    }

    /**
     * One payload through both codecs: nothing but ProtocolException comes out, with a decoding
     * code and the input's id exactly when the input carried a valid one; a decoded message
     * re-encodes and decodes to an equal record.
     */
    @FuzzTest(maxDuration = "3m")
    @DictionaryFile(resourcePath = DICTIONARY)
    void messages(byte[] payload) throws Exception {
        String id = validId(payload);
        Message m;
        Envelope env;
        try {
            env = EnvelopeCodec.decode(payload);
            assertThat(env.id()).as("envelope id").isEqualTo(id);
            m = MessageCodec.decode(env);
        } catch (ProtocolException e) {
            assertThat(e.code()).as("code of " + e.getMessage()).isIn(DECODING_CODES);
            assertThat(e.correlationId()).as("correlation id of " + e.code()).isEqualTo(id);
            return;
        }
        assertThat(MessageCodec.typeOf(m)).isEqualTo(env.type());
        Envelope again = EnvelopeCodec.decode(EnvelopeCodec.encode(MessageCodec.encode(m, env.id())));
        assertThat(again.id()).isEqualTo(env.id());
        assertThat(MessageCodec.decode(again)).as("re-encoded message").isEqualTo(m);
    }

    /**
     * The whole inbound pipeline with the real {@link SchedulerHandler}: no exception escapes and
     * the handler never closes for an unexpected one; every frame the agent sends is a valid
     * envelope of a valid message; every frame that carried a readable id is answered exactly once
     * with that id; the port sees exactly the well-formed launches and stops after a hello.
     */
    @FuzzTest(maxDuration = "3m")
    @DictionaryFile(resourcePath = DICTIONARY)
    void schedulerHandler(byte[] input) throws Exception {
        StubSchedulerPort port = new StubSchedulerPort();
        MarketStats stats = new MarketStats();
        SchedulerHub hub = new SchedulerHub(port, stats);
        SchedulerHandler handler = new SchedulerHandler(port, hub, stats, new ManualClock(), Runnable::run, "fuzz",
                1_000_000);
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(MAX_PAYLOAD), new EnvelopeDecoder(),
                new EnvelopeEncoder(), handler);
        for (byte[] piece : ProtocolStream.pieces(input)) {
            if (!ch.isOpen()) {
                break;
            }
            ch.writeInbound(Unpooled.wrappedBuffer(piece)); // rethrows whatever reached the pipeline's tail
        }
        ch.runPendingTasks();
        List<Envelope> sent = new ArrayList<>();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            sent.add(sentFrame((ByteBuf) o));
        }
        ch.finishAndReleaseAll();
        assertThat(stats.closed()).as("closed for").doesNotContainKeys("error", "flood");

        ProtocolStream.Reading expected = ProtocolStream.read(ProtocolStream.stream(input), MAX_PAYLOAD);
        Map<String, Long> asked = expected.frames().stream().map(ProtocolStream.Frame::answerId)
                .filter(Objects::nonNull).collect(Collectors.groupingBy(s -> s, HashMap::new, Collectors.counting()));
        Map<String, Long> answered = sent.stream().map(Envelope::id).filter(Objects::nonNull)
                .collect(Collectors.groupingBy(s -> s, HashMap::new, Collectors.counting()));
        assertThat(answered).as("answers by id").isEqualTo(asked);
        assertThat(port.commands).as("commands the port saw").containsExactlyElementsOf(commands(expected));
    }

    /** Launches and stops with an id after a hello that chose version 1: what the port must see. */
    private static List<Message.Request> commands(ProtocolStream.Reading reading) {
        List<Message.Request> out = new ArrayList<>();
        boolean welcomed = false;
        for (ProtocolStream.Frame f : reading.frames()) {
            if (f.envelope() == null || f.envelope().id() == null) {
                continue;
            }
            Message m;
            try {
                m = MessageCodec.decode(f.envelope());
            } catch (ProtocolException e) {
                continue;
            }
            if (m instanceof Message.Hello h && h.versions().contains(Envelope.VERSION)) {
                welcomed = true;
            } else if (welcomed && (m instanceof Message.Launch || m instanceof Message.Stop)) {
                out.add((Message.Request) m);
            }
        }
        return out;
    }

    /** One outbound frame: exactly a length prefix and that many bytes of a valid envelope and message. */
    private static Envelope sentFrame(ByteBuf frame) throws ProtocolException {
        try {
            assertThat(frame.readableBytes()).as("frame size").isGreaterThanOrEqualTo(4);
            int length = frame.readInt();
            assertThat(frame.readableBytes()).as("payload after prefix " + length).isEqualTo(length);
            byte[] payload = ByteBufUtil.getBytes(frame);
            Envelope e = EnvelopeCodec.decode(payload);
            Message m = MessageCodec.decode(e);
            // a heartbeat is all three; every other request type is the scheduler's to send
            assertThat(m).as("sent " + e.type()).matches(x -> x instanceof Message.Response || x instanceof Message.Event,
                    "a response or an event");
            if (m instanceof Message.Error err) {
                assertThat(err.code()).as("error code").matches("[a-z_]+");
            }
            return e;
        } finally {
            frame.release();
        }
    }

    /** The id EnvelopeCodec must read from a payload: a string of 1..128 characters in a JSON object, or null. */
    private static String validId(byte[] payload) {
        JsonNode root;
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(payload)).toString();
            root = ID_READER.readTree(text);
        } catch (CharacterCodingException | JsonProcessingException e) {
            return null;
        }
        JsonNode id = root == null || !root.isObject() ? null : root.get("id");
        if (id == null || !id.isTextual() || id.asText().isEmpty() || id.asText().length() > 128) {
            return null;
        }
        return id.asText();
    }

    private static String describe(Envelope e) {
        return "envelope " + e;
    }

    private static String describe(ProtocolException e) {
        return "error " + e.code() + " id=" + e.correlationId();
    }

    /** The dispatch stage's stand-in: collects what arrives and turns the expected exceptions into outcomes. */
    private static final class Collector extends ChannelInboundHandlerAdapter {
        final List<String> outcomes = new ArrayList<>();
        final List<Envelope> envelopes = new ArrayList<>();
        /** Netty only logs what exceptionCaught throws: unexpected ones are kept and asserted on afterwards. */
        final List<Throwable> unexpected = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Envelope e = (Envelope) msg;
            envelopes.add(e);
            outcomes.add(describe(e));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof TooLongFrameException || cause instanceof CorruptedFrameException) {
                outcomes.add(cause instanceof TooLongFrameException ? "too_long" : "corrupted");
                ctx.close(); // as SchedulerHandler does
            } else if (cause instanceof DecoderException && cause.getCause() instanceof ProtocolException p) {
                if (!DECODING_CODES.contains(p.code())) {
                    unexpected.add(p);
                }
                outcomes.add(describe(p));
            } else {
                unexpected.add(cause);
                outcomes.add("unexpected " + cause);
            }
        }
    }
}

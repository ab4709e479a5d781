package io.gpuagent.market.netty;

import io.gpuagent.protocol.Envelope;
import io.gpuagent.protocol.EnvelopeCodec;
import io.gpuagent.protocol.ErrorCode;
import io.gpuagent.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The framing pipeline on an EmbeddedChannel: what passes, what is refused, and when. */
class FrameCodecTest {
    private static EmbeddedChannel channel(int maxPayload) {
        return new EmbeddedChannel(new FrameDecoder(maxPayload), new EnvelopeDecoder(), new EnvelopeEncoder());
    }

    private static ByteBuf frame(String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        return Unpooled.buffer().writeInt(b.length).writeBytes(b);
    }

    @Test
    void anEnvelopeRoundTripsThroughEncoderAndDecoder() {
        EmbeddedChannel out = channel(1024);
        var body = EnvelopeCodec.body().put("session", "s1");
        out.writeOutbound(new Envelope(1, "stop", "c-1", body));
        ByteBuf wire = out.readOutbound();
        EmbeddedChannel in = channel(1024);
        in.writeInbound(wire);
        Envelope e = in.readInbound();
        assertThat(e).isEqualTo(new Envelope(1, "stop", "c-1", body));
        out.finishAndReleaseAll();
        in.finishAndReleaseAll();
    }

    @Test
    void aFrameArrivingInPiecesIsDecodedOnceWhole() {
        EmbeddedChannel ch = channel(1024);
        ByteBuf f = frame("{\"v\":1,\"type\":\"heartbeat\",\"body\":{},\"future_field\":[1,2]}");
        ch.writeInbound(f.readRetainedSlice(3));
        ch.writeInbound(f.readRetainedSlice(10));
        assertThat((Object) ch.readInbound()).as("truncated: nothing yet").isNull();
        ch.writeInbound(f.readRetainedSlice(f.readableBytes()));
        f.release();
        Envelope e = ch.readInbound();
        assertThat(e.type()).isEqualTo("heartbeat");
        assertThat(e.id()).as("events carry no id").isNull();
        ch.finishAndReleaseAll();
    }

    @Test
    void anOversizedOrNegativeLengthIsRefusedFromItsPrefixAlone() {
        EmbeddedChannel big = channel(1024);
        // only the 4-byte prefix claims 1 GiB: refused at once, nothing buffered
        assertThatThrownBy(() -> big.writeInbound(Unpooled.buffer().writeInt(1 << 30)))
                .isInstanceOf(TooLongFrameException.class);
        // a "negative" prefix is read as unsigned (Netty 4.2): 4 GiB - 5, refused the same way
        EmbeddedChannel negative = channel(1024);
        assertThatThrownBy(() -> negative.writeInbound(Unpooled.buffer().writeInt(-5).writeBytes(new byte[8])))
                .isInstanceOf(TooLongFrameException.class);
        EmbeddedChannel edge = channel(16);
        assertThatThrownBy(() -> edge.writeInbound(frame("{\"v\":1,\"type\":\"a\"}"))) // 18 bytes > 16
                .isInstanceOf(TooLongFrameException.class);
        EmbeddedChannel fits = channel(18);
        fits.writeInbound(frame("{\"v\":1,\"type\":\"a\"}"));
        assertThat(((Envelope) fits.readInbound()).type()).isEqualTo("a");
    }

    @Test
    void badEnvelopesAreTypedErrorsWithTheRequestIdWhenReadable() {
        assertCode("{not json", ErrorCode.MALFORMED_JSON, null);
        assertCode("[1,2]", ErrorCode.NOT_AN_OBJECT, null);
        assertCode("{\"type\":\"status\",\"id\":\"c-9\"}", ErrorCode.MISSING_FIELD, "c-9");
        assertCode("{\"v\":\"1\",\"type\":\"status\",\"id\":\"c-9\"}", ErrorCode.WRONG_TYPE, "c-9");
        assertCode("{\"v\":2,\"type\":\"status\",\"id\":\"c-9\"}", ErrorCode.UNSUPPORTED_VERSION, "c-9");
        assertCode("{\"v\":1,\"id\":\"c-9\"}", ErrorCode.MISSING_FIELD, "c-9");
        assertCode("{\"v\":1,\"type\":\"Launch!\",\"id\":\"c-9\"}", ErrorCode.WRONG_TYPE, "c-9");
        assertCode("{\"v\":1,\"type\":\"launch\",\"id\":7}", ErrorCode.WRONG_TYPE, null);
        assertCode("{\"v\":1,\"type\":\"launch\",\"id\":\"c\",\"body\":[]}", ErrorCode.WRONG_TYPE, "c");
        assertCode("[".repeat(200) + "]".repeat(200), ErrorCode.MALFORMED_JSON, null);
        byte[] badUtf8 = {'{', '"', 'v', '"', ':', (byte) 0xC3, (byte) 0x28, '}'};
        assertThatThrownBy(() -> EnvelopeCodec.decode(badUtf8)).isInstanceOfSatisfying(ProtocolException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED_JSON));
    }

    private static void assertCode(String json, ErrorCode code, String id) {
        EmbeddedChannel ch = channel(1 << 20);
        assertThatThrownBy(() -> ch.writeInbound(frame(json))).isInstanceOf(DecoderException.class)
                .cause().isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(code);
                    assertThat(e.correlationId()).isEqualTo(id);
                });
        // the channel still works for the next, valid frame
        ch.writeInbound(frame("{\"v\":1,\"type\":\"status\",\"id\":\"next\"}"));
        Envelope next = ch.readInbound();
        assertThat(next.id()).isEqualTo("next");
        ch.finishAndReleaseAll();
    }
}

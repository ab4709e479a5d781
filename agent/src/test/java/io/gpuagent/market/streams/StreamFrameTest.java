package io.gpuagent.market.streams;

import io.gpuagent.market.netty.EnvelopeDecoder;
import io.gpuagent.protocol.ErrorCode;
import io.gpuagent.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The binary frame layout of docs/protocol.md, byte for byte, and every malformed shape refused. */
class StreamFrameTest {
    private static ByteBuf payload(int... bytes) {
        ByteBuf b = Unpooled.buffer();
        for (int x : bytes) {
            b.writeByte(x);
        }
        return b;
    }

    @Test
    void aDataFrameIsTheLengthTheMarkerTheKindTheStreamAndTheBytes() {
        ByteBuf h = StreamFrame.header(ByteBufAllocator.DEFAULT, StreamFrame.DATA, 0x01020304L, 3);
        byte[] head = new byte[h.readableBytes()];
        h.readBytes(head);
        h.release();
        assertThat(head).containsExactly(0, 0, 0, 9, 0, 1, 1, 2, 3, 4);
        ByteBuf w = StreamFrame.window(ByteBufAllocator.DEFAULT, 7, 65536);
        assertThat(w.readInt()).isEqualTo(10);
        assertThat(w.readByte()).isZero();
        assertThat(w.readByte()).isEqualTo((byte) 3);
        assertThat(w.readInt()).isEqualTo(7);
        assertThat(w.readInt()).isEqualTo(65536);
        w.release();
    }

    @Test
    void decodesEachKindWithItsDataAsASliceOfThePayload() throws Exception {
        ByteBuf p = payload(0, 2, 0, 0, 0, 5, 'h', 'i');
        StreamFrame f = StreamFrame.decode(p);
        assertThat(f.kind()).isEqualTo(StreamFrame.STDERR);
        assertThat(f.stream()).isEqualTo(5);
        assertThat(f.data().toString(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("hi");
        assertThat(p.refCnt()).as("the slice holds the payload").isEqualTo(2);
        f.release();
        p.release();
        StreamFrame w = StreamFrame.decode(payload(0, 3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
        assertThat(w.stream()).isEqualTo(0x7FFF_FFFFL);
        assertThat(w.increment()).isEqualTo(0xFFFF_FFFFL);
        w.release();
        StreamFrame eof = StreamFrame.decode(payload(0, 4, 0, 0, 0, 1));
        assertThat(eof.kind()).isEqualTo(StreamFrame.EOF);
        eof.release();
    }

    @Test
    void malformedFramesAreRefusedNamingWhatIsWrong() {
        Object[][] bad = {
                {payload(0, 1, 0, 0, 0), "at least 6 bytes"},
                {payload(0, 9, 0, 0, 0, 1), "kind 9 is unknown"},
                {payload(0, 0, 0, 0, 0, 1), "kind 0 is unknown"},
                {payload(0, 1, 0, 0, 0, 0, 'x'), "stream number 0"},
                {payload(0, 1, 0x80, 0, 0, 0, 'x'), "stream number 2147483648"},
                {payload(0, 3, 0, 0, 0, 1, 0, 1), "exactly 4 bytes"},
                {payload(0, 3, 0, 0, 0, 1, 0, 0, 0, 0), "grants 0"},
                {payload(0, 4, 0, 0, 0, 1, 'x'), "carries no data"},
        };
        for (Object[] c : bad) {
            ByteBuf p = (ByteBuf) c[0];
            assertThatThrownBy(() -> StreamFrame.decode(p)).isInstanceOf(ProtocolException.class)
                    .hasMessageContaining((String) c[1])
                    .satisfies(e -> assertThat(((ProtocolException) e).code()).isEqualTo(ErrorCode.MALFORMED_FRAME));
            assertThat(p.refCnt()).as("nothing retained").isEqualTo(1);
            p.release();
        }
    }

    @Test
    void beforeStreamsAreNegotiatedAZeroBytePayloadIsBadJsonAsInProtocolV1() {
        EmbeddedChannel v1 = new EmbeddedChannel(new EnvelopeDecoder());
        assertThatThrownBy(() -> v1.writeInbound(payload(0, 1, 0, 0, 0, 1, 'x'))).isInstanceOf(DecoderException.class)
                .cause().isInstanceOf(ProtocolException.class)
                .satisfies(e -> assertThat(((ProtocolException) e).code()).isEqualTo(ErrorCode.MALFORMED_JSON));
        EmbeddedChannel v2 = new EmbeddedChannel(new EnvelopeDecoder().enableStreams());
        v2.writeInbound(payload(0, 1, 0, 0, 0, 1, 'x'));
        StreamFrame f = v2.readInbound();
        assertThat(f.stream()).isEqualTo(1);
        f.release();
    }
}

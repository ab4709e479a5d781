package io.gpuagent.market.netty;

import io.gpuagent.protocol.Envelope;
import io.gpuagent.protocol.EnvelopeCodec;
import io.gpuagent.protocol.ProtocolException;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The fuzz tests' view of a byte stream from a scheduler, and their oracle.
 *
 * <p>Input layout (framesAndEnvelopes and schedulerHandler): byte 0 says how the rest of the input,
 * the stream, is cut into socket reads; the stream is what a peer sends. Cut byte {@code c}:
 * <ul>
 *   <li>0: one read of the whole stream;</li>
 *   <li>1..127: reads of 1..c bytes;</li>
 *   <li>128..255: reads of 1..((c &amp; 0x7f) + 1) * 64 bytes (several whole frames per read).</li>
 * </ul>
 * Read lengths come from a {@link SplittableRandom} seeded with {@code c}: the same input always
 * splits the same way, so a committed input replays exactly.
 *
 * <p>The oracle, {@link #read}, frames the whole stream in one pass without Netty: what the
 * pipeline decodes must not depend on how the stream was cut.
 */
final class ProtocolStream {
    private ProtocolStream() {
    }

    /** The stream part of an input (everything after the cut byte). */
    static byte[] stream(byte[] input) {
        return input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
    }

    /** The reads the stream arrives in. */
    static List<byte[]> pieces(byte[] input) {
        List<byte[]> out = new ArrayList<>();
        if (input.length <= 1) {
            return out;
        }
        int cut = input[0] & 0xff;
        byte[] stream = stream(input);
        if (cut == 0) {
            out.add(stream);
            return out;
        }
        int limit = cut < 128 ? cut : ((cut & 0x7f) + 1) * 64;
        SplittableRandom random = new SplittableRandom(cut);
        for (int at = 0; at < stream.length; ) {
            int n = Math.min(1 + random.nextInt(limit), stream.length - at);
            out.add(Arrays.copyOfRange(stream, at, at + n));
            at += n;
        }
        return out;
    }

    /** One frame's payload and what {@link EnvelopeCodec} makes of it. */
    record Frame(byte[] payload, Envelope envelope, ProtocolException error) {
        /** The id the answer to this frame must carry: the envelope's, or the error's; null for none. */
        String answerId() {
            return envelope != null ? envelope.id() : error.correlationId();
        }
    }

    /**
     * The frames of a stream read at once: each whole frame in order, then whether the stream
     * stopped at a length prefix over {@code maxPayload} (nothing after it counts). A trailing
     * partial frame is not a frame.
     */
    record Reading(List<Frame> frames, boolean oversized) {
    }

    static Reading read(byte[] stream, int maxPayload) {
        List<Frame> frames = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(stream);
        while (in.remaining() >= 4) {
            long length = Integer.toUnsignedLong(in.getInt());
            if (length > maxPayload) {
                return new Reading(frames, true);
            }
            if (in.remaining() < length) {
                break;
            }
            byte[] payload = new byte[(int) length];
            in.get(payload);
            try {
                frames.add(new Frame(payload, EnvelopeCodec.decode(payload), null));
            } catch (ProtocolException e) {
                frames.add(new Frame(payload, null, e));
            }
        }
        return new Reading(frames, false);
    }
}

package io.gpuagent.bench;

import io.gpuagent.protocol.Envelope;
import io.gpuagent.protocol.EnvelopeCodec;
import io.gpuagent.protocol.Message;
import io.gpuagent.protocol.MessageCodec;
import io.gpuagent.protocol.ProtocolException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The protocol's codec without I/O: what the agent spends on JSON per message. Decoding is the
 * agent's receive path (frame payload to {@link Envelope}: since issue 13 one streaming pass over the
 * bytes with a tree of the body only, before it a UTF-8 check, a String and a tree of the whole
 * payload; then the body to the record); encoding its send path (since issue 13 the record straight
 * to bytes, {@link #writeSessionReply}; before it record to tree, tree to bytes). {@code status} is the
 * smallest request and {@code session} its answer (a full SessionInfo with usage); {@code launch} the
 * largest request (environment, command, ports). Run with {@code -prof gc} for bytes per operation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ProtocolCodecBenchmark {
    private static final String ID = "b-000001";

    private final byte[] statusBytes = EnvelopeCodec.encode(MessageCodec.encode(new Message.Status("s-1"), ID));
    private final Message.Launch launch = new Message.Launch("s-0000000000000001", "rental-0001",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", 2, List.of(), "nvcr.io/nvidia/pytorch:24.05-py3",
            List.of("python", "train.py", "--epochs", "10"), Map.of("WANDB_MODE", "offline", "HF_HOME", "/data/hf",
            "NCCL_DEBUG", "WARN"), List.of(22, 8888), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl renter@laptop",
            "611", 86_400L);
    private final byte[] launchBytes = EnvelopeCodec.encode(MessageCodec.encode(launch, ID));
    private final Message.SessionReply reply = new BenchSchedulerPort().status(new Message.Status("s-1"));
    private final Envelope replyEnvelope = MessageCodec.encode(reply, ID);
    private final ByteArrayOutputStream sink = new ByteArrayOutputStream(2048);

    /** The agent receiving a status request: bytes to Envelope to Message.Status. */
    @Benchmark
    public Message decodeStatus() throws ProtocolException {
        return MessageCodec.decode(EnvelopeCodec.decode(statusBytes));
    }

    /** The first half of {@link #decodeStatus}: UTF-8 check, String, Jackson tree, envelope checks. */
    @Benchmark
    public Envelope decodeStatusEnvelopeOnly() throws ProtocolException {
        return EnvelopeCodec.decode(statusBytes);
    }

    /**
     * The agent answering a status request since issue 13: the record straight to bytes (no tree),
     * into a reused buffer as the encoder writes into the frame buffer.
     */
    @Benchmark
    public int writeSessionReply() throws IOException {
        sink.reset();
        MessageCodec.write(reply, ID, sink);
        return sink.size();
    }

    /** The agent answering a status request before issue 13 (the Java client's way still): SessionReply to tree to bytes. */
    @Benchmark
    public byte[] encodeSessionReply() {
        return EnvelopeCodec.encode(MessageCodec.encode(reply, ID));
    }

    /** The second half of {@link #encodeSessionReply}: the tree (already built) to bytes. */
    @Benchmark
    public byte[] encodeSessionReplyTreeOnly() {
        return EnvelopeCodec.encode(replyEnvelope);
    }

    /** The agent receiving a launch. */
    @Benchmark
    public Message decodeLaunch() throws ProtocolException {
        return MessageCodec.decode(EnvelopeCodec.decode(launchBytes));
    }

    /** A scheduler sending a launch (the Java client's encode). */
    @Benchmark
    public byte[] encodeLaunch() {
        return EnvelopeCodec.encode(MessageCodec.encode(launch, ID));
    }
}

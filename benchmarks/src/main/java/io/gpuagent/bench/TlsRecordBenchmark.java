package io.gpuagent.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Sealing one TLS 1.3 record with the JDK's ciphers, as SSLEngine does for each record it writes
 * (a fresh nonce, the 5-byte header as associated data, then doFinal): AES-128-GCM against
 * ChaCha20-Poly1305, for a heartbeat-sized record (86 bytes: 64 of payload, the frame prefix, the
 * record's type byte and its tag's share) and a status answer's (698 bytes). Run it with the unit's
 * flags ({@code -jvmArgs "-XX:TieredStopAtLevel=1 ..."}) and without: the order of
 * {@code TlsContexts.CIPHER_SUITES} rests on the difference (docs/tls.md, docs/benchmarks.md issue 13).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TlsRecordBenchmark {
    @Param({"AES_128_GCM", "CHACHA20_POLY1305"})
    public String cipher;

    @Param({"86", "698"})
    public int bytes;

    private Cipher c;
    private SecretKeySpec key;
    private final byte[] header = {23, 3, 3, 0, 0};
    private byte[] in;
    private byte[] out;
    private final byte[] nonce = new byte[12];
    private long sequence;

    @Setup
    public void setUp() throws GeneralSecurityException {
        boolean aes = cipher.startsWith("AES");
        c = Cipher.getInstance(aes ? "AES/GCM/NoPadding" : "ChaCha20-Poly1305");
        key = new SecretKeySpec(new byte[aes ? 16 : 32], aes ? "AES" : "ChaCha20");
        in = new byte[bytes];
        out = new byte[bytes + 16];
    }

    @Benchmark
    public int seal() throws GeneralSecurityException {
        long s = ++sequence; // a nonce never repeats under one key, as in TLS
        for (int i = 0; i < 8; i++) {
            nonce[11 - i] = (byte) (s >>> (8 * i));
        }
        if (cipher.startsWith("AES")) {
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
        } else {
            c.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(nonce));
        }
        c.updateAAD(header);
        return c.doFinal(in, 0, in.length, out, 0);
    }
}

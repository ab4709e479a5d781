package io.gpuagent.escrow.web3j;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * scrypt (RFC 7914) with its big array outside the Java heap. A standard Web3 keystore (n = 2^18,
 * r = 8) needs 128 * r * n = 256 MiB for that array; the agent's heap is capped at 64 MiB by the
 * unit's JVM flags (docs/operations.md), so web3j's decryption (Bouncy Castle's scrypt, all on the
 * heap) ended the agent with an OutOfMemoryError at start whatever the wallet (issue 13). Here the
 * array is one native allocation ({@code sun.misc.Unsafe}, not counted against the heap or
 * {@code MaxDirectMemorySize}), zeroed and freed as soon as the key is derived, so the memory is
 * the process's for about two seconds and then back with the kernel.
 *
 * <p>Byte for byte Bouncy Castle's {@code SCrypt.generate} (OffHeapScryptTest: RFC 7914's vectors
 * and random parameters against it). Not thread-safe per call's buffers; calls may run side by side.
 */
final class OffHeapScrypt {
    private static final sun.misc.Unsafe UNSAFE = unsafe();
    /** The largest array allowed: a standard keystore's (n = 2^18, r = 8); the unit's MemoryMax leaves room for it. */
    static final long MAX_BYTES = 256L << 20;

    private OffHeapScrypt() {
    }

    /**
     * The derived key of {@code password} and {@code salt}.
     *
     * @param n     the CPU/memory cost, a power of two above 1
     * @param r     the block size
     * @param p     the parallelization (blocks mixed one after the other here)
     * @param dkLen the key's length in bytes
     * @throws IllegalArgumentException when the parameters are out of scrypt's range
     */
    static byte[] derive(byte[] password, byte[] salt, int n, int r, int p, int dkLen) {
        if (n < 2 || (n & (n - 1)) != 0) {
            throw new IllegalArgumentException("scrypt n must be a power of 2 above 1, not " + n);
        }
        if (r < 1 || p < 1 || dkLen < 1 || 128L * r * p > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("scrypt parameters out of range: n=" + n + " r=" + r + " p=" + p
                    + " dklen=" + dkLen);
        }
        if (128L * n * r > MAX_BYTES) {
            throw new IllegalArgumentException("scrypt n=" + n + " r=" + r + " needs " + (128L * n * r >> 20)
                    + " MiB, more than the " + (MAX_BYTES >> 20) + " MiB of a standard keystore (n=262144 r=8) that the"
                    + " agent's memory limit allows for; re-encrypt the key with standard parameters (gpu-agent wallet"
                    + " import)");
        }
        int blockInts = 32 * r; // 128 * r bytes
        byte[] b = pbkdf2(password, salt, p * 128 * r);
        int[] x = new int[blockInts];
        int[] t = new int[blockInts];
        int[] s16 = new int[16];
        long bytes = (long) n * blockInts * 4;
        long v = UNSAFE.allocateMemory(bytes);
        try {
            for (int i = 0; i < p; i++) {
                int off = i * 128 * r;
                for (int k = 0; k < blockInts; k++) {
                    x[k] = le(b, off + 4 * k);
                }
                roMix(x, t, s16, v, n, r);
                for (int k = 0; k < blockInts; k++) {
                    putLe(b, off + 4 * k, x[k]);
                }
            }
            return pbkdf2(password, b, dkLen);
        } finally {
            UNSAFE.setMemory(v, bytes, (byte) 0);
            UNSAFE.freeMemory(v);
            Arrays.fill(b, (byte) 0);
            Arrays.fill(x, 0);
            Arrays.fill(t, 0);
            Arrays.fill(s16, 0);
        }
    }

    private static void roMix(int[] x, int[] t, int[] s16, long v, int n, int r) {
        int blockInts = 32 * r;
        long blockBytes = blockInts * 4L;
        for (int i = 0; i < n; i++) {
            long at = v + i * blockBytes;
            for (int k = 0; k < blockInts; k++) {
                UNSAFE.putInt(at + 4L * k, x[k]);
            }
            blockMix(x, t, s16, r);
        }
        for (int i = 0; i < n; i++) {
            int j = x[(2 * r - 1) * 16] & (n - 1); // Integerify: the first word of the last 64-byte block
            long at = v + j * blockBytes;
            for (int k = 0; k < blockInts; k++) {
                x[k] ^= UNSAFE.getInt(at + 4L * k);
            }
            blockMix(x, t, s16, r);
        }
    }

    /** BlockMix over {@code b} (2r 64-byte blocks) in place, with {@code y} and {@code xs} as scratch. */
    private static void blockMix(int[] b, int[] y, int[] xs, int r) {
        System.arraycopy(b, (2 * r - 1) * 16, xs, 0, 16);
        for (int i = 0; i < 2 * r; i++) {
            for (int k = 0; k < 16; k++) {
                xs[k] ^= b[i * 16 + k];
            }
            salsa208(xs);
            // even blocks to the first half, odd ones to the second
            int to = (i % 2 == 0 ? i / 2 : r + i / 2) * 16;
            System.arraycopy(xs, 0, y, to, 16);
        }
        System.arraycopy(y, 0, b, 0, 32 * r);
    }

    private static void salsa208(int[] b) {
        int x0 = b[0], x1 = b[1], x2 = b[2], x3 = b[3], x4 = b[4], x5 = b[5], x6 = b[6], x7 = b[7];
        int x8 = b[8], x9 = b[9], x10 = b[10], x11 = b[11], x12 = b[12], x13 = b[13], x14 = b[14], x15 = b[15];
        for (int i = 0; i < 8; i += 2) {
            x4 ^= Integer.rotateLeft(x0 + x12, 7);
            x8 ^= Integer.rotateLeft(x4 + x0, 9);
            x12 ^= Integer.rotateLeft(x8 + x4, 13);
            x0 ^= Integer.rotateLeft(x12 + x8, 18);
            x9 ^= Integer.rotateLeft(x5 + x1, 7);
            x13 ^= Integer.rotateLeft(x9 + x5, 9);
            x1 ^= Integer.rotateLeft(x13 + x9, 13);
            x5 ^= Integer.rotateLeft(x1 + x13, 18);
            x14 ^= Integer.rotateLeft(x10 + x6, 7);
            x2 ^= Integer.rotateLeft(x14 + x10, 9);
            x6 ^= Integer.rotateLeft(x2 + x14, 13);
            x10 ^= Integer.rotateLeft(x6 + x2, 18);
            x3 ^= Integer.rotateLeft(x15 + x11, 7);
            x7 ^= Integer.rotateLeft(x3 + x15, 9);
            x11 ^= Integer.rotateLeft(x7 + x3, 13);
            x15 ^= Integer.rotateLeft(x11 + x7, 18);
            x1 ^= Integer.rotateLeft(x0 + x3, 7);
            x2 ^= Integer.rotateLeft(x1 + x0, 9);
            x3 ^= Integer.rotateLeft(x2 + x1, 13);
            x0 ^= Integer.rotateLeft(x3 + x2, 18);
            x6 ^= Integer.rotateLeft(x5 + x4, 7);
            x7 ^= Integer.rotateLeft(x6 + x5, 9);
            x4 ^= Integer.rotateLeft(x7 + x6, 13);
            x5 ^= Integer.rotateLeft(x4 + x7, 18);
            x11 ^= Integer.rotateLeft(x10 + x9, 7);
            x8 ^= Integer.rotateLeft(x11 + x10, 9);
            x9 ^= Integer.rotateLeft(x8 + x11, 13);
            x10 ^= Integer.rotateLeft(x9 + x8, 18);
            x12 ^= Integer.rotateLeft(x15 + x14, 7);
            x13 ^= Integer.rotateLeft(x12 + x15, 9);
            x14 ^= Integer.rotateLeft(x13 + x12, 13);
            x15 ^= Integer.rotateLeft(x14 + x13, 18);
        }
        b[0] += x0;
        b[1] += x1;
        b[2] += x2;
        b[3] += x3;
        b[4] += x4;
        b[5] += x5;
        b[6] += x6;
        b[7] += x7;
        b[8] += x8;
        b[9] += x9;
        b[10] += x10;
        b[11] += x11;
        b[12] += x12;
        b[13] += x13;
        b[14] += x14;
        b[15] += x15;
    }

    /** PBKDF2-HMAC-SHA256 with one iteration (all scrypt asks of it). */
    private static byte[] pbkdf2(byte[] password, byte[] salt, int length) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            // an empty password is a valid scrypt input; SecretKeySpec refuses an empty key
            mac.init(password.length == 0 ? new EmptyKey() : new SecretKeySpec(password, "HmacSHA256"));
            byte[] out = new byte[length];
            byte[] counter = new byte[4];
            for (int block = 1, done = 0; done < length; block++) {
                counter[0] = (byte) (block >>> 24);
                counter[1] = (byte) (block >>> 16);
                counter[2] = (byte) (block >>> 8);
                counter[3] = (byte) block;
                mac.update(salt);
                byte[] u = mac.doFinal(counter);
                int take = Math.min(u.length, length - done);
                System.arraycopy(u, 0, out, done, take);
                done += take;
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no HmacSHA256", e);
        }
    }

    /** A zero-length HMAC key (RFC 2104 pads it with zeros like any short key). */
    private static final class EmptyKey implements javax.crypto.SecretKey {
        @Override
        public String getAlgorithm() {
            return "HmacSHA256";
        }

        @Override
        public String getFormat() {
            return "RAW";
        }

        @Override
        public byte[] getEncoded() {
            return new byte[0];
        }
    }

    private static int le(byte[] b, int i) {
        return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16 | (b[i + 3] & 0xff) << 24;
    }

    private static void putLe(byte[] b, int i, int v) {
        b[i] = (byte) v;
        b[i + 1] = (byte) (v >>> 8);
        b[i + 2] = (byte) (v >>> 16);
        b[i + 3] = (byte) (v >>> 24);
    }

    private static sun.misc.Unsafe unsafe() {
        try {
            java.lang.reflect.Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (sun.misc.Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("sun.misc.Unsafe is not reachable on this JVM", e);
        }
    }
}

package io.gpuagent.escrow.web3j;

import org.bouncycastle.crypto.generators.SCrypt;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** OffHeapScrypt against RFC 7914's test vectors and Bouncy Castle's scrypt (what web3j uses). */
class OffHeapScryptTest {
    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void rfc7914Vectors() {
        assertThat(HexFormat.of().formatHex(OffHeapScrypt.derive(ascii(""), ascii(""), 16, 1, 1, 64))).isEqualTo(
                "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
                        + "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
        assertThat(HexFormat.of().formatHex(OffHeapScrypt.derive(ascii("password"), ascii("NaCl"), 1024, 8, 16, 64)))
                .isEqualTo("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
                        + "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
    }

    @Test
    void sameBytesAsBouncyCastleForRandomInputs() {
        Random rnd = new Random(13);
        for (int i = 0; i < 12; i++) {
            byte[] pw = new byte[rnd.nextInt(40)];
            byte[] salt = new byte[rnd.nextInt(40)];
            rnd.nextBytes(pw);
            rnd.nextBytes(salt);
            int n = 1 << (1 + rnd.nextInt(9));
            int r = 1 + rnd.nextInt(8);
            int p = 1 + rnd.nextInt(6);
            int dk = 1 + rnd.nextInt(80);
            assertThat(OffHeapScrypt.derive(pw, salt, n, r, p, dk)).as("n=%d r=%d p=%d dklen=%d", n, r, p, dk)
                    .isEqualTo(SCrypt.generate(pw, salt, n, r, p, dk));
        }
    }

    @Test
    void badParametersAreRefusedByName() {
        assertThatThrownBy(() -> OffHeapScrypt.derive(new byte[1], new byte[1], 1000, 8, 1, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("power of 2").hasMessageContaining("1000");
        assertThatThrownBy(() -> OffHeapScrypt.derive(new byte[1], new byte[1], 1024, 0, 1, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("r=0");
        assertThatThrownBy(() -> OffHeapScrypt.derive(new byte[1], new byte[1], 1 << 19, 8, 1, 32))
                .as("512 MiB of array").isInstanceOf(IllegalArgumentException.class).hasMessageContaining("512 MiB")
                .hasMessageContaining("wallet import");
        assertThatThrownBy(() -> OffHeapScrypt.derive(new byte[1], new byte[1], 16, 1 << 26, 1, 32))
                .as("r that would overflow").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OffHeapScrypt.derive(new byte[1], new byte[1], 16, 1 << 12, 1 << 12, 32))
                .as("r * p that would overflow").isInstanceOf(IllegalArgumentException.class);
    }
}

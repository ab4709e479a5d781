package io.gpuagent.container.docker;

import io.gpuagent.container.ContainerSpec.ContainerFile;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The ustar layout documented in {@link TarArchive}, read back field by field. */
class TarArchiveTest {
    private static String field(byte[] tar, int off, int len) {
        int end = off;
        while (end < off + len && tar[end] != 0) {
            end++;
        }
        return new String(tar, off, end - off, StandardCharsets.US_ASCII).trim();
    }

    @Test
    void oneFileIsAHeaderThePaddedContentAndTwoZeroBlocks() {
        byte[] content = "ssh-ed25519 AAAA renter\n".getBytes(StandardCharsets.UTF_8);
        byte[] tar = TarArchive.of(List.of(new ContainerFile("/root/.ssh/authorized_keys", content, 0600)));

        assertThat(tar).hasSize(512 + 512 + 1024);
        assertThat(field(tar, 0, 100)).isEqualTo("root/.ssh/authorized_keys");
        assertThat(Integer.parseInt(field(tar, 100, 8), 8)).isEqualTo(0600);
        assertThat(Long.parseLong(field(tar, 124, 12), 8)).isEqualTo(content.length);
        assertThat((char) tar[156]).isEqualTo('0');
        assertThat(field(tar, 257, 6)).isEqualTo("ustar");
        assertThat(Arrays.copyOfRange(tar, 512, 512 + content.length)).isEqualTo(content);
        assertThat(Arrays.copyOfRange(tar, 1024, 2048)).containsOnly(0);

        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : tar[i] & 0xff;
        }
        assertThat(Long.parseLong(field(tar, 148, 8), 8)).isEqualTo(sum);
    }

    @Test
    void aLongPathIsSplitIntoPrefixAndName() {
        String dir = "/opt/" + "d".repeat(120);
        byte[] tar = TarArchive.of(List.of(new ContainerFile(dir + "/file.txt", new byte[0], 0644)));
        assertThat(field(tar, 345, 155)).isEqualTo(dir.substring(1));
        assertThat(field(tar, 0, 100)).isEqualTo("file.txt");
        assertThat(tar).hasSize(512 + 1024);
    }

    @Test
    void pathsThatCouldEscapeOrAreNotFilesAreRefused() {
        for (String bad : new String[]{"relative/x", "/a/../etc/shadow", "/a//b", "/dir/", "/./x"}) {
            assertThatThrownBy(() -> TarArchive.of(List.of(new ContainerFile(bad, new byte[0], 0644)))).as(bad)
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> TarArchive.of(List.of(new ContainerFile("/x", new byte[0], 010000))))
                .hasMessageContaining("mode");
    }
}

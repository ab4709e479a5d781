package io.gpuagent.escrow.web3j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A standard keystore (what `gpu-agent wallet new` writes: scrypt n = 2^18, 256 MiB to open) opens in
 * a JVM started with the systemd unit's flags (GPU_AGENT_JAVA_OPTS_DEFAULT in scripts/gpu-agent.sh,
 * a 64 MiB heap). Before OffHeapScrypt the agent ended there with "Terminating due to
 * java.lang.OutOfMemoryError: Java heap space" (issue 13); a demo wallet (the light scrypt) hid it.
 */
class KeystoreUnitFlagsIT {
    @TempDir
    Path dir;

    static List<String> unitFlags() throws Exception {
        Path launcher = Path.of(System.getProperty("gpuagent.repoRoot", "..")).resolve("scripts/gpu-agent.sh");
        String text = Files.readString(launcher, StandardCharsets.UTF_8);
        int start = text.indexOf("GPU_AGENT_JAVA_OPTS_DEFAULT=\"");
        assertThat(start).as("the flags in %s", launcher).isNotNegative();
        int end = text.indexOf('"', start + "GPU_AGENT_JAVA_OPTS_DEFAULT=\"".length());
        String flags = text.substring(start + "GPU_AGENT_JAVA_OPTS_DEFAULT=\"".length(), end).replace("\\\n", "");
        return Arrays.asList(flags.trim().split("\\s+"));
    }

    @Test
    void aStandardKeystoreOpensWithinTheUnitsHeap() throws Exception {
        Path ks = dir.resolve("wallet/keystore.json");
        String address = Keystore.create(ks, "a real owner's password", false);
        assertThat(Files.readString(ks)).as("the standard scrypt").contains("\"n\":262144");

        List<String> flags = unitFlags();
        assertThat(flags).contains("-Xmx64m");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), KeystoreOpenMain.class.getName(), ks.toString(),
                "a real owner's password"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("done within 2 minutes").isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(out).as("its output").doesNotContain("OutOfMemoryError").contains("opened " + address.toLowerCase());
        assertThat(p.exitValue()).isZero();
    }
}

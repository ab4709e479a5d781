package io.gpuagent.session;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigException;
import io.gpuagent.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Per-GPU limits derived from the machine, refused when they can never launch, capped per session. */
class SessionLimitsTest {
    private static final HostResources TWO_CORES = new HostResources(2, 24L << 30);
    private static final HostResources HGX = new HostResources(224, 2048L << 30);

    @TempDir
    Path dir;

    private static AgentConfig.Sessions sessions(String... sets) throws Exception {
        return ConfigLoader.load(null, Map.of(), List.of(sets)).sessions();
    }

    @Test
    void byDefaultTheMachinesCpusAndMemoryLessTheOwnersShareAreSharedByItsGpus() throws Exception {
        SessionLimits hgx = SessionLimits.resolve(sessions(), HGX, 8);
        assertThat(hgx.cpusPerGpu()).isEqualTo(28.0);
        // 2 TiB less a tenth for the owner, by 8
        assertThat(hgx.memoryPerGpuBytes()).isEqualTo((2048L << 30) * 9 / 10 / 8);
        // the 2-core box the issue names: every launch used to fail with 8 CPUs per GPU
        SessionLimits small = SessionLimits.resolve(sessions(), TWO_CORES, 1);
        assertThat(small.cpusPerGpu()).isEqualTo(2.0);
        assertThat(small.nanoCpus(1.0)).isEqualTo(2_000_000_000L);
        // a GPU never gets less than one CPU, and a session never more than the machine's
        SessionLimits crowded = SessionLimits.resolve(sessions(), TWO_CORES, 8);
        assertThat(crowded.cpusPerGpu()).isEqualTo(1.0);
        assertThat(crowded.nanoCpus(8)).isEqualTo(2_000_000_000L);
        assertThat(crowded.memoryBytes(8)).isLessThanOrEqualTo(24L << 30);
        assertThat(crowded.nanoCpus(3 / 7.0)).as("a 3g slice").isEqualTo(428_571_428L);
    }

    @Test
    void aConfiguredValueThatCanNeverLaunchIsAConfigErrorNamingTheKeyAndTheMachinesFigure() throws Exception {
        assertThatThrownBy(() -> SessionLimits.resolve(sessions("sessions.cpus_per_gpu=8"), TWO_CORES, 1))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo("sessions.cpus_per_gpu"))
                .hasMessageContaining("cpus_per_gpu = 8").hasMessageContaining("this machine has 2 CPUs");
        assertThatThrownBy(() -> SessionLimits.resolve(sessions("sessions.memory_per_gpu_mb=32768"), TWO_CORES, 1))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo("sessions.memory_per_gpu_mb"))
                .hasMessageContaining("24576 MiB");
        // an explicit value the machine can give is kept; a session of several GPUs is capped
        SessionLimits two = SessionLimits.resolve(sessions("sessions.cpus_per_gpu=2", "sessions.memory_per_gpu_mb=16384"),
                TWO_CORES, 4);
        assertThat(two.nanoCpus(4)).isEqualTo(2_000_000_000L);
        assertThat(two.memoryBytes(4)).isEqualTo(24L << 30);
        assertThat(two.memoryBytes(1)).isEqualTo(16L << 30);
    }

    @Test
    void theKernelsCpuListIsCounted() throws Exception {
        Path online = dir.resolve("online");
        Files.writeString(online, "0-3,6,8-9\n");
        assertThat(HostResources.onlineCpus(online)).isEqualTo(7);
        Files.writeString(online, "0\n");
        assertThat(HostResources.onlineCpus(online)).isEqualTo(1);
        assertThat(HostResources.onlineCpus(dir.resolve("missing"))).isEqualTo(Runtime.getRuntime().availableProcessors());
        Path meminfo = dir.resolve("meminfo");
        Files.writeString(meminfo, "MemTotal:       24578504 kB\nMemFree:  1 kB\n");
        assertThat(HostResources.memTotal(meminfo)).isEqualTo(24578504L * 1024);
    }
}

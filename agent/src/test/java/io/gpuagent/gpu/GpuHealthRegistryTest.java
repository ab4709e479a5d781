package io.gpuagent.gpu;

import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class GpuHealthRegistryTest {
    private final FakeGpuDriver fake = new FakeGpuDriver(2);
    private final List<GpuDevice> devices = List.of(describe(0), describe(1));
    private final GpuHealthRegistry registry = new GpuHealthRegistry(new ManualClock(), devices);
    private final List<String> changes = new ArrayList<>();
    private final String gpu0 = devices.get(0).uuid();
    private final String gpu1 = devices.get(1).uuid();

    GpuHealthRegistryTest() {
        registry.addListener((prev, cur) -> changes.add(cur.index() + ":" + prev.health() + "->" + cur.health()));
    }

    private GpuDevice describe(int i) {
        try {
            return fake.describe(i);
        } catch (GpuException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void applicationXidIsCountedButKeepsTheGpuHealthy() {
        registry.onXid(gpu0, 13);
        registry.onXid(gpu0, 13);
        assertThat(registry.state(gpu0).health()).isEqualTo(GpuHealth.HEALTHY);
        assertThat(registry.state(gpu0).lastXid()).isEqualTo(13);
        assertThat(registry.xidCounts().get(gpu0)).containsEntry(13L, 2L);
        assertThat(changes).isEmpty();
    }

    @Test
    void criticalXidMakesOnlyThatGpuUnhealthyForGood() {
        registry.onXid(gpu0, 79);
        assertThat(registry.state(gpu0).health()).isEqualTo(GpuHealth.UNHEALTHY);
        assertThat(registry.state(gpu0).reason()).contains("79");
        assertThat(registry.state(gpu1).health()).isEqualTo(GpuHealth.HEALTHY);
        registry.onResponsive(gpu0);
        registry.onUnresponsive(gpu0, "hung");
        registry.onResponsive(gpu0);
        assertThat(registry.state(gpu0).health()).as("sticky until restart").isEqualTo(GpuHealth.UNHEALTHY);
        assertThat(changes).containsExactly("0:HEALTHY->UNHEALTHY");
    }

    @Test
    void hungGpuIsUnknownUntilItAnswersAgain() {
        registry.onUnresponsive(gpu1, "NVML call sample on GPU 1 did not return within 2000 ms");
        assertThat(registry.state(gpu1).health()).isEqualTo(GpuHealth.UNKNOWN);
        registry.onResponsive(gpu1);
        assertThat(registry.state(gpu1).health()).isEqualTo(GpuHealth.HEALTHY);
        assertThat(changes).containsExactly("1:HEALTHY->UNKNOWN", "1:UNKNOWN->HEALTHY");
    }

    @Test
    void lostBeatsUnhealthyAndNothingBeatsLost() {
        registry.onDoubleBitEcc(gpu0);
        registry.onLost(gpu0, "fell off the bus");
        registry.onXid(gpu0, 48);
        registry.onUnresponsive(gpu0, "hung");
        assertThat(registry.state(gpu0).health()).isEqualTo(GpuHealth.LOST);
        assertThat(changes).containsExactly("0:HEALTHY->UNHEALTHY", "0:UNHEALTHY->LOST");
    }

    @Test
    void unknownGpuIsIgnored() {
        registry.onXid("GPU-nope", 79);
        assertThat(registry.all()).extracting(GpuHealthState::health).containsOnly(GpuHealth.HEALTHY);
    }
}

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

    // --- MIG: GPU 0 cut into two 1g.10gb instances (GPU instances 1 and 2) ---

    private MigInstance slice(String uuid, int gi, int placement) {
        return new MigInstance(uuid, gpu0, 0, gi, 0, "1g.10gb", 1, 10L << 30, placement, 1);
    }

    private void cutGpu0() {
        registry.updateInstances(gpu0, List.of(slice("MIG-0a", 1, 0), slice("MIG-0b", 2, 1)));
    }

    @Test
    void aCriticalXidScopedToAnInstanceMarksOnlyThatInstance() {
        cutGpu0();
        registry.onXid(gpu0, 94, 1);
        assertThat(registry.instanceState("MIG-0a").health()).isEqualTo(GpuHealth.UNHEALTHY);
        assertThat(registry.instanceState("MIG-0a").reason()).contains("94");
        assertThat(registry.isHealthy("MIG-0a")).isFalse();
        assertThat(registry.isHealthy("MIG-0b")).as("its sibling").isTrue();
        assertThat(registry.state(gpu0).health()).as("the GPU").isEqualTo(GpuHealth.HEALTHY);
        assertThat(registry.isHealthy(gpu0)).isTrue();
        assertThat(registry.xidCounts().get(gpu0)).as("counted per GPU for the metrics").containsEntry(94L, 1L);
        assertThat(changes).containsExactly("0:HEALTHY->UNHEALTHY");
        assertThat(registry.all()).as("all() stays per GPU").extracting(GpuHealthState::uuid).containsExactly(gpu0, gpu1);
        assertThat(registry.instances()).extracting(GpuHealthState::uuid, GpuHealthState::health).containsExactly(
                org.assertj.core.groups.Tuple.tuple("MIG-0a", GpuHealth.UNHEALTHY),
                org.assertj.core.groups.Tuple.tuple("MIG-0b", GpuHealth.HEALTHY));
    }

    @Test
    void aDeviceWideXidMarksTheGpuAndSoEveryInstanceOnIt() {
        cutGpu0();
        registry.onXid(gpu0, 79, GpuEvent.DEVICE_WIDE);
        assertThat(registry.state(gpu0).health()).isEqualTo(GpuHealth.UNHEALTHY);
        assertThat(registry.isHealthy("MIG-0a")).isFalse();
        assertThat(registry.isHealthy("MIG-0b")).isFalse();
        assertThat(registry.unitHealth("MIG-0b")).isEqualTo(GpuHealth.UNHEALTHY);
        assertThat(registry.instanceState("MIG-0b").health()).as("its own health is untouched").isEqualTo(GpuHealth.HEALTHY);
        assertThat(registry.isHealthy(gpu1)).isTrue();
        registry.onLost(gpu0, "fell off the bus");
        assertThat(registry.unitHealth("MIG-0a")).as("the worse of its own and its GPU's").isEqualTo(GpuHealth.LOST);
    }

    @Test
    void anApplicationXidInAnInstanceChangesNothingButIsRecorded() {
        cutGpu0();
        registry.onXid(gpu0, 43, 2);
        assertThat(registry.isHealthy("MIG-0b")).isTrue();
        assertThat(registry.instanceState("MIG-0b").lastXid()).isEqualTo(43);
        assertThat(registry.xidCounts().get(gpu0)).containsEntry(43L, 1L);
        assertThat(changes).isEmpty();
    }

    @Test
    void anEventScopedToAnInstanceTheAgentDoesNotKnowChangesNothing() {
        cutGpu0();
        registry.onXid(gpu0, 94, 7);
        registry.onDoubleBitEcc(gpu0, 7);
        assertThat(registry.isHealthy(gpu0)).isTrue();
        assertThat(registry.instances()).extracting(GpuHealthState::health).containsOnly(GpuHealth.HEALTHY);
        assertThat(registry.xidCounts().get(gpu0)).as("still counted").containsEntry(94L, 1L);
        assertThat(changes).isEmpty();
    }

    @Test
    void aDoubleBitEccErrorInAnInstanceMarksItAndADeviceWideOneTheGpu() {
        cutGpu0();
        registry.onDoubleBitEcc(gpu0, 2);
        assertThat(registry.isHealthy("MIG-0b")).isFalse();
        assertThat(registry.isHealthy("MIG-0a")).isTrue();
        registry.onDoubleBitEcc(gpu0, GpuEvent.DEVICE_WIDE);
        assertThat(registry.state(gpu0).health()).isEqualTo(GpuHealth.UNHEALTHY);
        assertThat(changes).containsExactly("0:HEALTHY->UNHEALTHY", "0:HEALTHY->UNHEALTHY");
    }

    @Test
    void instancesComeAndGoAndAKeptOneKeepsItsHealth() {
        cutGpu0();
        registry.onXid(gpu0, 94, 1);
        registry.updateInstances(gpu0, List.of(slice("MIG-0a", 1, 0), slice("MIG-0c", 3, 2)));
        assertThat(registry.instanceState("MIG-0a").health()).as("kept").isEqualTo(GpuHealth.UNHEALTHY);
        assertThat(registry.instanceState("MIG-0b")).as("destroyed: forgotten").isNull();
        assertThat(registry.isHealthy("MIG-0b")).as("an unknown unit is never healthy").isFalse();
        assertThat(registry.isHealthy("MIG-0c")).as("new: healthy").isTrue();
        registry.onXid(gpu0, 94, 2);
        assertThat(registry.instances()).extracting(GpuHealthState::uuid).containsExactly("MIG-0a", "MIG-0c");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> registry.updateInstances(gpu1,
                List.of(slice("MIG-0x", 4, 3)))).as("an instance of another GPU").isInstanceOf(IllegalArgumentException.class);
        assertThat(registry.instanceState("MIG-0x")).as("nothing recorded").isNull();
    }
}

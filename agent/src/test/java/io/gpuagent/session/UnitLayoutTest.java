package io.gpuagent.session;

import io.gpuagent.gpu.DriverInfo;
import io.gpuagent.gpu.FakeGpuDriver;
import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuInventory;
import io.gpuagent.gpu.MigInstance;
import io.gpuagent.gpu.MigState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which units a probed machine rents out: a GPU with MIG on only as its instances. */
class UnitLayoutTest {
    private final FakeGpuDriver fake = new FakeGpuDriver(3);

    private GpuInventory inventory() throws Exception {
        return new GpuInventory(new DriverInfo("fake", true, "570.00", "12.570", "12.8"),
                List.of(fake.describe(0), fake.describe(1), fake.describe(2)));
    }

    @Test
    void aGpuWithMigOnIsItsInstancesInPlacementOrderAndOneWithMigOffIsWhole() throws Exception {
        GpuInventory inv = inventory();
        GpuDevice g0 = inv.gpus().get(0);
        GpuDevice g1 = inv.gpus().get(1);
        MigInstance late = new MigInstance("MIG-late", g0.uuid(), 0, 2, 0, "3g.40gb", 3, 40L << 30, 4, 4);
        MigInstance early = new MigInstance("MIG-early", g0.uuid(), 0, 9, 0, "1g.10gb", 1, 10L << 30, 0, 1);
        UnitLayout l = UnitLayout.of(inv, Map.of(
                g0.uuid(), new MigState(true, true, List.of(), List.of(late, early)),
                g1.uuid(), new MigState(false, true, List.of(), List.of()), // enable pending a reset: still whole
                inv.gpus().get(2).uuid(), new MigState(true, true, List.of(), List.of())), null); // no instances yet
        assertThat(l.units()).extracting(GpuUnit::uuid).containsExactly("MIG-early", "MIG-late", g1.uuid());
        assertThat(l.unit("MIG-late").orElseThrow()).extracting(GpuUnit::kind, GpuUnit::gpuUuid, GpuUnit::model,
                GpuUnit::migProfile, GpuUnit::gpuInstanceId).containsExactly(GpuUnit.Kind.MIG, g0.uuid(), g0.name(),
                "3g.40gb", 2);
        assertThat(l.unit(g1.uuid()).orElseThrow().memoryBytes()).isEqualTo(g1.memoryTotalBytes());
        assertThat(l.wholeGpuUnits()).extracting(GpuUnit::uuid).containsExactly(g1.uuid());
        assertThat(l.topology().uuids()).as("unknown topology over every GPU").hasSize(3);
    }

    @Test
    void anInstanceUnderTheWrongGpuOrATwiceListedUnitIsRefused() throws Exception {
        GpuInventory inv = inventory();
        MigInstance stray = new MigInstance("MIG-x", inv.gpus().get(1).uuid(), 1, 1, 0, "1g.10gb", 1, 1, 0, 1);
        assertThatThrownBy(() -> UnitLayout.of(inv, Map.of(inv.gpus().get(0).uuid(),
                new MigState(true, true, List.of(), List.of(stray))), null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new UnitLayout(List.of(GpuUnit.gpu("GPU-a", 0), GpuUnit.gpu("GPU-a", 1)), null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}

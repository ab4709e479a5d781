package io.gpuagent.gpu.nvml;

import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.testsupport.SimNvml;
import io.gpuagent.util.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The topology through JNA into the simulated library, on the three kinds of machine: an HGX
 * board (NVSwitch: every pair linked), A100 PCIe cards with NVLink bridges in pairs, and GeForce
 * cards on PCIe only.
 */
class NvmlTopologyIT {
    @TempDir
    Path dir;
    private NvmlGpuDriver driver;

    private GpuTopology read(String machine) throws Exception {
        Path m = dir.resolve("machine.conf");
        Files.writeString(m, machine);
        SimNvml.use(m, null);
        driver = NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM);
        return driver.topology(uuids());
    }

    private List<String> uuids() throws Exception {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < driver.deviceCount(); i++) {
            out.add(driver.describe(i).uuid());
        }
        return out;
    }

    @AfterEach
    void close() {
        if (driver != null) {
            driver.close();
        }
        SimNvml.unsetConfig();
    }

    private static String gpus(String profile, int n, String... perGpu) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append("[gpu]\nprofile = ").append(profile).append('\n')
                    .append(String.format("pci_bus = 0x%02x%n", 0x18 + 0x10 * i));
            if (perGpu.length > i) {
                sb.append(perGpu[i]);
            }
        }
        return sb.toString();
    }

    @Test
    void onAnHgxH100BoardEveryPairIsJoinedByEighteenLinksThroughTheNvSwitches() throws Exception {
        String[] layout = new String[8];
        for (int i = 0; i < 8; i++) {
            layout[i] = "numa_node = " + (i / 4) + "\npcie_switch = " + (i / 2) + "\n";
        }
        GpuTopology t = read("nvlink = nvswitch\n" + gpus("h100-80gb-hbm3", 8, layout));
        assertThat(t.nvswitch()).isTrue();
        assertThat(t.uuids()).isEqualTo(uuids());
        for (int i = 0; i < 8; i++) {
            for (int j = 0; j < 8; j++) {
                assertThat(t.nvlinks(i, j)).as("NVLinks %d-%d", i, j).isEqualTo(i == j ? 0 : 18);
                int expected = i == j ? GpuTopology.INTERNAL : i / 2 == j / 2 ? GpuTopology.SINGLE
                        : i / 4 == j / 4 ? GpuTopology.NODE : GpuTopology.SYSTEM;
                assertThat(t.ancestor(i, j)).as("common ancestor %d-%d", i, j).isEqualTo(expected);
            }
        }
    }

    @Test
    void a100PcieCardsAreNvLinkedInBridgedPairsAndOnlyThere() throws Exception {
        GpuTopology t = read(gpus("a100-80gb-pcie", 4,
                "nvlink_bridge = 1\nnuma_node = 0\n", "nvlink_bridge = 0\nnuma_node = 0\n",
                "nvlink_bridge = 3\nnuma_node = 1\n", "nvlink_bridge = 2\nnuma_node = 1\n"));
        assertThat(t.nvswitch()).isFalse();
        assertThat(t.nvlinks(0, 1)).isEqualTo(12);
        assertThat(t.nvlinks(1, 0)).isEqualTo(12);
        assertThat(t.nvlinks(2, 3)).isEqualTo(12);
        assertThat(t.nvlinks(0, 2)).isZero();
        assertThat(t.nvlinks(1, 3)).isZero();
        assertThat(t.ancestor(0, 1)).isEqualTo(GpuTopology.NODE);
        assertThat(t.ancestor(1, 2)).isEqualTo(GpuTopology.SYSTEM);
    }

    @Test
    void geforceCardsArePcieOnlyAndTheNvLinkCallsAreAskedOnce() throws Exception {
        GpuTopology t = read(gpus("rtx-4090", 3, "pcie_switch = 0\n", "pcie_switch = 0\n", "pcie_switch = none\n"));
        assertThat(t.nvswitch()).isFalse();
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                assertThat(t.nvlinks(i, j)).isZero();
            }
        }
        assertThat(t.ancestor(0, 1)).isEqualTo(GpuTopology.SINGLE);
        assertThat(t.ancestor(0, 2)).isEqualTo(GpuTopology.NODE);
        assertThat(driver.unsupportedFeatures().get(0)).contains("nvlink");
        assertThat(driver.topology(uuids())).usingRecursiveComparison().isEqualTo(t);
    }

    private GpuTopology readShipped(String machine) throws Exception {
        SimNvml.use(SimNvml.machine(machine), null);
        driver = NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM);
        return driver.topology(uuids());
    }

    @Test
    void theShippedMachineFilesHaveTheTopologiesTheirNamesPromise() throws Exception {
        GpuTopology hgx = readShipped("server-8x-h100.conf");
        assertThat(hgx.nvswitch()).isTrue();
        for (int i = 0; i < 8; i++) {
            for (int j = 0; j < 8; j++) {
                assertThat(hgx.nvlinks(i, j)).as("HGX H100 %d-%d", i, j).isEqualTo(i == j ? 0 : 18);
            }
        }
        driver.close();

        GpuTopology a100 = readShipped("server-4x-a100.conf");
        assertThat(a100.nvswitch()).isFalse();
        int[][] expected = {{0, 12, 0, 0}, {12, 0, 0, 0}, {0, 0, 0, 12}, {0, 0, 12, 0}};
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                assertThat(a100.nvlinks(i, j)).as("A100 PCIe %d-%d", i, j).isEqualTo(expected[i][j]);
            }
        }
        assertThat(a100.ancestor(0, 2)).as("the pairs sit on two NUMA nodes").isEqualTo(GpuTopology.SYSTEM);
        driver.close();

        GpuTopology rig = readShipped("rig-2x-rtx3090.conf");
        assertThat(rig.nvswitch()).isFalse();
        assertThat(rig.nvlinks(0, 1)).as("no NVLink bridge on this rig: PCIe only").isZero();
        assertThat(rig.ancestor(0, 1)).isIn(GpuTopology.SINGLE, GpuTopology.MULTIPLE, GpuTopology.HOSTBRIDGE,
                GpuTopology.NODE, GpuTopology.SYSTEM);
    }

    @Test
    void aSubsetIsReadInTheOrderGivenAndAnUnknownUuidIsATypedError() throws Exception {
        GpuTopology all = read(gpus("a100-80gb-pcie", 4, "nvlink_bridge = 1\n", "nvlink_bridge = 0\n",
                "nvlink_bridge = 3\n", "nvlink_bridge = 2\n"));
        List<String> u = uuids();
        GpuTopology sub = driver.topology(List.of(u.get(3), u.get(1), u.get(2)));
        assertThat(sub.uuids()).containsExactly(u.get(3), u.get(1), u.get(2));
        assertThat(sub.nvlinks(0, 2)).as("3 and 2 are bridged").isEqualTo(all.nvlinks(3, 2)).isEqualTo(12);
        assertThat(sub.nvlinks(0, 1)).isZero();
        assertThatThrownBy(() -> driver.topology(List.of(u.get(0), "GPU-00000000-0000-0000-0000-000000000000")))
                .isInstanceOf(io.gpuagent.gpu.GpuException.class).hasMessageContaining("no reachable GPU");
    }
}

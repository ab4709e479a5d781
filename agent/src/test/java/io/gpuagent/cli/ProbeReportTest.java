package io.gpuagent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.gpu.DriverInfo;
import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuHealth;
import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.gpu.MigInstance;
import io.gpuagent.gpu.MigProfile;
import io.gpuagent.gpu.MigState;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The probe's MIG and topology output, table and JSON, from values (no library). */
class ProbeReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DriverInfo DRIVER = new DriverInfo("/lib/libnvidia-ml.so.1", true, "550.54.15", "12.550.54.15",
            "12.4");

    private static GpuDevice gpu(int i) {
        return new GpuDevice(i, "NVIDIA H100 80GB HBM3", "GPU-0000000" + i + "-0000-0000-0000-000000000000", null,
                String.format("00000000:%02X:00.0", 0x18 + i), "0x233010DE", 85_520_809_984L, "9.0", "HOPPER", "NVIDIA",
                "enabled", "enabled", 700_000L, 700_000L, 200_000L, 700_000L, 5, 16, 5, 16, 1980, 2619, 0, i);
    }

    private static final MigProfile P1G = new MigProfile(0, 19, "1g.10gb", 1, 10_200_547_328L, 7);
    private static final MigProfile P3G = new MigProfile(2, 9, "3g.40gb", 3, 42_144_366_592L, 2);

    private static ProbeReport report() {
        MigState mig0 = new MigState(true, true, List.of(P1G, P3G), List.of(
                new MigInstance("MIG-11111111-2222-3333-4444-555555555555", gpu(0).uuid(), 0, 2, 0, "3g.40gb", 3,
                        42_144_366_592L, 4, 4)));
        MigState mig1 = new MigState(false, true, List.of(), List.of());
        int[][] anc = {{0, 10, 50}, {10, 0, 50}, {50, 50, 0}};
        int[][] nv = {{0, 12, 0}, {12, 0, 0}, {0, 0, 0}};
        GpuTopology t = new GpuTopology(List.of(gpu(0).uuid(), gpu(1).uuid(), gpu(2).uuid()), anc, nv, false);
        return new ProbeReport(DRIVER, List.of(
                new ProbeReport.Entry(gpu(0), null, GpuHealth.HEALTHY, null, mig0, null),
                new ProbeReport.Entry(gpu(1), null, GpuHealth.HEALTHY, null, mig1, null),
                new ProbeReport.Entry(gpu(2), null, GpuHealth.HEALTHY, null, null, null)), List.of(), t, null);
    }

    @Test
    void theJsonHasMigAndTopologyInSnakeCaseAndKeepsItsEarlierFields() throws Exception {
        JsonNode root = JSON.readTree(report().toJson());
        assertThat(root.get("driverVersion").asText()).isEqualTo("550.54.15");
        JsonNode g0 = root.get("gpus").get(0);
        assertThat(g0.get("migMode").asText()).as("the earlier field stays").isEqualTo("enabled");
        JsonNode mig = g0.get("mig");
        assertThat(mig.get("current").asBoolean()).isTrue();
        assertThat(mig.get("reset_pending").asBoolean()).isFalse();
        assertThat(mig.get("profiles").get(1).get("profile_index").asInt()).isEqualTo(2);
        assertThat(mig.get("profiles").get(1).get("id").asInt()).isEqualTo(9);
        assertThat(mig.get("profiles").get(1).get("instance_count").asInt()).isEqualTo(2);
        JsonNode inst = mig.get("instances").get(0);
        assertThat(inst.get("uuid").asText()).isEqualTo("MIG-11111111-2222-3333-4444-555555555555");
        assertThat(inst.get("gpu_instance_id").asInt()).isEqualTo(2);
        assertThat(inst.get("compute_instance_id").asInt()).isZero();
        assertThat(inst.get("profile").asText()).isEqualTo("3g.40gb");
        assertThat(inst.get("memory_bytes").asLong()).isEqualTo(42_144_366_592L);
        assertThat(inst.get("memory_used_bytes").isNull()).as("no sample in this report").isTrue();
        assertThat(root.get("gpus").get(1).get("mig").get("reset_pending").asBoolean()).isTrue();
        assertThat(root.get("gpus").get(2).get("mig").isNull()).as("no MIG on that card").isTrue();
        assertThat(root.get("gpus").get(2).has("mig_error")).isTrue();

        JsonNode topo = root.get("topology");
        assertThat(topo.get("nvswitch").asBoolean()).isFalse();
        assertThat(topo.get("matrix").toString()).isEqualTo("[[\"X\",\"NV12\",\"SYS\"],[\"NV12\",\"X\",\"SYS\"],"
                + "[\"SYS\",\"SYS\",\"X\"]]");
        assertThat(topo.get("nvlinks").get(0).get(1).asInt()).isEqualTo(12);
        assertThat(topo.get("common_ancestor").get(0).get(1).asInt()).isEqualTo(GpuTopology.SINGLE);
        assertThat(root.get("topology_error").isNull()).isTrue();
    }

    @Test
    void theTableListsInstancesLikeNvidiaSmiAndTheMatrixLikeTopoM() {
        String table = report().toTable();
        assertThat(table).contains("MIG on GPU 0: enabled, pending enabled\n")
                .contains("MIG on GPU 1: disabled, pending enabled (takes effect after a GPU reset)\n")
                .contains("  profiles: 1g.10gb x7, 3g.40gb x2\n")
                .containsPattern("MIG 3g\\.40gb +GI 2 +CI 0 +39\\.3 GiB  placement 4:4  \\(UUID: MIG-11111111-");
        assertThat(table).doesNotContain("MIG on GPU 2").doesNotContain("MIG-capable");
        // the GPU list keeps its one line per GPU (scripts count "GPU n:" lines)
        assertThat(table.lines().filter(l -> l.matches("GPU \\d+: .*")).count()).isEqualTo(3);
        assertThat(table).contains("\tGPU0\tGPU1\tGPU2\n")
                .contains("GPU0\t   X\tNV12\t SYS\n")
                .contains("GPU2\t SYS\t SYS\t   X\n")
                .contains("NV#  = Connection traversing a bonded set of # NVLinks");
    }

    @Test
    void pcieLevelsReadAsNvidiaSmiNamesThem() {
        assertThat(GpuTopology.levelName(GpuTopology.SINGLE)).isEqualTo("PIX");
        assertThat(GpuTopology.levelName(GpuTopology.MULTIPLE)).isEqualTo("PXB");
        assertThat(GpuTopology.levelName(GpuTopology.HOSTBRIDGE)).isEqualTo("PHB");
        assertThat(GpuTopology.levelName(GpuTopology.NODE)).isEqualTo("NODE");
        assertThat(GpuTopology.levelName(GpuTopology.SYSTEM)).isEqualTo("SYS");
        assertThat(GpuTopology.levelName(-1)).isEqualTo("N/A");
    }

    @Test
    void aTopologyThatCouldNotBeReadSaysWhyAndTheEarlierShapeStands() throws Exception {
        ProbeReport r = new ProbeReport(DRIVER, List.of(new ProbeReport.Entry(gpu(0), null, GpuHealth.UNKNOWN,
                "hung")), List.of(), null, "NVML call topology on GPU 0 did not return within 5000 ms");
        JsonNode root = JSON.readTree(r.toJson());
        assertThat(root.get("topology").isNull()).isTrue();
        assertThat(root.get("topology_error").asText()).contains("did not return");
        assertThat(r.toTable()).contains("Topology: not read (NVML call topology on GPU 0 did not return");
    }
}

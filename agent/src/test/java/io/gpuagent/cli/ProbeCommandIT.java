package io.gpuagent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.testsupport.AgentProcess;
import io.gpuagent.testsupport.SimNvml;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** `gpu-agent probe` as an owner runs it: the packaged jar, a separate JVM, the simulated NVML. */
class ProbeCommandIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static Map<String, String> sim(String machine) {
        return Map.of("GPU_AGENT_SIM_CONFIG", SimNvml.machine(machine).toString());
    }

    @ParameterizedTest
    @CsvSource({
        "gaming-pc-rtx4090.conf, 1, NVIDIA GeForce RTX 4090",
        "rig-2x-rtx3090.conf, 2, NVIDIA GeForce RTX 3090",
        "server-8x-h100.conf, 8, NVIDIA H100 80GB HBM3",
        "server-4x-a100.conf, 4, NVIDIA A100 80GB PCIe",
        "server-8x-h200.conf, 8, NVIDIA H200"})
    void probeJsonPrintsWhatTheMachineFileDescribes(String machine, int count, String name) throws Exception {
        AgentProcess.Result r = AgentProcess.run(sim(machine), "probe", "--json", "--nvml-library", SimNvml.library());
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        JsonNode root = JSON.readTree(r.stdout());
        assertThat(root.get("simulated").asBoolean()).as("simulated GPUs are flagged").isTrue();
        assertThat(root.get("driverVersion").asText()).isEqualTo("550.54.15");
        assertThat(root.get("gpus")).hasSize(count);
        List<String> uuids = new ArrayList<>();
        for (JsonNode g : root.get("gpus")) {
            assertThat(g.get("name").asText()).isEqualTo(name);
            assertThat(g.get("health").asText()).isEqualTo("HEALTHY");
            assertThat(g.get("telemetry").get("temperatureC").asInt()).isBetween(20, 100);
            uuids.add(g.get("uuid").asText());
        }
        assertThat(uuids).doesNotHaveDuplicates();
        boolean geforce = name.contains("GeForce");
        JsonNode first = root.get("gpus").get(0);
        assertThat(first.get("serial").isNull()).as("GeForce has no serial").isEqualTo(geforce);
        assertThat(first.get("eccMode").isNull()).isEqualTo(geforce);
        assertThat(first.get("telemetry").get("fanPercent").isNull()).as("SXM and passive PCIe data-center cards have no fan").isEqualTo(!geforce);
    }

    @Test
    void theEightH100ServerHasItsHgxBusIdsAndTheTableReadsLikeNvidiaSmi() throws Exception {
        AgentProcess.Result r = AgentProcess.run(sim("server-8x-h100.conf"), "probe", "--json",
                "--nvml-library", SimNvml.library());
        List<String> buses = new ArrayList<>();
        JSON.readTree(r.stdout()).get("gpus").forEach(g -> buses.add(g.get("pciBusId").asText()));
        assertThat(buses).containsExactly("00000000:18:00.0", "00000000:2A:00.0", "00000000:3A:00.0",
                "00000000:5D:00.0", "00000000:9A:00.0", "00000000:AB:00.0", "00000000:BA:00.0", "00000000:DB:00.0");

        AgentProcess.Result table = AgentProcess.run(sim("server-8x-h100.conf"), "probe",
                "--nvml-library", SimNvml.library());
        assertThat(table.exitCode()).isZero();
        assertThat(table.stdout()).contains("SIMULATED").containsPattern("(?m)^GPU 7: NVIDIA H100 80GB HBM3 \\(UUID: GPU-")
                .contains("HEALTHY").contains("0000:DB:00.0");
        assertThat(table.stdout().lines().filter(l -> l.matches("GPU \\d+: .*")).count()).isEqualTo(8);
    }

    @Test
    void probeShowsMigInstancesAndTheTopologyMatrixInJsonAndTable() throws Exception {
        Path m = dir.resolve("m.conf");
        Files.writeString(m, "nvlink = nvswitch\n"
                + "[gpu]\nprofile = h100-80gb-hbm3\nmig = enabled\nmig_instances = 3g.40gb, 1g.10gb\nnuma_node = 0\n"
                + "[gpu]\nprofile = h100-80gb-hbm3\nnuma_node = 0\n"
                + "[gpu]\nprofile = h100-80gb-hbm3\nnuma_node = 1\n");
        Map<String, String> env = Map.of("GPU_AGENT_SIM_CONFIG", m.toString());
        AgentProcess.Result r = AgentProcess.run(env, "probe", "--json", "--nvml-library", SimNvml.library());
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        JsonNode root = JSON.readTree(r.stdout());
        JsonNode mig = root.get("gpus").get(0).get("mig");
        assertThat(mig.get("current").asBoolean()).isTrue();
        assertThat(mig.get("profiles")).hasSize(7);
        assertThat(mig.get("instances")).hasSize(2);
        List<String> profiles = new ArrayList<>();
        for (JsonNode i : mig.get("instances")) {
            profiles.add(i.get("profile").asText());
            assertThat(i.get("uuid").asText()).startsWith("MIG-");
            assertThat(i.get("memory_used_bytes").asLong() + i.get("memory_free_bytes").asLong())
                    .isLessThanOrEqualTo(i.get("memory_bytes").asLong());
        }
        assertThat(profiles).containsExactlyInAnyOrder("3g.40gb", "1g.10gb");
        assertThat(root.get("gpus").get(1).get("mig").get("current").asBoolean()).isFalse();
        assertThat(root.get("gpus").get(0).get("telemetry").has("migInstances")).as("under mig, not twice").isFalse();
        JsonNode topo = root.get("topology");
        assertThat(topo.get("nvswitch").asBoolean()).isTrue();
        assertThat(topo.get("matrix").toString()).isEqualTo(
                "[[\"X\",\"NV18\",\"NV18\"],[\"NV18\",\"X\",\"NV18\"],[\"NV18\",\"NV18\",\"X\"]]");
        assertThat(topo.get("common_ancestor").get(0).get(2).asInt()).isEqualTo(50);
        assertThat(root.get("topology_error").isNull()).isTrue();

        AgentProcess.Result table = AgentProcess.run(env, "probe", "--nvml-library", SimNvml.library());
        assertThat(table.stdout()).contains("MIG on GPU 0: enabled, pending enabled\n")
                .containsPattern("MIG 3g\\.40gb +GI \\d+ +CI 0 ").contains("MIG-capable, MIG disabled: GPU 1, 2\n")
                .contains("\tGPU0\tGPU1\tGPU2\n").contains("GPU0\t   X\tNV18\tNV18\n");
    }

    @Test
    void aGeForceRigHasNoMigAndAPcieOnlyMatrix() throws Exception {
        AgentProcess.Result r = AgentProcess.run(sim("rig-2x-rtx3090.conf"), "probe", "--json",
                "--nvml-library", SimNvml.library());
        JsonNode root = JSON.readTree(r.stdout());
        for (JsonNode g : root.get("gpus")) {
            assertThat(g.get("mig").isNull()).isTrue();
            assertThat(g.get("mig_error").isNull()).isTrue();
        }
        JsonNode cell = root.get("topology").get("matrix").get(0).get(1);
        assertThat(cell.asText()).as("GeForce: a PCIe level or an NVLink bridge, never N/A")
                .matches("PIX|PXB|PHB|NODE|SYS|NV\\d+");
        assertThat(root.get("topology").get("nvswitch").asBoolean()).isFalse();
    }

    @Test
    void aMissingLibraryExitsWith4AndSaysWhatToDo() throws Exception {
        Path missing = dir.resolve("nowhere/libnvidia-ml.so.1");
        AgentProcess.Result r = AgentProcess.run(Map.of(), "probe", "--nvml-library", missing.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.NVML_LIBRARY);
        assertThat(r.stderr()).contains(missing.toString()).contains("gpu.nvml_library");
        assertThat(r.stdout()).isEmpty();
    }

    @Test
    void aDriverMismatchExitsWith5() throws Exception {
        Path m = dir.resolve("m.conf");
        Files.writeString(m, Files.readString(SimNvml.machine("gaming-pc-rtx4090.conf")) + "\n[faults]\ninit driver_mismatch\n");
        AgentProcess.Result r = AgentProcess.run(Map.of("GPU_AGENT_SIM_CONFIG", m.toString()), "probe",
                "--nvml-library", SimNvml.library());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.NVML_INIT);
        assertThat(r.stderr()).contains("NVML_ERROR_LIB_RM_VERSION_MISMATCH").contains("reboot");
    }

    @Test
    void aLostGpuAtProbeTimeIsReportedAndTheOthersAreListed() throws Exception {
        Path m = dir.resolve("m.conf");
        Files.writeString(m, Files.readString(SimNvml.machine("rig-2x-rtx3090.conf")) + "\n[faults]\nlost 1\n");
        AgentProcess.Result r = AgentProcess.run(Map.of("GPU_AGENT_SIM_CONFIG", m.toString()), "probe", "--json",
                "--nvml-library", SimNvml.library());
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        JsonNode root = JSON.readTree(r.stdout());
        assertThat(root.get("gpus")).hasSize(1);
        assertThat(root.get("unanswered").get(0).asText()).contains("GPU 1").contains("lost");
    }

    @Test
    void badOrMissingConfigExitsWith3NamingTheKey() throws Exception {
        Path bad = dir.resolve("agent.toml");
        Files.writeString(bad, "[gpu]\ncall_timeout_ms = -5\n");
        AgentProcess.Result r = AgentProcess.run(Map.of(), "check", "--config", bad.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.CONFIG);
        assertThat(r.stderr()).contains("gpu.call_timeout_ms");

        AgentProcess.Result missing = AgentProcess.run(Map.of(), "run", "--config", dir.resolve("nope.toml").toString());
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.CONFIG);
        assertThat(missing.stderr()).contains("does not exist");

        AgentProcess.Result ok = AgentProcess.run(Map.of(), "check", "--config",
                SimNvml.repoRoot().resolve("config/agent.toml").toString());
        assertThat(ok.exitCode()).isZero();
        assertThat(ok.stdout()).contains("[gpu]").contains("sample_interval_ms = 1000");
    }

    @Test
    void versionAndHelp() throws Exception {
        AgentProcess.Result v = AgentProcess.run(Map.of(), "--version");
        assertThat(v.exitCode()).isZero();
        assertThat(v.stdout()).startsWith("gpu-agent 0.").contains("Java 17");
        AgentProcess.Result h = AgentProcess.run(Map.of(), "probe", "--help");
        assertThat(h.exitCode()).isZero();
        assertThat(h.stdout()).contains("--json").contains("--nvml-library");
        AgentProcess.Result none = AgentProcess.run(Map.of());
        assertThat(none.exitCode()).isEqualTo(ExitCodes.USAGE);
        AgentProcess.Result unknown = AgentProcess.run(Map.of(), "probe", "--jsn");
        assertThat(unknown.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknown.stderr()).contains("--jsn");
    }
}

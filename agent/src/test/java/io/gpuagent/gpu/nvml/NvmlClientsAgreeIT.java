package io.gpuagent.gpu.nvml;

import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.gpu.MigProfile;
import io.gpuagent.gpu.MigState;
import io.gpuagent.testsupport.SimNvml;
import io.gpuagent.util.Clock;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Any NVML client reads the same values from the simulated library as the agent: a C client
 * (dlopen/dlsym of the versioned symbols, native/test/nvml_client.c), a Python ctypes client and a
 * Rust client (nvml-wrapper-sys over libloading, native/test/rust_client, built by
 * {@code make -C native test}) are run on every simulated machine, and each field is compared
 * with what the JNA binding read.
 */
class NvmlClientsAgreeIT {

    @ParameterizedTest
    @ValueSource(strings = {"gaming-pc-rtx4090.conf", "rig-2x-rtx3090.conf", "server-8x-h100.conf",
        "server-4x-a100.conf", "server-8x-h200.conf", "mixed-lab.conf"})
    void cPythonAndRustClientsReadWhatTheAgentReads(String machine) throws Exception {
        Path m = SimNvml.machine(machine);
        List<String> c = clientsAgree(m);

        SimNvml.use(m, null);
        try (NvmlGpuDriver driver = NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM)) {
            Map<String, String> header = parse(c.get(0));
            assertThat(header.get("driver_version")).isEqualTo(driver.driverInfo().driverVersion());
            assertThat(header.get("nvml_version")).isEqualTo(driver.driverInfo().nvmlVersion());
            int cuda = Integer.parseInt(header.get("cuda_driver_version"));
            assertThat(cuda / 1000 + "." + (cuda % 1000) / 10).isEqualTo(driver.driverInfo().cudaDriverVersion());
            assertThat(Integer.parseInt(header.get("count"))).isEqualTo(driver.deviceCount()).isEqualTo(c.size() - 1);
            for (int i = 0; i < driver.deviceCount(); i++) {
                Map<String, String> f = parse(c.get(i + 1));
                GpuDevice d = driver.describe(i);
                String where = machine + " GPU " + i + " ";
                assertThat(Integer.parseInt(f.get("index"))).isEqualTo(d.index());
                assertThat(f.get("name")).as(where + "name").isEqualTo(d.name());
                assertThat(f.get("uuid")).as(where + "uuid").isEqualTo(d.uuid());
                assertThat(nullable(f.get("serial"))).as(where + "serial").isEqualTo(d.serial());
                assertThat(f.get("pci_bus_id")).as(where + "bus id").isEqualTo(d.pciBusId());
                assertThat(f.get("pci_device_id")).as(where + "device id").isEqualTo(d.pciDeviceId());
                assertThat(Long.parseLong(f.get("memory_total_bytes"))).as(where + "memory").isEqualTo(d.memoryTotalBytes());
                assertThat(f.get("cc")).as(where + "cc").isEqualTo(d.computeCapability());
                assertThat(mode(f.get("mig_current"))).as(where + "mig").isEqualTo(d.migMode());
                assertThat(mode(f.get("ecc_current"))).as(where + "ecc").isEqualTo(d.eccMode());
                assertThat(number(f.get("power_limit_mw"))).as(where + "power limit").isEqualTo(d.powerLimitMilliwatts());
                assertThat(number(f.get("power_default_limit_mw"))).isEqualTo(d.powerDefaultLimitMilliwatts());
                assertThat(number(f.get("power_min_limit_mw"))).isEqualTo(d.powerMinLimitMilliwatts());
                assertThat(number(f.get("power_max_limit_mw"))).isEqualTo(d.powerMaxLimitMilliwatts());
                assertThat(integer(f.get("pcie_max_gen"))).isEqualTo(d.pcieMaxGeneration());
                assertThat(integer(f.get("pcie_max_width"))).isEqualTo(d.pcieMaxWidth());
                assertThat(integer(f.get("max_sm_clock_mhz"))).isEqualTo(d.maxSmClockMhz());
                assertThat(integer(f.get("max_mem_clock_mhz"))).isEqualTo(d.maxMemClockMhz());
                assertThat(integer(f.get("fan_count"))).isEqualTo(d.fanCount());
                assertThat(NvmlNames.architecture(integer(f.get("arch")))).isEqualTo(d.architecture());
                assertThat(NvmlNames.brand(integer(f.get("brand")))).isEqualTo(d.brand());
            }
        } finally {
            SimNvml.unsetConfig();
        }
    }

    /**
     * MIG as the clients read it ({@code nvml_client <lib> mig}): the modes, every profile with its
     * figures, the GPU and compute instances, and the MIG devices' UUIDs and memory, equal what
     * the agent reads.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gaming-pc-rtx4090.conf", "server-8x-h100.conf", "server-8x-h100-mig.conf",
        "server-4x-a100.conf", "server-8x-h200.conf", "mixed-lab.conf"})
    void migAsTheClientsReadIt(String machine) throws Exception {
        Path m = SimNvml.machine(machine);
        List<String> c = clientsAgree(m, "mig");
        SimNvml.use(m, null);
        int instancesSeen = 0;
        try (NvmlGpuDriver driver = NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM)) {
            for (int gpu = 0; gpu < driver.deviceCount(); gpu++) {
                final int i = gpu;
                String idx = "index=" + i + " ";
                List<Map<String, String>> lines = c.stream().filter(l -> l.startsWith(idx)).map(
                        NvmlClientsAgreeIT::parse).toList();
                MigState s = driver.mig(i);
                String where = machine + " GPU " + i + " ";
                if (lines.isEmpty() || "NOT_SUPPORTED".equals(lines.get(0).get("mig_current"))) {
                    assertThat(s).as(where + "no MIG").isNull();
                    continue;
                }
                Map<String, String> mode = lines.get(0);
                assertThat(s.current()).as(where + "current").isEqualTo(mode.get("mig_current").equals("1"));
                assertThat(s.pending()).as(where + "pending").isEqualTo(mode.get("mig_pending").equals("1"));
                List<MigProfile> profiles = new java.util.ArrayList<>();
                Map<Integer, String> profileById = new HashMap<>();
                List<String> expectedInstances = new java.util.ArrayList<>();
                Map<Integer, String> giLine = new HashMap<>();
                for (Map<String, String> f : lines) {
                    if (f.containsKey("profile") && f.containsKey("slices")) {
                        String name = f.get("name").replaceFirst("^MIG ", "");
                        profiles.add(new MigProfile(Integer.parseInt(f.get("profile")), Integer.parseInt(f.get("id")),
                                name, Integer.parseInt(f.get("slices")), Long.parseLong(f.get("memory_mib")) << 20,
                                Integer.parseInt(f.get("instances"))));
                        profileById.put(Integer.parseInt(f.get("id")), name);
                    } else if (f.containsKey("gpu_instance") && f.containsKey("profile_id")
                            && !f.containsKey("compute_instance")) {
                        giLine.put(Integer.parseInt(f.get("gpu_instance")), f.get("profile_id") + "@" + f.get("placement"));
                    } else if (f.containsKey("mig_device")) {
                        int gi = Integer.parseInt(f.get("gpu_instance"));
                        String[] pp = giLine.get(gi).split("@");
                        String[] placement = pp[1].split(":");
                        expectedInstances.add(f.get("uuid") + " gi=" + gi + " ci=" + f.get("compute_instance")
                                + " profile=" + profileById.get(Integer.parseInt(pp[0])) + " memory="
                                + f.get("memory_total_bytes") + " placement=" + placement[0] + ":" + placement[1]);
                    }
                }
                assertThat(s.profiles()).as(where + "profiles")
                        .containsExactlyInAnyOrderElementsOf(profiles);
                assertThat(s.instances().stream().map(x -> x.uuid() + " gi=" + x.gpuInstanceId() + " ci="
                        + x.computeInstanceId() + " profile=" + x.profile() + " memory=" + x.memoryBytes()
                        + " placement=" + x.placementStart() + ":" + x.placementSize()))
                        .as(where + "instances and their MIG UUIDs").containsExactlyInAnyOrderElementsOf(expectedInstances);
                String parent = driver.describe(i).uuid();
                assertThat(s.instances()).allMatch(x -> x.parentUuid().equals(parent) && x.parentIndex() == i);
                instancesSeen += expectedInstances.size();
            }
        } finally {
            SimNvml.unsetConfig();
        }
        if (machine.equals("server-8x-h100-mig.conf")) {
            assertThat(instancesSeen).as("the MIG machine file has instances to compare").isPositive();
        }
    }

    /**
     * The topology as the clients read it ({@code nvml_client <lib> topology}, cells as in
     * {@code nvidia-smi topo -m}): the NVLink counts and PCIe levels equal the agent's matrix.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gaming-pc-rtx4090.conf", "rig-2x-rtx3090.conf", "server-8x-h100.conf",
        "server-4x-a100.conf", "server-8x-h200.conf", "mixed-lab.conf"})
    void topologyAsTheClientsReadIt(String machine) throws Exception {
        Path m = SimNvml.machine(machine);
        List<String> c = clientsAgree(m, "topology");
        SimNvml.use(m, null);
        try (NvmlGpuDriver driver = NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM)) {
            List<String> uuids = new java.util.ArrayList<>();
            for (int i = 0; i < driver.deviceCount(); i++) {
                uuids.add(driver.describe(i).uuid());
            }
            GpuTopology t = driver.topology(uuids);
            for (int i = 0; i < t.size(); i++) {
                Map<String, String> f = parse(c.get(i + 1));
                String[] topo = f.get("topo").split(",");
                String[] pcie = f.get("pcie").split(",");
                for (int j = 0; j < t.size(); j++) {
                    String where = machine + " GPU " + i + "-" + j;
                    assertThat(GpuTopology.levelName(t.ancestor(i, j))).as(where + " PCIe").isEqualTo(pcie[j]);
                    String cell = i == j ? "X" : t.nvlinks(i, j) > 0 ? "NV" + t.nvlinks(i, j) : GpuTopology.levelName(t.ancestor(i, j));
                    assertThat(cell).as(where + " topo").isEqualTo(topo[j]);
                }
            }
            assertThat(t.nvswitch()).isEqualTo(machine.startsWith("server-8x"));
        } finally {
            SimNvml.unsetConfig();
        }
    }

    /**
     * Runs the C, Python and Rust clients on the machine file ({@code section}: none for the
     * inventory, or {@code mig} / {@code topology}), asserts the three print the same lines, and
     * returns them.
     */
    private static List<String> clientsAgree(Path m, String... section) throws Exception {
        Path repo = SimNvml.repoRoot();
        List<String> c = run(m, with(section, repo.resolve("native/build/nvml_client").toString(), SimNvml.library()));
        List<String> py = run(m, with(section, "python3", repo.resolve("native/test/nvml_client.py").toString(),
                SimNvml.library()));
        assertThat(py).as("the Python client prints what the C client prints").isEqualTo(c);
        List<String> rs = run(m, with(section, rustClient(repo), SimNvml.library()));
        assertThat(rs).as("the Rust client prints what the C client prints").isEqualTo(c);
        return c;
    }

    private static String[] with(String[] section, String... command) {
        String[] all = java.util.Arrays.copyOf(command, command.length + section.length);
        System.arraycopy(section, 0, all, command.length, section.length);
        return all;
    }

    /** The Rust client's binary, which {@code make -C native test} (or {@code rust-client}) builds. */
    private static String rustClient(Path repo) {
        Path bin = repo.resolve("native/build/nvml_client_rs");
        assertThat(Files.isExecutable(bin)).as("Rust NVML client " + bin + " not built: run `make -C native test` or "
                + "`make -C native rust-client` (needs cargo and apt-get install librust-nvml-wrapper-sys-dev)").isTrue();
        return bin.toString();
    }

    private static List<String> run(Path machine, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("GPU_AGENT_SIM_CONFIG", machine.toString());
        pb.environment().remove("GPU_AGENT_SIM_CONTROL");
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", cmd) + " exit code").isZero();
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    private static Map<String, String> parse(String line) {
        Map<String, String> m = new HashMap<>();
        for (String kv : line.trim().split(" ")) {
            int eq = kv.indexOf('=');
            // the clients escape spaces as %20 and leave '+' as it is ("1g.10gb+me"), unlike a form
            m.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1).replace("+", "%2B"),
                    StandardCharsets.UTF_8));
        }
        return m;
    }

    private static String nullable(String v) {
        return "NOT_SUPPORTED".equals(v) ? null : v;
    }

    private static String mode(String v) {
        return v == null || "NOT_SUPPORTED".equals(v) ? null : (v.equals("1") ? "enabled" : "disabled");
    }

    private static Long number(String v) {
        return nullable(v) == null ? null : Long.parseLong(v);
    }

    private static Integer integer(String v) {
        return nullable(v) == null ? null : Integer.parseInt(v);
    }
}

package io.gpuagent.cli;

import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.testsupport.AgentProcess;
import io.gpuagent.testsupport.SimNvml;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `gpu-agent run` in its own JVM: a start that fails exits with the code the README's table gives,
 * not 0. The shutdown hook that turns a drained SIGTERM into a clean 0 used to turn every failed
 * start into 0 as well, so systemd's Restart=on-failure never restarted such an agent.
 */
class RunExitCodesIT {
    @TempDir
    Path dir;

    @Test
    void aMissingNvmlLibraryExits4() throws Exception {
        AgentProcess.Result r = AgentProcess.run(Map.of(), "run", "--set", "gpu.nvml_library=" + dir.resolve("none.so"),
                "--set", "agent.state_dir=" + dir.resolve("state"), "--set", "metrics.enabled=false");
        assertThat(r.exitCode()).as(r.stderr()).isEqualTo(ExitCodes.NVML_LIBRARY);
        assertThat(r.stderr()).contains("none.so");
    }

    @Test
    void anUnreachableDockerExits6AndSaysWhatToDo() throws Exception {
        AgentProcess.Result r = AgentProcess.run(Map.of("GPU_AGENT_SIM_CONFIG", SimNvml.repoRoot()
                        .resolve("config/sim/gaming-pc-rtx4090.conf").toString()), "run",
                "--set", "gpu.nvml_library=" + SimNvml.library(), "--set", "agent.state_dir=" + dir.resolve("state"),
                "--set", "metrics.enabled=false", "--set", "docker.socket=" + dir.resolve("no-docker.sock"));
        assertThat(r.exitCode()).as(r.stderr()).isEqualTo(ExitCodes.FATAL);
        assertThat(r.stderr()).contains("Docker does not answer at " + dir.resolve("no-docker.sock"))
                .contains("sessions.enabled = false");
    }

    @Test
    void aMigLayoutTheCardsCannotHoldExits3BeforeAnyGpuChanges() throws Exception {
        Map<String, String> env = Map.of("GPU_AGENT_SIM_CONFIG", SimNvml.repoRoot()
                .resolve("config/sim/server-8x-h100-mig.conf").toString());
        AgentProcess.Result bad = AgentProcess.run(env, "run", "--set", "gpu.nvml_library=" + SimNvml.library(),
                "--set", "agent.state_dir=" + dir.resolve("state"), "--set", "metrics.enabled=false",
                "--set", "sessions.enabled=false", "--set", "gpu.mig_layouts=1=7g.80gb 1g.10gb");
        assertThat(bad.exitCode()).as(bad.stderr()).isEqualTo(ExitCodes.CONFIG);
        assertThat(bad.stderr()).contains("gpu.mig_layouts").contains("8 compute slices").contains("the card has 7");
        AgentProcess.Result geforce = AgentProcess.run(Map.of("GPU_AGENT_SIM_CONFIG", SimNvml.repoRoot()
                        .resolve("config/sim/gaming-pc-rtx4090.conf").toString()), "run",
                "--set", "gpu.nvml_library=" + SimNvml.library(), "--set", "agent.state_dir=" + dir.resolve("state2"),
                "--set", "metrics.enabled=false", "--set", "sessions.enabled=false", "--set", "gpu.mig_layouts=0=1g.10gb");
        assertThat(geforce.exitCode()).as(geforce.stderr()).isEqualTo(ExitCodes.CONFIG);
        assertThat(geforce.stderr()).contains("has no MIG");
    }

    @Test
    void cpusPerGpuAboveTheMachinesExits3NamingTheKeyAndTheMachinesCount() throws Exception {
        AgentProcess.Result r = AgentProcess.run(Map.of("GPU_AGENT_SIM_CONFIG", SimNvml.repoRoot()
                        .resolve("config/sim/gaming-pc-rtx4090.conf").toString()), "run",
                "--set", "gpu.nvml_library=" + SimNvml.library(), "--set", "agent.state_dir=" + dir.resolve("state"),
                "--set", "metrics.enabled=false", "--set", "sessions.cpus_per_gpu=1024",
                "--set", "docker.socket=" + dir.resolve("no-docker.sock"));
        assertThat(r.exitCode()).as(r.stderr()).isEqualTo(ExitCodes.CONFIG);
        assertThat(r.stderr()).contains("sessions.cpus_per_gpu = 1024 can never launch")
                .contains("this machine has " + io.gpuagent.session.HostResources.read().cpus() + " CPUs");
    }
}

package io.gpuagent.bench;

import io.gpuagent.gpu.nvml.NvmlGpuDriver;
import io.gpuagent.util.Clock;

/** Opens the simulated NVML that scripts/bench.sh points the benchmarks at. */
final class SimulatedGpus {
    private SimulatedGpus() {
    }

    static NvmlGpuDriver open() throws Exception {
        String lib = System.getenv("GPU_AGENT_NVML_LIBRARY");
        if (lib == null || System.getenv("GPU_AGENT_SIM_CONFIG") == null) {
            throw new IllegalStateException("set GPU_AGENT_NVML_LIBRARY and GPU_AGENT_SIM_CONFIG (scripts/bench.sh does)");
        }
        return NvmlGpuDriver.open(lib, Clock.SYSTEM);
    }
}

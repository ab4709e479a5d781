package io.gpuagent.gpu.nvml;

import io.gpuagent.gpu.GpuDriver;
import io.gpuagent.gpu.GpuDriverContract;
import io.gpuagent.testsupport.SimNvml;
import io.gpuagent.util.Clock;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

/** The NVML driver, through JNA into the simulated C library, passes the same contract as the fake. */
class NvmlGpuDriverIT extends GpuDriverContract {
    @TempDir
    Path dir;
    private Path control;

    @Override
    protected GpuDriver newDriver() throws Exception {
        control = dir.resolve("control");
        Files.createFile(control);
        SimNvml.use(SimNvml.machine("server-8x-h100.conf"), control);
        return NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM);
    }

    @Override
    protected void lose(int index) throws Exception {
        SimNvml.command(control, "lost " + index);
        // the library re-reads the control file at most every ~50 ms
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> {
            try {
                driver.sample(index);
                return false;
            } catch (io.gpuagent.gpu.GpuLostException e) {
                return true;
            }
        });
    }
}

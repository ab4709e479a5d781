package io.gpuagent.gpu;

import java.util.List;
import java.util.Optional;

/** Every GPU on the machine and the driver that runs them, as probed at start. */
public record GpuInventory(DriverInfo driver, List<GpuDevice> gpus) {

    public GpuInventory {
        gpus = List.copyOf(gpus);
    }

    public Optional<GpuDevice> byUuid(String uuid) {
        return gpus.stream().filter(g -> g.uuid().equals(uuid)).findFirst();
    }
}

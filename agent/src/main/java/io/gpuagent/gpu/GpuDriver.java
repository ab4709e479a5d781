package io.gpuagent.gpu;

/**
 * The port to the GPU driver (NVML on real machines and in tests, through the simulated library).
 * Every method may block in native code, for ever if the driver hangs: callers go through
 * {@link DeviceCallGuard} (one thread per GPU, with a deadline) and never call it from a thread
 * that must stay responsive. Implementations are thread-safe.
 */
public interface GpuDriver extends AutoCloseable {

    DriverInfo driverInfo();

    int deviceCount();

    /** Probes the fixed facts of GPU {@code index}, caching what the card does not support. */
    GpuDevice describe(int index) throws GpuException;

    /** Reads all telemetry of GPU {@code index}; unsupported fields come back null. */
    GpuSample sample(int index) throws GpuException;

    /** Subscribes to XID and ECC events on every GPU that supports them. */
    GpuEventStream openEvents() throws GpuException;

    /** Shuts the driver library down; calls after this fail. */
    @Override
    void close();
}

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

    /**
     * The GPU's MIG state, or null when the card has no MIG (GeForce cards; a driver without the
     * MIG calls). Reads the instances that exist now.
     */
    default MigState mig(int index) throws GpuException {
        return null;
    }

    /**
     * Asks for MIG mode on or off. Returns true when the mode is in effect now, false when it is
     * pending until the GPU is reset (the driver's answer, see {@link MigState#resetPending()}).
     *
     * @throws GpuException when the card has no MIG or the driver refuses
     */
    default boolean setMigMode(int index, boolean enabled) throws GpuException {
        throw new GpuException("NVML_ERROR_NOT_SUPPORTED", "GPU " + index + ": this driver has no MIG support");
    }

    /**
     * Creates a GPU instance of the profile (by {@link MigProfile#profileIndex()}) with one compute
     * instance spanning it, and returns it. {@code placementStart} null lets the driver place it.
     *
     * @throws GpuException when MIG is off, the profile does not fit, or the driver refuses
     */
    default MigInstance createMigInstance(int index, int profileIndex, Integer placementStart) throws GpuException {
        throw new GpuException("NVML_ERROR_NOT_SUPPORTED", "GPU " + index + ": this driver has no MIG support");
    }

    /** Destroys a GPU instance and its compute instances (the driver refuses while a process uses it). */
    default void destroyMigInstance(int index, int gpuInstanceId) throws GpuException {
        throw new GpuException("NVML_ERROR_NOT_SUPPORTED", "GPU " + index + ": this driver has no MIG support");
    }

    /**
     * Each MIG instance's memory readings on GPU {@code index}; empty when MIG is off or absent.
     * {@link #sample} of a driver that has MIG already includes them ({@link GpuSample#migInstances()}).
     */
    default java.util.List<MigSample> migSamples(int index) throws GpuException {
        return java.util.List.of();
    }

    /** How the GPUs are linked (PCIe common ancestors, NVLink); {@link GpuTopology#unknown} when the driver cannot say. */
    default GpuTopology topology(java.util.List<String> uuids) throws GpuException {
        return GpuTopology.unknown(uuids);
    }

    /** Shuts the driver library down; calls after this fail. */
    @Override
    void close();
}

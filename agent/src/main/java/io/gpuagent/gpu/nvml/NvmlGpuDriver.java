package io.gpuagent.gpu.nvml;

import com.sun.jna.Memory;
import io.gpuagent.gpu.DriverInfo;
import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuDriver;
import io.gpuagent.gpu.GpuEventStream;
import io.gpuagent.gpu.GpuException;
import io.gpuagent.gpu.GpuSample;
import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.gpu.GpuUnavailableException;
import io.gpuagent.gpu.MigInstance;
import io.gpuagent.gpu.MigSample;
import io.gpuagent.gpu.MigState;
import io.gpuagent.gpu.nvml.NvmlDevice.Feature;
import io.gpuagent.util.Clock;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link GpuDriver} over NVIDIA's NVML through JNA: the only code that touches the native ABI.
 *
 * <p>Life cycle: {@link #open(String, Clock)} loads the library, resolves symbols and calls
 * {@code nvmlInit_v2}; nothing native happens at class load, so a machine without a driver gets a
 * clear {@link GpuUnavailableException} instead of a linkage error. {@link #close()} calls
 * {@code nvmlShutdown} once.
 */
public final class NvmlGpuDriver implements GpuDriver {
    static final int NAME_BUFFER = 96;
    static final int UUID_BUFFER = 96;
    static final int SERIAL_BUFFER = 30;
    static final int VERSION_BUFFER = 80;

    private final NvmlLibrary library;
    private final NvmlFunctions fn;
    private final Clock clock;
    private final DriverInfo driverInfo;
    private final List<NvmlDevice> devices;
    private final NvmlTelemetryReader reader;
    private final NvmlMig mig;
    private final NvmlMigLayout migLayout;
    private final NvmlTopology topology;
    private final AtomicBoolean closed = new AtomicBoolean();

    private NvmlGpuDriver(NvmlLibrary library, NvmlFunctions fn, Clock clock) throws GpuException {
        this.library = library;
        this.fn = fn;
        this.clock = clock;
        this.driverInfo = readDriverInfo();
        this.devices = enumerate();
        this.reader = new NvmlTelemetryReader(fn, clock);
        this.mig = new NvmlMig(fn);
        this.migLayout = new NvmlMigLayout(fn, mig);
        this.topology = new NvmlTopology(fn);
    }

    /**
     * Loads NVML from {@code libraryPath} (null or blank: the system's {@code libnvidia-ml.so.1})
     * and initialises it.
     */
    public static NvmlGpuDriver open(String libraryPath, Clock clock) throws GpuUnavailableException {
        NvmlLibrary lib = NvmlLibrary.load(libraryPath);
        NvmlFunctions fns = new NvmlFunctions(lib);
        NvmlReturn r = NvmlCall.invoke(fns.init);
        if (r != NvmlReturn.SUCCESS) {
            throw new GpuUnavailableException(GpuUnavailableException.Kind.INIT, r.nvmlName(),
                    "NVML initialisation (" + fns.init.getName() + " in " + lib.path() + ") failed: " + r.nvmlName()
                            + " (" + r.message() + "). " + initAdvice(r), null);
        }
        try {
            return new NvmlGpuDriver(lib, fns, clock);
        } catch (GpuException e) {
            NvmlCall.invoke(fns.shutdown);
            throw new GpuUnavailableException(GpuUnavailableException.Kind.INIT, e.code(),
                    "NVML initialised but enumerating GPUs failed: " + e.getMessage(), e);
        }
    }

    private static String initAdvice(NvmlReturn r) {
        return switch (r) {
            case ERROR_DRIVER_NOT_LOADED -> "The NVIDIA kernel driver is not loaded: check `lsmod | grep nvidia` "
                    + "and `dmesg`, or reinstall the driver.";
            case ERROR_LIB_RM_VERSION_MISMATCH -> "The user-space library and the kernel driver are different "
                    + "versions (usually after a driver upgrade without a reboot): reboot, or reload the nvidia "
                    + "kernel modules.";
            case ERROR_NO_PERMISSION -> "The agent may not open /dev/nvidia*: check the unit's DeviceAllow= lines "
                    + "and the device permissions.";
            default -> "See `dmesg` and `nvidia-smi` for what the driver says.";
        };
    }

    private DriverInfo readDriverInfo() {
        byte[] buf = new byte[VERSION_BUFFER];
        String driver = NvmlCall.invoke(fn.systemGetDriverVersion, buf, buf.length) == NvmlReturn.SUCCESS
                ? NvmlDevice.cString(buf) : null;
        byte[] buf2 = new byte[VERSION_BUFFER];
        String nvml = NvmlCall.invoke(fn.systemGetNvmlVersion, buf2, buf2.length) == NvmlReturn.SUCCESS
                ? NvmlDevice.cString(buf2) : null;
        Memory out = new Memory(8);
        String cuda = NvmlCall.invoke(fn.systemGetCudaDriverVersion, out) == NvmlReturn.SUCCESS
                ? DriverInfo.formatCudaVersion(out.getInt(0)) : null;
        return new DriverInfo(library.path(), fn.simulatedMarker != null, driver, nvml, cuda);
    }

    private List<NvmlDevice> enumerate() throws GpuException {
        Memory out = new Memory(8);
        NvmlCall.check("nvmlDeviceGetCount", fn.deviceGetCount, out);
        int count = out.getInt(0);
        List<NvmlDevice> list = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Memory h = new Memory(com.sun.jna.Native.POINTER_SIZE);
            NvmlReturn r = NvmlCall.invoke(fn.deviceGetHandleByIndex, i, h);
            if (r == NvmlReturn.SUCCESS) {
                list.add(new NvmlDevice(i, h.getPointer(0)));
            } else if (r == NvmlReturn.ERROR_GPU_IS_LOST || r == NvmlReturn.ERROR_NO_PERMISSION
                    || r == NvmlReturn.ERROR_INSUFFICIENT_POWER || r == NvmlReturn.ERROR_IRQ_ISSUE) {
                // one bad GPU must not hide the others: it is reported when described
                list.add(NvmlDevice.unreachable(i, r));
            } else {
                throw NvmlCall.failure("nvmlDeviceGetHandleByIndex(" + i + ")", r);
            }
        }
        return List.copyOf(list);
    }

    @Override
    public DriverInfo driverInfo() {
        return driverInfo;
    }

    @Override
    public int deviceCount() {
        return devices.size();
    }

    NvmlDevice device(int index) {
        if (index < 0 || index >= devices.size()) {
            throw new IllegalArgumentException("no GPU with index " + index + " (this machine has "
                    + devices.size() + ")");
        }
        return devices.get(index);
    }

    @Override
    public GpuDevice describe(int index) throws GpuException {
        ensureOpen();
        NvmlDevice d = device(index);
        d.checkReachable();
        synchronized (d) {
            byte[] uuidBuf = new byte[UUID_BUFFER];
            NvmlReturn r = NvmlCall.invoke(fn.deviceGetUuid, d.handle, uuidBuf, uuidBuf.length);
            if (r != NvmlReturn.SUCCESS) {
                throw NvmlCall.failure("nvmlDeviceGetUUID(" + index + ")", r);
            }
            d.uuid = NvmlDevice.cString(uuidBuf);
            String name = d.string(Feature.NAME, fn.deviceGetName, NAME_BUFFER);
            String serial = d.string(Feature.SERIAL, fn.deviceGetSerial, SERIAL_BUFFER);

            NvmlStructs.PciInfo pci = new NvmlStructs.PciInfo();
            String busId = null;
            String deviceId = null;
            if (d.call(Feature.PCI_INFO, fn.deviceGetPciInfo, pci) == NvmlReturn.SUCCESS) {
                busId = NvmlDevice.cString(pci.busId);
                deviceId = String.format("0x%08X", pci.pciDeviceId);
            }
            long total = memoryTotal(d);
            String cc = null;
            if (d.call(Feature.COMPUTE_CAPABILITY, fn.deviceGetCudaComputeCapability, d.scratch,
                    d.scratch.share(4)) == NvmlReturn.SUCCESS) {
                cc = d.scratch.getInt(0) + "." + d.scratch.getInt(4);
            }
            Integer arch = d.uint(Feature.ARCHITECTURE, fn.deviceGetArchitecture);
            Integer brand = d.uint(Feature.BRAND, fn.deviceGetBrand);
            String mig = null;
            if (d.call(Feature.MIG_MODE, fn.deviceGetMigMode, d.scratch, d.scratch.share(4)) == NvmlReturn.SUCCESS) {
                mig = d.scratch.getInt(0) == 1 ? "enabled" : "disabled";
            }
            String ecc = null;
            if (d.call(Feature.ECC_MODE, fn.deviceGetEccMode, d.scratch, d.scratch.share(4)) == NvmlReturn.SUCCESS) {
                ecc = d.scratch.getInt(0) == 1 ? "enabled" : "disabled";
            }
            Long limit = unsigned(d.uint(Feature.POWER_LIMIT, fn.deviceGetPowerManagementLimit));
            Long defLimit = unsigned(d.uint(Feature.POWER_DEFAULT_LIMIT, fn.deviceGetPowerManagementDefaultLimit));
            Long minLimit = null;
            Long maxLimit = null;
            if (d.call(Feature.POWER_LIMIT_CONSTRAINTS, fn.deviceGetPowerManagementLimitConstraints, d.scratch,
                    d.scratch.share(4)) == NvmlReturn.SUCCESS) {
                minLimit = Integer.toUnsignedLong(d.scratch.getInt(0));
                maxLimit = Integer.toUnsignedLong(d.scratch.getInt(4));
            }
            return new GpuDevice(index, name, d.uuid, serial, busId, deviceId, total, cc,
                    NvmlNames.architecture(arch), NvmlNames.brand(brand), mig, ecc, limit, defLimit, minLimit, maxLimit,
                    d.uint(Feature.PCIE_MAX_GEN, fn.deviceGetMaxPcieLinkGeneration),
                    d.uint(Feature.PCIE_MAX_WIDTH, fn.deviceGetMaxPcieLinkWidth),
                    d.uint(Feature.PCIE_CURR_GEN, fn.deviceGetCurrPcieLinkGeneration),
                    d.uint(Feature.PCIE_CURR_WIDTH, fn.deviceGetCurrPcieLinkWidth),
                    d.uint(Feature.MAX_SM_CLOCK, fn.deviceGetMaxClockInfo, NvmlTelemetryReader.CLOCK_SM),
                    d.uint(Feature.MAX_MEM_CLOCK, fn.deviceGetMaxClockInfo, NvmlTelemetryReader.CLOCK_MEM),
                    d.uint(Feature.NUM_FANS, fn.deviceGetNumFans),
                    d.uint(Feature.MINOR_NUMBER, fn.deviceGetMinorNumber));
        }
    }

    private long memoryTotal(NvmlDevice d) throws GpuException {
        long[] mem = reader.memory(d);
        if (mem == null) {
            throw new GpuException("NVML_ERROR_NOT_SUPPORTED", "GPU " + d.index + " reports no memory size");
        }
        return mem[0];
    }

    @Override
    public GpuSample sample(int index) throws GpuException {
        ensureOpen();
        NvmlDevice d = device(index);
        d.checkReachable();
        synchronized (d) {
            if (d.uuid == null) {
                describe(index);
            }
            GpuSample s = reader.read(d);
            List<MigSample> migs;
            try {
                migs = mig.samples(d);
            } catch (io.gpuagent.gpu.GpuLostException e) {
                throw e;
            } catch (GpuException e) {
                // the GPU's own reading stands; its instances are missing for this tick only
                d.transientErrors.increment();
                return s;
            }
            return migs.isEmpty() ? s : s.withMigInstances(migs);
        }
    }

    @Override
    public MigState mig(int index) throws GpuException {
        NvmlDevice d = described(index);
        synchronized (d) {
            return mig.state(d);
        }
    }

    @Override
    public boolean setMigMode(int index, boolean enabled) throws GpuException {
        NvmlDevice d = described(index);
        synchronized (d) {
            return migLayout.setMode(d, enabled);
        }
    }

    @Override
    public MigInstance createMigInstance(int index, int profileIndex, Integer placementStart) throws GpuException {
        NvmlDevice d = described(index);
        synchronized (d) {
            return migLayout.create(d, profileIndex, placementStart);
        }
    }

    @Override
    public void destroyMigInstance(int index, int gpuInstanceId) throws GpuException {
        NvmlDevice d = described(index);
        synchronized (d) {
            migLayout.destroy(d, gpuInstanceId);
        }
    }

    @Override
    public List<MigSample> migSamples(int index) throws GpuException {
        NvmlDevice d = described(index);
        synchronized (d) {
            return mig.samples(d);
        }
    }

    /**
     * The topology of the GPUs named (in that order). Touches every pair of them: run it on one
     * guarded NVML thread with a deadline, at start (it does not change while the machine runs).
     */
    @Override
    public GpuTopology topology(List<String> uuids) throws GpuException {
        ensureOpen();
        List<NvmlDevice> chosen = new ArrayList<>(uuids.size());
        for (String uuid : uuids) {
            NvmlDevice found = null;
            for (NvmlDevice d : devices) {
                if (d.handle != null && d.uuid == null) {
                    describe(d.index);
                }
                if (uuid.equals(d.uuid)) {
                    found = d;
                    break;
                }
            }
            if (found == null) {
                throw new GpuException(NvmlReturn.ERROR_NOT_FOUND.nvmlName(), "no reachable GPU with UUID " + uuid);
            }
            chosen.add(found);
        }
        return topology.read(uuids, chosen);
    }

    private NvmlDevice described(int index) throws GpuException {
        ensureOpen();
        NvmlDevice d = device(index);
        d.checkReachable();
        if (d.uuid == null) {
            describe(index);
        }
        return d;
    }

    @Override
    public GpuEventStream openEvents() throws GpuException {
        ensureOpen();
        return NvmlEventStream.open(fn, devices);
    }

    /** What each GPU answered NOT_SUPPORTED for (for `gpu-agent probe --verbose` and tests). */
    public Map<Integer, java.util.Set<String>> unsupportedFeatures() {
        Map<Integer, java.util.Set<String>> out = new java.util.TreeMap<>();
        for (NvmlDevice d : devices) {
            java.util.Set<String> names = new java.util.TreeSet<>();
            d.unsupportedFeatures().forEach(f -> names.add(f.name().toLowerCase()));
            out.put(d.index, names);
        }
        return out;
    }

    /** Calls that failed with an error other than NOT_SUPPORTED or GPU_IS_LOST, across all GPUs. */
    public long transientErrors() {
        return devices.stream().mapToLong(d -> d.transientErrors.sum()).sum();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            NvmlCall.invoke(fn.shutdown);
        }
    }

    private void ensureOpen() throws GpuException {
        if (closed.get()) {
            throw new GpuException(NvmlReturn.ERROR_UNINITIALIZED.nvmlName(), "NVML was shut down");
        }
    }

    private static Long unsigned(Integer v) {
        return v == null ? null : Integer.toUnsignedLong(v);
    }
}

package io.gpuagent.gpu;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link GpuDriver} in memory, with knobs (HikariCP's StubConnection style): hang a GPU, lose
 * it, queue events. It passes the same {@link GpuDriverContract} as the NVML driver over the
 * simulated library, so tests of the layers above can trust it.
 */
public final class FakeGpuDriver implements GpuDriver {
    private final List<GpuDevice> devices;
    private final Set<Integer> lost = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<Integer, CountDownLatch> hangs = new ConcurrentHashMap<>();
    private final BlockingQueue<GpuEvent> events = new LinkedBlockingQueue<>();
    private volatile boolean closed;
    private long ticks;
    private final io.gpuagent.util.Clock clock;

    public FakeGpuDriver(int count) {
        this(count, io.gpuagent.util.Clock.SYSTEM);
    }

    /** A fake whose samples are stamped by {@code clock}. */
    public FakeGpuDriver(int count, io.gpuagent.util.Clock clock) {
        this.clock = clock;
        List<GpuDevice> list = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            list.add(new GpuDevice(i, "NVIDIA H100 80GB HBM3", String.format("GPU-fake0000-0000-0000-0000-%012d", i),
                    "16549220" + i, String.format("00000000:%02X:00.0", 0x18 + i), "0x233010DE", 85_520_809_984L,
                    "9.0", "HOPPER", "NVIDIA", "disabled", "enabled", 700_000L, 700_000L, 200_000L, 700_000L,
                    5, 16, 5, 16, 1980, 2619, null, i));
        }
        this.devices = List.copyOf(list);
    }

    /** Calls on GPU {@code i} block until {@link #unhang(int)}. */
    public void hang(int i) {
        hangs.put(i, new CountDownLatch(1));
    }

    public void unhang(int i) {
        CountDownLatch l = hangs.remove(i);
        if (l != null) {
            l.countDown();
        }
    }

    public void lose(int i) {
        lost.add(i);
    }

    public void emit(GpuEvent e) {
        events.add(e);
    }

    private void enter(int i) throws GpuException {
        if (closed) {
            throw new GpuException("NVML_ERROR_UNINITIALIZED", "closed");
        }
        if (i < 0 || i >= devices.size()) {
            throw new IllegalArgumentException("no GPU with index " + i);
        }
        CountDownLatch l = hangs.get(i);
        if (l != null) {
            try {
                l.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (lost.contains(i)) {
            throw new GpuLostException("NVML_ERROR_GPU_IS_LOST", "GPU " + i + " is lost");
        }
    }

    @Override
    public DriverInfo driverInfo() {
        return new DriverInfo("fake", true, "550.54.15", "12.550.54.15", "12.4");
    }

    @Override
    public int deviceCount() {
        return devices.size();
    }

    @Override
    public GpuDevice describe(int index) throws GpuException {
        enter(index);
        GpuDevice d = devices.get(index);
        boolean[] m = migModes.get(index);
        // MIG as this fake has it: a GPU never put in MIG mode (enableMig) is a card without MIG
        String mig = m == null ? null : m[0] ? "enabled" : "disabled";
        return new GpuDevice(d.index(), d.name(), d.uuid(), d.serial(), d.pciBusId(), d.pciDeviceId(), d.memoryTotalBytes(),
                d.computeCapability(), d.architecture(), d.brand(), mig, d.eccMode(), d.powerLimitMilliwatts(),
                d.powerDefaultLimitMilliwatts(), d.powerMinLimitMilliwatts(), d.powerMaxLimitMilliwatts(),
                d.pcieMaxGeneration(), d.pcieMaxWidth(), d.pcieCurrentGeneration(), d.pcieCurrentWidth(),
                d.maxSmClockMhz(), d.maxMemClockMhz(), d.fanCount(), d.minorNumber());
    }

    @Override
    public GpuSample sample(int index) throws GpuException {
        enter(index);
        GpuDevice d = devices.get(index);
        long t;
        synchronized (this) {
            t = ++ticks;
        }
        return new GpuSample(d.uuid(), index, clock.wallTime(), clock.monotonicNanos(), 10, 5, 1L << 30,
                d.memoryTotalBytes() - (1L << 30) - (512L << 20), 512L << 20, 40, 45, 120_000L, t * 120_000L,
                1500, 2619, null, 100L, 200L, 0L, 0L, 0, 0L, 0L, 0L, 0L, null, null, 0, 0, false, false, List.of());
    }

    @Override
    public GpuEventStream openEvents() {
        return new GpuEventStream() {
            @Override
            public Optional<GpuEvent> await(Duration timeout) throws GpuException {
                try {
                    GpuEvent e = events.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
                    if (e != null && e.kind() == null) {
                        throw new GpuLostException("NVML_ERROR_GPU_IS_LOST", "a watched GPU is lost");
                    }
                    return Optional.ofNullable(e);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return Optional.empty();
                }
            }

            @Override
            public Set<Integer> watchedDevices() {
                Set<Integer> s = new java.util.TreeSet<>();
                devices.forEach(d -> s.add(d.index()));
                return s;
            }

            @Override
            public void close() {
            }
        };
    }

    // --- MIG, as an H100 80GB: 7 compute slices, 8 memory slices -------------------------------

    /** H100 80GB's GPU-instance profiles (NVIDIA MIG user guide): index, id, name, slices, GiB, count, memory slices. */
    private static final Object[][] H100_PROFILES = {
            {0, 19, "1g.10gb", 1, 10, 7, 1}, {7, 20, "1g.10gb+me", 1, 10, 1, 1}, {9, 15, "1g.20gb", 1, 20, 4, 2},
            {1, 14, "2g.20gb", 2, 20, 3, 2}, {2, 9, "3g.40gb", 3, 40, 2, 4}, {3, 5, "4g.40gb", 4, 40, 1, 4},
            {4, 0, "7g.80gb", 7, 80, 1, 8}};

    private final java.util.Map<Integer, boolean[]> migModes = new ConcurrentHashMap<>(); // {current, pending}
    private final java.util.Map<Integer, List<MigInstance>> instances = new ConcurrentHashMap<>();
    private final Set<Integer> resetRequired = ConcurrentHashMap.newKeySet();
    private int nextGi = 1;
    private GpuTopology topology;

    /** Puts GPU {@code i} in MIG mode (no instances). */
    public synchronized void enableMig(int i) {
        migModes.put(i, new boolean[] {true, true});
        instances.putIfAbsent(i, new ArrayList<>());
    }

    /** MIG mode changes on GPU {@code i} wait for {@link #reset(int)}, as when the GPU is in use. */
    public void requireReset(int i) {
        resetRequired.add(i);
    }

    /** A GPU reset: the pending MIG mode takes effect, instances are gone. */
    public synchronized void reset(int i) {
        boolean[] m = migModes.get(i);
        if (m != null) {
            m[0] = m[1];
            instances.put(i, new ArrayList<>());
        }
    }

    public void topology(GpuTopology t) {
        this.topology = t;
    }

    private static MigProfile profile(Object[] p) {
        return new MigProfile((int) p[0], (int) p[1], (String) p[2], (int) p[3], (int) p[4] * (1L << 30), (int) p[5]);
    }

    private static Object[] row(int profileIndex) throws GpuException {
        for (Object[] p : H100_PROFILES) {
            if ((int) p[0] == profileIndex) {
                return p;
            }
        }
        throw new MigException(MigException.Reason.NO_SUCH_PROFILE, "no GPU-instance profile " + profileIndex);
    }

    @Override
    public synchronized MigState mig(int index) throws GpuException {
        enter(index);
        boolean[] m = migModes.get(index);
        if (m == null) {
            return null;
        }
        List<MigProfile> profiles = new ArrayList<>();
        if (m[0]) {
            for (Object[] p : H100_PROFILES) {
                profiles.add(profile(p));
            }
        }
        return new MigState(m[0], m[1], profiles, m[0] ? instances.get(index) : List.of());
    }

    @Override
    public synchronized boolean setMigMode(int index, boolean enabled) throws GpuException {
        enter(index);
        boolean[] m = migModes.get(index);
        if (m == null) {
            throw new MigException(MigException.Reason.NOT_CAPABLE, "GPU " + index + " has no MIG");
        }
        m[1] = enabled;
        if (!resetRequired.contains(index)) {
            m[0] = enabled;
            instances.put(index, new ArrayList<>());
        }
        return m[0] == m[1];
    }

    @Override
    public synchronized MigInstance createMigInstance(int index, int profileIndex, Integer placementStart)
            throws GpuException {
        enter(index);
        boolean[] m = migModes.get(index);
        if (m == null || !m[0]) {
            throw new MigException(m == null ? MigException.Reason.NOT_CAPABLE : MigException.Reason.MODE_OFF,
                    "GPU " + index + " is not in MIG mode");
        }
        Object[] p = row(profileIndex);
        List<MigInstance> have = instances.get(index);
        int slices = have.stream().mapToInt(MigInstance::sliceCount).sum();
        int mem = have.stream().mapToInt(MigInstance::placementSize).sum();
        if (slices + (int) p[3] > 7 || mem + (int) p[6] > 8) {
            throw new MigException(MigException.Reason.NO_CAPACITY, "GPU " + index + ": no room for " + p[2]);
        }
        int gi = nextGi++;
        MigInstance inst = new MigInstance(String.format("MIG-fake%04d-0000-0000-0000-%012d", index, gi),
                devices.get(index).uuid(), index, gi, 0, (String) p[2], (int) p[3], (int) p[4] * (1L << 30), mem,
                (int) p[6]);
        have.add(inst);
        return inst;
    }

    @Override
    public synchronized void destroyMigInstance(int index, int gpuInstanceId) throws GpuException {
        enter(index);
        List<MigInstance> have = instances.get(index);
        if (have == null || !have.removeIf(x -> x.gpuInstanceId() == gpuInstanceId)) {
            throw new MigException(MigException.Reason.NO_SUCH_INSTANCE, "GPU " + index + " has no GPU instance " + gpuInstanceId);
        }
    }

    @Override
    public GpuTopology topology(List<String> uuids) {
        return topology != null ? topology : GpuTopology.unknown(uuids);
    }

    @Override
    public void close() {
        closed = true;
        hangs.values().forEach(CountDownLatch::countDown);
    }
}

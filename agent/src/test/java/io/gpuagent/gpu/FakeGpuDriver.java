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
        return devices.get(index);
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

    @Override
    public void close() {
        closed = true;
        hangs.values().forEach(CountDownLatch::countDown);
    }
}

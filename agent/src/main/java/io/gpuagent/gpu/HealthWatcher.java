package io.gpuagent.gpu;

import io.gpuagent.util.Backoff;
import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Waits on the driver's event set for XIDs and ECC errors and applies the XID policy through the
 * {@link GpuHealthRegistry}. Runs on its own thread ({@code gpu-agent-health-events}); the wait
 * returns every {@link #POLL} so that a stop request is seen promptly. The thread owns the event
 * stream and closes it on exit. After a failed wait it backs off on the injected {@link Clock}
 * (500 ms doubling to 30 s, jittered), so that a test drives the retries by moving its clock.
 */
public final class HealthWatcher implements AutoCloseable {
    static final Duration POLL = Duration.ofMillis(500);
    private static final Logger log = LoggerFactory.getLogger(HealthWatcher.class);

    private final GpuDriver driver;
    private final List<GpuDevice> devices;
    private final GpuHealthRegistry health;
    private final Backoff backoff = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30));
    private final Thread thread;
    private final Clock clock;
    private volatile boolean running = true;
    private volatile long lastWaitReturnNanos;
    private volatile java.util.Set<Integer> watched = java.util.Set.of();

    public HealthWatcher(GpuDriver driver, List<GpuDevice> devices, GpuHealthRegistry health, Clock clock) {
        this.driver = driver;
        this.devices = List.copyOf(devices);
        this.health = health;
        this.clock = clock;
        this.thread = new Thread(this::run, "gpu-agent-health-events");
        this.thread.setDaemon(true);
        this.lastWaitReturnNanos = clock.monotonicNanos();
    }

    public void start() {
        thread.start();
    }

    /** The GPUs whose events are watched (empty until the event set is open). */
    public java.util.Set<Integer> watchedDevices() {
        return watched;
    }

    public long lastWaitReturnNanos() {
        return lastWaitReturnNanos;
    }

    private void run() {
        int failures = 0;
        while (running) {
            try (GpuEventStream events = driver.openEvents()) {
                watched = events.watchedDevices();
                log.info("watching XID and ECC events on GPUs {}", watched);
                failures = 0;
                while (running) {
                    Optional<GpuEvent> e = events.await(POLL);
                    lastWaitReturnNanos = clock.monotonicNanos();
                    e.ifPresent(this::apply);
                }
            } catch (GpuLostException e) {
                // the driver does not say which GPU: the sampler finds it on its next tick
                log.warn("health events: {}; the sampler will identify the GPU", e.getMessage());
                pause(failures++);
            } catch (GpuException e) {
                if ("NVML_ERROR_NOT_SUPPORTED".equals(e.code()) || "NVML_ERROR_FUNCTION_NOT_FOUND".equals(e.code())) {
                    // some drivers (vGPU guests, old branches) have no event sets: polling still sees lost GPUs
                    log.info("this driver has no NVML event sets ({}); XIDs are not watched, lost and hung GPUs are "
                            + "still found by the sampler", e.getMessage());
                    return;
                }
                log.warn("health event wait failed ({}); retrying", e.getMessage());
                pause(failures++);
            }
        }
    }

    void apply(GpuEvent e) {
        String uuid = e.uuid() != null ? e.uuid() : uuidOf(e.index());
        if (uuid == null) {
            log.warn("health event {} for an unknown device", e);
            return;
        }
        switch (e.kind()) {
            case XID -> health.onXid(uuid, e.data(), e.gpuInstanceId());
            case DOUBLE_BIT_ECC -> health.onDoubleBitEcc(uuid, e.gpuInstanceId());
            case SINGLE_BIT_ECC -> log.info("GPU {} ({}) corrected a single-bit ECC error", e.index(), uuid);
        }
    }

    private String uuidOf(int index) {
        return devices.stream().filter(d -> d.index() == index).map(GpuDevice::uuid).findFirst().orElse(null);
    }

    private void pause(int attempt) {
        try {
            clock.sleep(backoff.delay(attempt));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Stops the loop; waits up to {@code timeout} for the thread. */
    public boolean stop(Duration timeout) throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(timeout.toMillis());
        return !thread.isAlive();
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}

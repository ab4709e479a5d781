package io.gpuagent.daemon.systemd;

import io.gpuagent.util.NamedThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Sends {@code WATCHDOG=1} every half watchdog period, but only while {@code progress} says the
 * agent's loops are advancing: a wedged agent must be restarted by systemd, not kept alive by a
 * timer thread that still runs. Reads {@code WATCHDOG_USEC} (and {@code WATCHDOG_PID}, which must
 * be ours when set).
 */
public final class WatchdogFeeder implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WatchdogFeeder.class);

    private final SystemdNotifier notifier;
    private final Duration period;
    private final BooleanSupplier progress;
    private final ScheduledExecutorService timer;
    private volatile boolean lastWasFed = true;
    private volatile long fed;
    private volatile long withheld;

    public WatchdogFeeder(SystemdNotifier notifier, Duration period, BooleanSupplier progress) {
        this.notifier = notifier;
        this.period = period;
        this.progress = progress;
        this.timer = Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory("gpu-agent-watchdog", true));
    }

    /** The watchdog period systemd asked for, if any and if meant for this process. */
    public static Optional<Duration> periodFrom(Map<String, String> env, long pid) {
        String usec = env.get("WATCHDOG_USEC");
        if (usec == null || usec.isBlank()) {
            return Optional.empty();
        }
        String forPid = env.get("WATCHDOG_PID");
        if (forPid != null && !forPid.isBlank() && !forPid.trim().equals(Long.toString(pid))) {
            return Optional.empty();
        }
        try {
            long us = Long.parseLong(usec.trim());
            return us > 0 ? Optional.of(Duration.ofNanos(us * 1000)) : Optional.empty();
        } catch (NumberFormatException e) {
            log.warn("ignoring WATCHDOG_USEC={}: not a number", usec);
            return Optional.empty();
        }
    }

    public void start() {
        long half = Math.max(1, period.toNanos() / 2);
        timer.scheduleAtFixedRate(this::beat, 0, half, TimeUnit.NANOSECONDS);
        log.info("systemd watchdog every {} ms (period {} ms)", half / 1_000_000, period.toMillis());
    }

    /** One beat: feed only when progressing. Public for tests. */
    public void beat() {
        if (progress.getAsBoolean()) {
            if (notifier.watchdog()) {
                fed++;
            }
            if (!lastWasFed) {
                log.info("agent loops progressing again; feeding the systemd watchdog");
            }
            lastWasFed = true;
        } else {
            withheld++;
            if (lastWasFed) {
                log.error("agent loops made no progress: withholding WATCHDOG=1 so that systemd restarts the agent");
            }
            lastWasFed = false;
        }
    }

    public long fedCount() {
        return fed;
    }

    public long withheldCount() {
        return withheld;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}

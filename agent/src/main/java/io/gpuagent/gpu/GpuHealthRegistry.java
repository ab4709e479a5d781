package io.gpuagent.gpu;

import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * The health of every GPU, the one place that decides it. Rules:
 * <ul>
 *   <li>a critical XID or a double-bit ECC error makes a GPU {@link GpuHealth#UNHEALTHY}, and it
 *       stays so until the agent restarts (a reset or reboot is the fix; we do not guess it happened);</li>
 *   <li>{@code GPU_IS_LOST} makes it {@link GpuHealth#LOST}, also until restart;</li>
 *   <li>a hung call makes it {@link GpuHealth#UNKNOWN}; the next answered call makes it healthy
 *       again, unless one of the rules above applied meanwhile;</li>
 *   <li>application XIDs ({@link XidPolicy}) are counted but change nothing.</li>
 * </ul>
 * Thread-safe; listeners run on the thread that reported the change.
 */
public final class GpuHealthRegistry {
    private static final Logger log = LoggerFactory.getLogger(GpuHealthRegistry.class);

    private final Clock clock;
    private final ConcurrentMap<String, GpuHealthState> states = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, ConcurrentMap<Long, LongAdder>> xids = new ConcurrentHashMap<>();
    private final List<GpuHealthListener> listeners = new CopyOnWriteArrayList<>();

    public GpuHealthRegistry(Clock clock, List<GpuDevice> devices) {
        this.clock = clock;
        for (GpuDevice d : devices) {
            states.put(d.uuid(), GpuHealthState.healthy(d.uuid(), d.index(), clock.wallTime()));
        }
    }

    public void addListener(GpuHealthListener listener) {
        listeners.add(listener);
    }

    public GpuHealthState state(String uuid) {
        return states.get(uuid);
    }

    /** All states, by GPU index order. */
    public List<GpuHealthState> all() {
        return states.values().stream().sorted(java.util.Comparator.comparingInt(GpuHealthState::index)).toList();
    }

    /** XIDs seen per GPU: uuid -> xid -> count. */
    public Map<String, Map<Long, Long>> xidCounts() {
        Map<String, Map<Long, Long>> out = new LinkedHashMap<>();
        xids.forEach((uuid, m) -> {
            Map<Long, Long> copy = new java.util.TreeMap<>();
            m.forEach((xid, n) -> copy.put(xid, n.sum()));
            out.put(uuid, copy);
        });
        return out;
    }

    /** Applies the XID policy to an XID reported for {@code uuid}. */
    public void onXid(String uuid, long xid) {
        xids.computeIfAbsent(uuid, u -> new ConcurrentHashMap<>()).computeIfAbsent(xid, x -> new LongAdder())
                .increment();
        GpuHealthState cur = states.get(uuid);
        if (cur == null) {
            log.warn("XID {} reported for unknown GPU {}", xid, uuid);
            return;
        }
        if (!XidPolicy.isCritical(xid)) {
            log.info("GPU {} ({}) reported application XID {}: the renter's code faulted; the GPU stays in service",
                    cur.index(), uuid, xid);
            update(uuid, cur.health(), cur.reason(), (int) xid, false);
            return;
        }
        update(uuid, GpuHealth.UNHEALTHY, "critical XID " + xid, (int) xid, true);
    }

    public void onDoubleBitEcc(String uuid) {
        update(uuid, GpuHealth.UNHEALTHY, "double-bit ECC error", null, true);
    }

    public void onLost(String uuid, String reason) {
        update(uuid, GpuHealth.LOST, reason, null, true);
    }

    public void onUnresponsive(String uuid, String reason) {
        update(uuid, GpuHealth.UNKNOWN, reason, null, false);
    }

    /** A call on the GPU returned: an UNKNOWN GPU (hung before) is healthy again. */
    public void onResponsive(String uuid) {
        GpuHealthState cur = states.get(uuid);
        if (cur != null && cur.health() == GpuHealth.UNKNOWN) {
            update(uuid, GpuHealth.HEALTHY, "answering again", null, false);
        }
    }

    private void update(String uuid, GpuHealth health, String reason, Integer xid, boolean sticky) {
        GpuHealthState[] change = new GpuHealthState[2];
        states.computeIfPresent(uuid, (u, cur) -> {
            // UNHEALTHY and LOST only get worse (LOST beats UNHEALTHY); UNKNOWN never masks them
            if (isTerminal(cur.health()) && !(health == GpuHealth.LOST && cur.health() != GpuHealth.LOST)) {
                return xid != null ? new GpuHealthState(u, cur.index(), cur.health(), cur.reason(), cur.since(), xid)
                        : cur;
            }
            GpuHealthState next = new GpuHealthState(u, cur.index(), health,
                    reason, cur.health() == health ? cur.since() : clock.wallTime(), xid != null ? xid : cur.lastXid());
            if (cur.health() != health) {
                change[0] = cur;
                change[1] = next;
            }
            return next;
        });
        if (change[0] != null) {
            GpuHealthState prev = change[0];
            GpuHealthState next = change[1];
            if (next.health() == GpuHealth.HEALTHY) {
                log.info("GPU {} ({}) is healthy again ({})", next.index(), uuid, next.reason());
            } else {
                log.warn("GPU {} ({}) is now {}: {}{}", next.index(), uuid, next.health(), next.reason(),
                        sticky ? " (stays so until the agent restarts after the GPU is reset)" : "");
            }
            for (GpuHealthListener l : listeners) {
                l.onHealthChange(prev, next);
            }
        }
    }

    private static boolean isTerminal(GpuHealth h) {
        return h == GpuHealth.UNHEALTHY || h == GpuHealth.LOST;
    }
}

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
 * On a GPU that runs MIG, each MIG instance has a health of its own ({@link #updateInstances} tells
 * the registry which exist): an XID or ECC error the driver scopes to one GPU instance
 * ({@link GpuEvent#gpuInstanceId()}) applies the rules above to that instance only; one that is
 * device-wide applies them to the GPU, and so to every instance on it ({@link #isHealthy} of an
 * instance is its own health and its GPU's). An event scoped to an instance the registry was not
 * told of is counted and logged, and changes nothing: no session holds such an instance, and the
 * driver says the fault is contained in it. {@link #all()} and {@link #state} stay per GPU (the
 * metrics' view); instances have {@link #instances()} and {@link #instanceState}.
 * Thread-safe; listeners run on the thread that reported the change, and hear instance changes
 * too (with the instance's {@code MIG-...} UUID and its GPU's index).
 */
public final class GpuHealthRegistry {
    private static final Logger log = LoggerFactory.getLogger(GpuHealthRegistry.class);

    private final Clock clock;
    private final ConcurrentMap<String, GpuHealthState> states = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, ConcurrentMap<Long, LongAdder>> xids = new ConcurrentHashMap<>();
    private final List<GpuHealthListener> listeners = new CopyOnWriteArrayList<>();
    /** MIG instance UUID -> its own health (its GPU's index as the index). */
    private final ConcurrentMap<String, GpuHealthState> instanceStates = new ConcurrentHashMap<>();
    /** GPU UUID -> GPU instance id -> MIG UUID; replaced whole per GPU. */
    private final ConcurrentMap<String, Map<Integer, String>> instanceIds = new ConcurrentHashMap<>();

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

    /**
     * The MIG instances that exist now on one GPU (the agent created or destroyed some): a new
     * instance starts healthy, one that still exists keeps its health, one that is gone is forgotten.
     */
    public synchronized void updateInstances(String gpuUuid, List<MigInstance> instances) {
        GpuHealthState gpu = states.get(gpuUuid);
        if (gpu == null) {
            throw new IllegalArgumentException("MIG instances for unknown GPU " + gpuUuid);
        }
        Map<Integer, String> ids = new java.util.HashMap<>();
        for (MigInstance m : instances) {
            if (!m.parentUuid().equals(gpuUuid)) {
                throw new IllegalArgumentException("MIG instance " + m.uuid() + " is on " + m.parentUuid() + ", not "
                        + gpuUuid);
            }
            ids.put(m.gpuInstanceId(), m.uuid());
            instanceStates.computeIfAbsent(m.uuid(), u -> GpuHealthState.healthy(u, gpu.index(), clock.wallTime()));
        }
        Map<Integer, String> before = instanceIds.put(gpuUuid, Map.copyOf(ids));
        if (before != null) {
            before.values().stream().filter(u -> !ids.containsValue(u)).forEach(instanceStates::remove);
        }
    }

    /** A MIG instance's own health (not its GPU's), or null when the registry does not know it. */
    public GpuHealthState instanceState(String migUuid) {
        return instanceStates.get(migUuid);
    }

    /** Every known MIG instance's own health, by GPU index, then UUID. */
    public List<GpuHealthState> instances() {
        return instanceStates.values().stream().sorted(java.util.Comparator.comparingInt(GpuHealthState::index)
                .thenComparing(GpuHealthState::uuid)).toList();
    }

    /**
     * Whether a unit may be rented now: a GPU ({@code GPU-...}) when it is HEALTHY; a MIG instance
     * ({@code MIG-...}) when it and its GPU are. False for a UUID the registry does not know.
     */
    public boolean isHealthy(String unitUuid) {
        return unitHealth(unitUuid) == GpuHealth.HEALTHY;
    }

    /**
     * A unit's health as the offer shows it: a GPU's own; for a MIG instance the worse of its own and
     * its GPU's (LOST, then UNHEALTHY, then UNKNOWN). Null for a UUID the registry does not know.
     */
    public GpuHealth unitHealth(String unitUuid) {
        GpuHealthState gpu = states.get(unitUuid);
        if (gpu != null) {
            return gpu.health();
        }
        GpuHealthState own = instanceStates.get(unitUuid);
        if (own == null) {
            return null;
        }
        GpuHealth parent = instanceIds.entrySet().stream().filter(e -> e.getValue().containsValue(unitUuid))
                .map(e -> states.get(e.getKey()).health()).findFirst().orElse(GpuHealth.UNKNOWN);
        return worse(own.health(), parent);
    }

    private static GpuHealth worse(GpuHealth a, GpuHealth b) {
        return rank(a) >= rank(b) ? a : b;
    }

    private static int rank(GpuHealth h) {
        return switch (h) {
            case HEALTHY -> 0;
            case UNKNOWN -> 1;
            case UNHEALTHY -> 2;
            case LOST -> 3;
        };
    }

    /** XIDs seen per GPU (those scoped to a MIG instance included): uuid -> xid -> count. */
    public Map<String, Map<Long, Long>> xidCounts() {
        Map<String, Map<Long, Long>> out = new LinkedHashMap<>();
        xids.forEach((uuid, m) -> {
            Map<Long, Long> copy = new java.util.TreeMap<>();
            m.forEach((xid, n) -> copy.put(xid, n.sum()));
            out.put(uuid, copy);
        });
        return out;
    }

    /** Applies the XID policy to a device-wide XID reported for the GPU {@code uuid}. */
    public void onXid(String uuid, long xid) {
        onXid(uuid, xid, GpuEvent.DEVICE_WIDE);
    }

    /**
     * Applies the XID policy to an XID reported for the GPU {@code uuid}, scoped to the GPU instance
     * {@code gpuInstanceId} or {@link GpuEvent#DEVICE_WIDE}.
     */
    public void onXid(String uuid, long xid, int gpuInstanceId) {
        xids.computeIfAbsent(uuid, u -> new ConcurrentHashMap<>()).computeIfAbsent(xid, x -> new LongAdder())
                .increment();
        GpuHealthState cur = states.get(uuid);
        if (cur == null) {
            log.warn("XID {} reported for unknown GPU {}", xid, uuid);
            return;
        }
        ConcurrentMap<String, GpuHealthState> scope = states;
        String target = uuid;
        if (gpuInstanceId != GpuEvent.DEVICE_WIDE) {
            target = instanceUuid(uuid, gpuInstanceId, "XID " + xid);
            if (target == null) {
                return;
            }
            scope = instanceStates;
            cur = instanceStates.get(target);
            if (cur == null) { // updateInstances removed it since instanceUuid looked
                return;
            }
        }
        if (!XidPolicy.isCritical(xid)) {
            log.info("GPU {} ({}) reported application XID {}: the renter's code faulted; the GPU stays in service",
                    cur.index(), target, xid);
            update(scope, target, cur.health(), cur.reason(), (int) xid, false);
            return;
        }
        update(scope, target, GpuHealth.UNHEALTHY, "critical XID " + xid, (int) xid, true);
    }

    public void onDoubleBitEcc(String uuid) {
        onDoubleBitEcc(uuid, GpuEvent.DEVICE_WIDE);
    }

    /** A double-bit ECC error on the GPU, or in the memory of one of its GPU instances. */
    public void onDoubleBitEcc(String uuid, int gpuInstanceId) {
        if (gpuInstanceId == GpuEvent.DEVICE_WIDE) {
            update(states, uuid, GpuHealth.UNHEALTHY, "double-bit ECC error", null, true);
            return;
        }
        String target = instanceUuid(uuid, gpuInstanceId, "a double-bit ECC error");
        if (target != null) {
            update(instanceStates, target, GpuHealth.UNHEALTHY, "double-bit ECC error", null, true);
        }
    }

    /** The MIG UUID of a GPU instance, or null (logged) when the registry was not told of it. */
    private String instanceUuid(String gpuUuid, int gpuInstanceId, String what) {
        String mig = instanceIds.getOrDefault(gpuUuid, Map.of()).get(gpuInstanceId);
        if (mig == null || !instanceStates.containsKey(mig)) {
            log.warn("GPU {} reported {} in GPU instance {}, which the agent does not know; nothing changes (no "
                    + "session holds it)", gpuUuid, what, gpuInstanceId);
            return null;
        }
        return mig;
    }

    public void onLost(String uuid, String reason) {
        update(states, uuid, GpuHealth.LOST, reason, null, true);
    }

    public void onUnresponsive(String uuid, String reason) {
        update(states, uuid, GpuHealth.UNKNOWN, reason, null, false);
    }

    /** A call on the GPU returned: an UNKNOWN GPU (hung before) is healthy again. */
    public void onResponsive(String uuid) {
        GpuHealthState cur = states.get(uuid);
        if (cur != null && cur.health() == GpuHealth.UNKNOWN) {
            update(states, uuid, GpuHealth.HEALTHY, "answering again", null, false);
        }
    }

    private void update(ConcurrentMap<String, GpuHealthState> scope, String uuid, GpuHealth health, String reason,
                        Integer xid, boolean sticky) {
        GpuHealthState[] change = new GpuHealthState[2];
        scope.computeIfPresent(uuid, (u, cur) -> {
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
                        !sticky ? "" : scope == states ? " (stays so until the agent restarts after the GPU is reset)"
                                : " (stays so until the instance is destroyed or the agent restarts)");
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

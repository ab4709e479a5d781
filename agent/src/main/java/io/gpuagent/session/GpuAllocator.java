package io.gpuagent.session;

import io.gpuagent.session.UnitRequest.TopologyWish;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Gives each unit (a whole GPU or a MIG instance, {@link GpuUnit}) to at most one session, and
 * never a GPU whole while one of its MIG instances is rented, nor an instance while its GPU is
 * rented whole. Never hands out a unit the health predicate rejects, nor a MIG instance whose GPU
 * it rejects. Multi-GPU sets are chosen by topology ({@link GpuSetPolicy}); docs/sessions.md,
 * "Units and topology", has the rules and every error code.
 *
 * <p>The units change at run time ({@link #update}: the agent creates MIG instances from the
 * owner's layout); an update never takes a held unit from its session: the hold stays until the
 * session is released, and the update reports the conflict. After an agent restart the allocation
 * is rebuilt from the running containers' own device ids ({@link #adopt}), {@code GPU-...} or
 * {@code MIG-...}, not from memory. Thread-safe (one monitor; every operation is tiny).
 */
public final class GpuAllocator {
    private final Predicate<String> healthy;
    private UnitLayout layout;
    private GpuSetPolicy policy;
    /** The layout's units by UUID, in layout order. */
    private Map<String, GpuUnit> units;
    /** Unit UUID -> the session holding it (also for held UUIDs the layout no longer lists). */
    private final Map<String, String> holder = new HashMap<>();
    /** Session -> its units, in the order they were given. */
    private final Map<String, List<String>> bySession = new LinkedHashMap<>();
    /** Held units that a later layout dropped, kept (with what they were) until their session is released. */
    private final Map<String, GpuUnit> retained = new LinkedHashMap<>();

    /**
     * Whole GPUs, no topology (the allocator before units; tests).
     *
     * @param gpuUuids the machine's GPUs in index order
     * @param healthy  whether a unit may be given out now, by UUID
     */
    public GpuAllocator(List<String> gpuUuids, Predicate<String> healthy) {
        this(UnitLayout.wholeGpus(gpuUuids), healthy);
    }

    /**
     * @param layout  the machine's units and topology now
     * @param healthy whether a unit may be given out now, by its UUID ({@code GPU-...} or {@code MIG-...});
     *                a MIG instance is also asked about its GPU's UUID
     */
    public GpuAllocator(UnitLayout layout, Predicate<String> healthy) {
        this.healthy = healthy;
        install(layout);
    }

    /**
     * Replaces the machine's units (MIG instances created or destroyed, topology read). Held units
     * stay held whatever the new layout says; each disagreement is reported, none is resolved by
     * taking a unit away.
     *
     * @return the conflicts: held units the layout no longer lists, a GPU held whole whose MIG
     *         instances the layout now lists (they are not given out until it is released), a held
     *         MIG instance whose GPU the layout lists whole (the GPU is not given out until then)
     */
    public synchronized List<UnitConflict> update(UnitLayout next) {
        Map<String, GpuUnit> nextUnits = index(next);
        List<UnitConflict> conflicts = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : bySession.entrySet()) {
            for (String uuid : e.getValue()) {
                GpuUnit known = nextUnits.get(uuid);
                GpuUnit before = units.containsKey(uuid) ? units.get(uuid) : retained.get(uuid);
                GpuUnit held = known != null ? known : before;
                // a unit gone because its GPU changed MIG mode says so, not merely that it is gone
                List<UnitConflict> cross = held == null ? List.of() : crossLevel(held, e.getKey(), nextUnits);
                if (known != null) {
                    retained.remove(uuid);
                } else if (before != null) {
                    retained.put(uuid, before);
                    if (cross.isEmpty()) {
                        conflicts.add(new UnitConflict(uuid, e.getKey(), "held by " + e.getKey()
                                + ", gone from the machine's units; kept held until the session ends"));
                    }
                } else {
                    conflicts.add(new UnitConflict(uuid, e.getKey(), "held by " + e.getKey()
                            + ", not on this machine; kept held until the session ends"));
                }
                conflicts.addAll(cross);
            }
        }
        install(next);
        return List.copyOf(conflicts);
    }

    /**
     * Allocates what {@code request} asks for, all or nothing. Idempotent per session: a session
     * that already holds units gets the same ones back, whatever it asks now.
     *
     * @return the units' UUIDs (what the container is handed), in the order given
     * @throws AllocationException with a stable code (docs/sessions.md); nothing is allocated then
     */
    public synchronized List<String> allocate(String sessionId, UnitRequest request) throws AllocationException {
        List<String> held = bySession.get(sessionId);
        if (held != null && !held.isEmpty()) {
            return held;
        }
        List<String> chosen = switch (request.kind()) {
            case EXACT -> exact(request.uuids());
            case MIG_PROFILE -> List.of(slice(request.migProfile()).uuid());
            case GPU_COUNT -> gpuSet(request.count(), request.topology());
        };
        if (!chosen.isEmpty()) {
            for (String u : chosen) {
                holder.put(u, sessionId);
            }
            bySession.put(sessionId, List.copyOf(chosen));
        }
        return List.copyOf(chosen);
    }

    /**
     * Records the units a running container already has (restart reconciliation). A unit another
     * session holds is not recorded (one holder per unit). Everything else is recorded, and
     * reported when it disagrees with the layout: a unit whose GPU (or one of whose instances)
     * another container holds (both holds then keep the other level from being given out), a GPU
     * that runs MIG now, a UUID the layout does not list (so that it is never given to another
     * session should it appear later).
     */
    public synchronized List<UnitConflict> adopt(String sessionId, Collection<String> uuids) {
        List<UnitConflict> conflicts = new ArrayList<>();
        for (String u : uuids) {
            String cur = holder.get(u);
            if (sessionId.equals(cur)) {
                continue;
            }
            if (cur != null) {
                conflicts.add(new UnitConflict(u, sessionId, "held by " + cur));
                continue;
            }
            GpuUnit unit = units.get(u);
            if (unit != null && blocked(unit, gpusWithHeldInstances())) {
                conflicts.add(new UnitConflict(u, sessionId, unit.isMig() ? "its GPU is held whole by "
                        + holder.get(unit.gpuUuid()) : "some of its MIG instances are held"));
            } else if (unit == null) {
                conflicts.add(new UnitConflict(u, sessionId, runsMig(u)
                        ? "runs MIG now; held whole until the session ends, its instances are not given out meanwhile"
                        : "not on this machine; held until the session ends"));
            }
            holder.put(u, sessionId);
            List<String> mine = new ArrayList<>(bySession.getOrDefault(sessionId, List.of()));
            mine.add(u);
            bySession.put(sessionId, List.copyOf(mine));
        }
        return List.copyOf(conflicts);
    }

    /** Frees the session's units (idempotent). */
    public synchronized void release(String sessionId) {
        List<String> mine = bySession.remove(sessionId);
        if (mine != null) {
            for (String u : mine) {
                holder.remove(u);
                retained.remove(u);
            }
        }
    }

    public synchronized List<String> heldBy(String sessionId) {
        return bySession.getOrDefault(sessionId, List.of());
    }

    /** Every unit a session holds now (GPU and MIG UUIDs, also ones a later layout dropped). */
    public synchronized Set<String> held() {
        return Set.copyOf(holder.keySet());
    }

    /** The session holding exactly this unit. */
    public synchronized Optional<String> ownerOf(String uuid) {
        return Optional.ofNullable(holder.get(uuid));
    }

    /**
     * The sessions a fault on {@code uuid} concerns: for a MIG instance, the one holding it; for a
     * GPU, the one holding it whole and every one holding one of its MIG instances.
     */
    public synchronized List<String> sessionsOn(String uuid) {
        Set<String> out = new LinkedHashSet<>();
        if (holder.containsKey(uuid)) {
            out.add(holder.get(uuid));
        }
        for (Map.Entry<String, String> e : holder.entrySet()) {
            GpuUnit u = known(e.getKey());
            if (u != null && u.isMig() && u.gpuUuid().equals(uuid)) {
                out.add(e.getValue());
            }
        }
        return List.copyOf(out);
    }

    /** Units neither held, nor blocked by a hold on their GPU or instances, nor unhealthy: what the offer lists as free. */
    public synchronized List<GpuUnit> free() {
        Set<String> gpusWithHeldInstances = gpusWithHeldInstances();
        return units.values().stream().filter(u -> available(u, gpusWithHeldInstances)).toList();
    }

    /** Every unit of the current layout, in layout order. */
    public synchronized List<GpuUnit> units() {
        return List.copyOf(units.values());
    }

    /**
     * The GPUs' worth of these units ({@link GpuUnit#gpuShare()} summed), for the per-GPU limits; a
     * unit the layout no longer lists counts as a whole GPU. A CPU-only session counts as one GPU
     * (its share of CPU and memory, as before units).
     */
    public synchronized double share(List<String> uuids) {
        double s = 0;
        for (String u : uuids) {
            s += unit(u).map(GpuUnit::gpuShare).orElse(1.0);
        }
        return uuids.isEmpty() ? 1.0 : s;
    }

    /** A unit of the current layout, or one still held after a layout dropped it. */
    public synchronized Optional<GpuUnit> unit(String uuid) {
        return Optional.ofNullable(known(uuid));
    }

    public synchronized UnitLayout layout() {
        return layout;
    }

    private List<String> exact(List<String> wanted) throws AllocationException {
        Set<String> seen = new HashSet<>();
        Set<String> gpusWithHeldInstances = gpusWithHeldInstances();
        for (String u : wanted) {
            if (!seen.add(u)) {
                throw new AllocationException("unit_duplicate", "unit " + u + " is named twice");
            }
            GpuUnit unit = units.get(u);
            if (unit == null) {
                if (holder.containsKey(u)) {
                    throw new AllocationException("gpu_busy", "unit " + u + " is rented by session " + holder.get(u));
                }
                if (runsMig(u)) {
                    throw new AllocationException("gpu_mig_enabled", "GPU " + u + " runs MIG: it is rented as its "
                            + "MIG instances, not whole");
                }
                throw new AllocationException("gpu_unknown", "GPU " + u + " is not on this machine");
            }
            if (holder.containsKey(u)) {
                throw new AllocationException("gpu_busy", "GPU " + u + " is rented by session " + holder.get(u));
            }
            if (blocked(unit, gpusWithHeldInstances)) {
                throw new AllocationException("gpu_busy", unit.isMig()
                        ? "MIG instance " + u + " is on GPU " + unit.gpuUuid() + ", rented whole by session "
                        + holder.get(unit.gpuUuid())
                        : "GPU " + u + " has MIG instances rented");
            }
            if (!healthy(unit)) {
                throw new AllocationException("gpu_unhealthy", (unit.isMig() ? "MIG instance " : "GPU ") + u
                        + " is not healthy");
            }
        }
        return wanted;
    }

    /**
     * One free instance of the profile: on a GPU where an instance is already rented first (a GPU
     * no session holds can still take the owner's new MIG layout), then the lowest GPU index, then
     * the lowest placement.
     */
    private GpuUnit slice(String profile) throws AllocationException {
        List<GpuUnit> ofProfile = units.values().stream().filter(u -> u.isMig() && u.migProfile().equalsIgnoreCase(profile))
                .toList();
        if (ofProfile.isEmpty()) {
            Set<String> offered = new java.util.TreeSet<>();
            units.values().stream().filter(GpuUnit::isMig).forEach(u -> offered.add(u.migProfile()));
            throw new AllocationException("mig_profile_unknown", "no MIG instance of profile " + profile
                    + " on this machine (profiles here: " + offered + ")");
        }
        Set<String> gpusWithHeldInstances = gpusWithHeldInstances();
        GpuUnit best = null;
        for (GpuUnit u : ofProfile) {
            if (available(u, gpusWithHeldInstances) && (best == null || packsBetter(u, best, gpusWithHeldInstances))) {
                best = u;
            }
        }
        if (best == null) {
            throw new AllocationException("mig_unavailable", "all " + ofProfile.size() + " MIG instances of profile "
                    + profile + " are rented or unhealthy");
        }
        return best;
    }

    private static boolean packsBetter(GpuUnit a, GpuUnit b, Set<String> gpusWithHeldInstances) {
        boolean aUsed = gpusWithHeldInstances.contains(a.gpuUuid());
        boolean bUsed = gpusWithHeldInstances.contains(b.gpuUuid());
        if (aUsed != bUsed) {
            return aUsed;
        }
        if (a.gpuIndex() != b.gpuIndex()) {
            return a.gpuIndex() < b.gpuIndex();
        }
        return a.placementStart() < b.placementStart();
    }

    private List<String> gpuSet(int count, TopologyWish wish) throws AllocationException {
        if (count == 0) {
            return List.of();
        }
        List<GpuUnit> whole = layout.wholeGpuUnits();
        if (count > whole.size()) {
            int mig = layout.topology().size() - whole.size();
            throw new AllocationException("gpu_count", "asked for " + count + " GPUs; this machine rents out "
                    + whole.size() + " whole" + (mig > 0 ? " (" + mig + " more run MIG)" : ""));
        }
        Set<String> gpusWithHeldInstances = gpusWithHeldInstances();
        List<String> free = whole.stream().filter(u -> available(u, gpusWithHeldInstances)).map(GpuUnit::uuid).toList();
        if (free.size() < count) {
            throw new AllocationException("gpus_unavailable", "asked for " + count + " GPUs; " + free.size()
                    + " are free and healthy");
        }
        return policy.choose(free, count, wish).orElseThrow(() -> new AllocationException("gpus_not_nvlinked",
                "asked for " + count + " GPUs all joined by NVLink; no such set among the free GPUs " + free));
    }

    private boolean available(GpuUnit u, Set<String> gpusWithHeldInstances) {
        return !holder.containsKey(u.uuid()) && !blocked(u, gpusWithHeldInstances) && healthy(u);
    }

    /** A MIG instance whose GPU is held whole, or a GPU with a held MIG instance. */
    private boolean blocked(GpuUnit u, Set<String> gpusWithHeldInstances) {
        return u.isMig() ? holder.containsKey(u.gpuUuid()) : gpusWithHeldInstances.contains(u.uuid());
    }

    private boolean healthy(GpuUnit u) {
        return healthy.test(u.uuid()) && (!u.isMig() || healthy.test(u.gpuUuid()));
    }

    private Set<String> gpusWithHeldInstances() {
        Set<String> out = new HashSet<>();
        for (String h : holder.keySet()) {
            GpuUnit u = known(h);
            if (u != null && u.isMig()) {
                out.add(u.gpuUuid());
            }
        }
        return out;
    }

    /** True when {@code uuid} is a GPU of this machine that runs MIG (so is no unit itself). */
    private boolean runsMig(String uuid) {
        return layout.topology().uuids().contains(uuid)
                || units.values().stream().anyMatch(u -> u.isMig() && u.gpuUuid().equals(uuid));
    }

    private GpuUnit known(String uuid) {
        GpuUnit u = units.get(uuid);
        return u != null ? u : retained.get(uuid);
    }

    /** What an update or a new allocator means for holds across levels (a GPU and its instances). */
    private List<UnitConflict> crossLevel(GpuUnit held, String session, Map<String, GpuUnit> nextUnits) {
        List<UnitConflict> out = new ArrayList<>();
        if (held.isMig()) {
            if (nextUnits.containsKey(held.gpuUuid())) {
                out.add(new UnitConflict(held.uuid(), session, "held by " + session + ", but its GPU " + held.gpuUuid()
                        + " is listed whole now; the GPU is not given out until the instance is released"));
            }
        } else {
            nextUnits.values().stream().filter(u -> u.isMig() && u.gpuUuid().equals(held.uuid())).findFirst()
                    .ifPresent(u -> out.add(new UnitConflict(held.uuid(), session, "held whole by " + session
                            + ", now runs MIG; its instances are not given out until it is released")));
        }
        return out;
    }

    private void install(UnitLayout next) {
        layout = next;
        units = index(next);
        policy = new GpuSetPolicy(next);
    }

    private static Map<String, GpuUnit> index(UnitLayout l) {
        Map<String, GpuUnit> m = new LinkedHashMap<>();
        for (GpuUnit u : l.units()) {
            m.put(u.uuid(), u);
        }
        return m;
    }
}

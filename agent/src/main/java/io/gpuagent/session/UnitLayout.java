package io.gpuagent.session;

import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuInventory;
import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.gpu.MigInstance;
import io.gpuagent.gpu.MigState;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The units a machine rents out at one moment, and how its GPUs are connected. Immutable; the
 * allocator is handed a new one whenever MIG instances are created or destroyed
 * ({@link GpuAllocator#update}).
 *
 * <p>The rule that makes a layout: a GPU whose MIG mode is on now ({@link MigState#current()}) is
 * rented only as its MIG instances, never whole (a container given the whole GPU would see every
 * instance, those rented to others included); every other GPU is one whole-GPU unit. A GPU with MIG
 * on and no instances yet rents out nothing. Units are ordered by GPU index, then by placement.
 *
 * @param units    every unit, in GPU index order, then placement order
 * @param topology the GPUs' connections ({@link GpuTopology#unknown} when NVML does not say)
 */
public record UnitLayout(List<GpuUnit> units, GpuTopology topology) {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(UnitLayout.class);

    public UnitLayout {
        units = List.copyOf(units);
        Set<String> seen = new HashSet<>();
        for (GpuUnit u : units) {
            if (!seen.add(u.uuid())) {
                throw new IllegalArgumentException("unit " + u.uuid() + " is listed twice");
            }
        }
        if (topology == null) {
            topology = GpuTopology.unknown(units.stream().map(GpuUnit::gpuUuid).distinct().toList());
        }
    }

    /** Whole GPUs only, with no topology (a machine without MIG, or tests). */
    public static UnitLayout wholeGpus(List<String> gpuUuids) {
        List<GpuUnit> units = new ArrayList<>();
        for (int i = 0; i < gpuUuids.size(); i++) {
            units.add(GpuUnit.gpu(gpuUuids.get(i), i));
        }
        return new UnitLayout(units, GpuTopology.unknown(gpuUuids));
    }

    /**
     * The layout of a probed machine.
     *
     * @param inventory the GPUs
     * @param mig       each MIG-capable GPU's MIG state, by GPU UUID; a GPU absent here runs MIG only
     *                  when its probed {@link GpuDevice#migMode()} says {@code enabled} (then it rents
     *                  out nothing until its state is known)
     * @param topology  the GPUs' connections, or null when unknown
     */
    public static UnitLayout of(GpuInventory inventory, Map<String, MigState> mig, GpuTopology topology) {
        List<GpuUnit> units = new ArrayList<>();
        List<GpuDevice> gpus = inventory.gpus().stream().sorted(Comparator.comparingInt(GpuDevice::index)).toList();
        for (GpuDevice d : gpus) {
            MigState state = mig.get(d.uuid());
            boolean migOn = state != null ? state.current() : "enabled".equalsIgnoreCase(d.migMode());
            if (!migOn) {
                units.add(GpuUnit.gpu(d));
                continue;
            }
            if (state == null) {
                continue;
            }
            List<MigInstance> instances = state.instances().stream()
                    .sorted(Comparator.comparingInt(MigInstance::placementStart)
                            .thenComparingInt(MigInstance::gpuInstanceId))
                    .toList();
            for (MigInstance m : instances) {
                if (m.profile() == null) {
                    // a MIG device whose GPU instance the driver did not list: it cannot be priced or sized
                    log.warn("GPU {}: MIG instance {} has no known profile; it is not rented", d.index(), m.uuid());
                    continue;
                }
                if (!m.parentUuid().equals(d.uuid())) {
                    throw new IllegalArgumentException("MIG instance " + m.uuid() + " is listed under GPU " + d.uuid()
                            + " but belongs to " + m.parentUuid());
                }
                units.add(GpuUnit.mig(m, d.name()));
            }
        }
        GpuTopology t = topology != null ? topology : GpuTopology.unknown(gpus.stream().map(GpuDevice::uuid).toList());
        return new UnitLayout(units, t);
    }

    /** The unit with this UUID. */
    public Optional<GpuUnit> unit(String uuid) {
        return units.stream().filter(u -> u.uuid().equals(uuid)).findFirst();
    }

    /** The whole-GPU units, in index order. */
    public List<GpuUnit> wholeGpuUnits() {
        return units.stream().filter(u -> !u.isMig()).toList();
    }

    /** Each GPU's row in {@link #topology()}, by GPU UUID (a GPU the topology does not list has none). */
    Map<String, Integer> topologyRows() {
        Map<String, Integer> rows = new HashMap<>();
        List<String> t = topology.uuids();
        for (int i = 0; i < t.size(); i++) {
            rows.put(t.get(i), i);
        }
        return rows;
    }
}

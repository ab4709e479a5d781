package io.gpuagent.market;

import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuReadings;
import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.gpu.MigInstance;
import io.gpuagent.gpu.MigProfile;
import io.gpuagent.gpu.MigState;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What this host rents out, unit by unit, with the owner's price: every GPU not in MIG mode whole,
 * and every MIG instance of the GPUs in MIG mode (a GPU in MIG mode is never rented whole). Read
 * fresh from the GPU layer on each call: MIG instances change when the agent applies a layout.
 */
public final class UnitCatalog {
    /**
     * One rentable unit.
     *
     * @param mig   the MIG instance, or null for a whole GPU
     * @param price the owner's price per second, empty when the owner priced no such unit
     */
    public record Unit(String id, GpuDevice gpu, MigInstance mig, Optional<BigInteger> price) {
        public boolean whole() {
            return mig == null;
        }

        public String kind() {
            return mig == null ? "gpu" : "mig";
        }
    }

    private final GpuReadings gpus;
    private final PriceList prices;

    public UnitCatalog(GpuReadings gpus, PriceList prices) {
        this.gpus = gpus;
        this.prices = prices;
    }

    public PriceList prices() {
        return prices;
    }

    /** Every unit, GPU by GPU in index order, a MIG GPU's instances by placement. */
    public List<Unit> units() {
        List<Unit> out = new ArrayList<>();
        for (GpuDevice d : gpus.inventory().gpus()) {
            MigState st = gpus.migStates().get(d.uuid());
            if (st == null || !st.current()) {
                out.add(new Unit(d.uuid(), d, null, prices.priceOf(d.name())));
                continue;
            }
            int full = st.profiles().stream().mapToInt(MigProfile::sliceCount).max().orElse(7);
            st.instances().stream().sorted(java.util.Comparator.comparingInt(MigInstance::placementStart))
                    .forEach(m -> out.add(new Unit(m.uuid(), d, m,
                            prices.priceOfMig(d.name(), m.profile(), m.sliceCount(), full))));
        }
        return out;
    }

    public Optional<Unit> byId(String id) {
        return units().stream().filter(u -> u.id().equalsIgnoreCase(id)).findFirst();
    }

    /** The GPU's MIG mode for the offer: {@code enabled}, {@code disabled}, or null without MIG. */
    public String migMode(GpuDevice d) {
        MigState st = gpus.migStates().get(d.uuid());
        return st == null ? null : st.current() ? "enabled" : "disabled";
    }

    /**
     * The GPUs linked by NVLink, as groups of indexes: the connected components of the NVLink graph
     * (on real machines each is fully connected: an NVSwitch board, or bridged pairs). GPUs with no
     * NVLink are in no group.
     */
    public List<List<Integer>> nvlinkGroups() {
        GpuTopology t = gpus.topology();
        List<GpuDevice> devs = gpus.inventory().gpus();
        int n = Math.min(t.size(), devs.size());
        boolean[] seen = new boolean[n];
        List<List<Integer>> groups = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (seen[i]) {
                continue;
            }
            List<Integer> g = new ArrayList<>();
            java.util.ArrayDeque<Integer> todo = new java.util.ArrayDeque<>(List.of(i));
            seen[i] = true;
            while (!todo.isEmpty()) {
                int a = todo.pop();
                g.add(devs.get(a).index());
                for (int b = 0; b < n; b++) {
                    if (!seen[b] && t.nvlinks(a, b) > 0) {
                        seen[b] = true;
                        todo.push(b);
                    }
                }
            }
            if (g.size() > 1) {
                g.sort(null);
                groups.add(List.copyOf(g));
            }
        }
        return groups;
    }
}

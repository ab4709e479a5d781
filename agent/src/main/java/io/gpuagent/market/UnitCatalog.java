package io.gpuagent.market;

import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuReadings;
import io.gpuagent.gpu.MigProfile;
import io.gpuagent.gpu.MigState;
import io.gpuagent.session.GpuSetPolicy;
import io.gpuagent.session.GpuUnit;
import io.gpuagent.session.UnitLayout;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What this host rents out, unit by unit, with the owner's price. The units are the allocator's
 * ({@link UnitLayout#of}: every GPU not in MIG mode whole, every MIG instance of the others), read
 * fresh from the GPU layer on each call, since MIG instances change when the agent applies a layout.
 */
public final class UnitCatalog {
    /**
     * One rentable unit.
     *
     * @param price the owner's price per second, empty when the owner priced no such unit
     */
    public record Unit(GpuUnit unit, GpuDevice gpu, Integer slices, Optional<BigInteger> price) {
        public String id() {
            return unit.uuid();
        }

        public boolean whole() {
            return !unit.isMig();
        }

        public String kind() {
            return unit.isMig() ? "mig" : "gpu";
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

    public UnitLayout layout() {
        return UnitLayout.of(gpus.inventory(), gpus.migStates(), gpus.topology());
    }

    /** Every unit, GPU by GPU in index order, a MIG GPU's instances by placement. */
    public List<Unit> units() {
        Map<String, MigState> mig = gpus.migStates();
        List<Unit> out = new ArrayList<>();
        for (GpuUnit u : layout().units()) {
            GpuDevice d = gpus.inventory().byUuid(u.gpuUuid()).orElseThrow();
            if (!u.isMig()) {
                out.add(new Unit(u, d, null, prices.priceOf(d.name())));
                continue;
            }
            MigState st = mig.get(d.uuid());
            int full = st == null ? 7 : st.profiles().stream().mapToInt(MigProfile::sliceCount).max().orElse(7);
            int slices = MigProfile.slicesOf(u.migProfile());
            out.add(new Unit(u, d, slices, prices.priceOfMig(d.name(), u.migProfile(), slices, full)));
        }
        return out;
    }

    public Optional<Unit> byId(String id) {
        return units().stream().filter(u -> u.id().equalsIgnoreCase(id)).findFirst();
    }

    /** The GPU's MIG mode for the offer: {@code enabled}, {@code disabled}, or null without MIG. */
    public String migMode(GpuDevice d) {
        MigState st = gpus.migStates().get(d.uuid());
        // unread (a failed or hung MIG call): what the probe saw, the rule UnitLayout.of follows too
        return st == null ? d.migMode() : st.current() ? "enabled" : "disabled";
    }

    /** The GPUs NVLink joins, as groups of indexes ({@link GpuSetPolicy#nvlinkGroups}). */
    public List<List<Integer>> nvlinkGroups() {
        List<List<Integer>> out = new ArrayList<>();
        for (List<String> g : GpuSetPolicy.nvlinkGroups(gpus.topology())) {
            out.add(g.stream().map(u -> gpus.inventory().byUuid(u).map(GpuDevice::index).orElse(-1)).toList());
        }
        return out;
    }
}

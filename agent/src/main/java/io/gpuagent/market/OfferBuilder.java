package io.gpuagent.market;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuHealth;
import io.gpuagent.gpu.GpuHealthRegistry;
import io.gpuagent.gpu.GpuHealthState;
import io.gpuagent.gpu.GpuInventory;
import io.gpuagent.protocol.Message;
import io.gpuagent.session.SessionView;
import io.gpuagent.util.Clock;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Builds the offer from the probed inventory, GPU health, the sessions holding GPUs and the
 * owner's config. A GPU is {@code free} when it is healthy, priced, held by no session and not in
 * MIG mode; an unhealthy GPU stays listed (so the marketplace sees why) but is never free. The
 * offer's {@code units} list what a renter can hold, whole GPUs and MIG instances ({@link UnitCatalog}),
 * each with its own price and {@code free} flag; {@code free_gpus} counts free whole GPUs. A simulated GPU
 * makes the whole offer {@code simulated}: simulated GPUs are never sold as real.
 */
public final class OfferBuilder {
    private final AgentConfig config;
    private final GpuInventory inventory;
    private final GpuHealthRegistry health;
    private final Supplier<List<SessionView>> sessions;
    private final BooleanSupplier draining;
    private final PaymentPort payments;
    private final String agentVersion;
    private final String hostId;
    private final PriceList prices;
    private final Clock clock;
    private final long memoryMb;

    private final UnitCatalog units;
    private volatile Supplier<Set<String>> allocatable;
    private volatile Supplier<Optional<String>> unavailable = Optional::empty;

    public OfferBuilder(AgentConfig config, io.gpuagent.gpu.GpuReadings readings, GpuHealthRegistry health,
                        Supplier<List<SessionView>> sessions, BooleanSupplier draining, PaymentPort payments,
                        String agentVersion, String hostId, Clock clock) {
        this.config = config;
        this.inventory = readings.inventory();
        this.health = health;
        this.sessions = sessions;
        this.draining = draining;
        this.payments = payments;
        this.agentVersion = agentVersion;
        this.hostId = hostId;
        this.prices = new PriceList(config.offer().prices(), config.offer().migPrices());
        this.units = new UnitCatalog(readings, prices);
        this.clock = clock;
        this.memoryMb = memTotalMb();
    }

    public PriceList prices() {
        return prices;
    }

    public UnitCatalog units() {
        return units;
    }

    /**
     * Takes "free" from the allocator ({@code GpuAllocator.free()}: held, blocked across a GPU and
     * its instances, and unhealthy units excluded), so that the offer never lists a unit a launch
     * would be refused; without it (tests) free is worked out from the sessions and health.
     */
    public OfferBuilder allocatableFrom(Supplier<Set<String>> freeUnits) {
        this.allocatable = freeUnits;
        return this;
    }

    /**
     * Where the offer learns that renting is unavailable (the container engine does not answer):
     * then no unit is free and the offer says {@code "unavailable": "engine_unavailable"}.
     */
    public OfferBuilder engineProblemFrom(Supplier<Optional<String>> problem) {
        this.unavailable = problem;
        return this;
    }

    public Message.Offer build() {
        Set<String> held = new HashSet<>();
        for (SessionView v : sessions.get()) {
            if (!v.state().terminal()) {
                held.addAll(v.gpus());
            }
        }
        String notRentable = unavailable.get().isPresent() ? "engine_unavailable" : null;
        boolean drained = draining.getAsBoolean();
        Supplier<Set<String>> fromAllocator = allocatable;
        Set<String> freeNow = fromAllocator == null ? null : fromAllocator.get();
        List<UnitCatalog.Unit> all = units.units();
        Set<String> inMig = new HashSet<>();
        List<Message.OfferUnit> offered = new ArrayList<>();
        int free = 0;
        for (UnitCatalog.Unit u : all) {
            GpuDevice d = u.gpu();
            String h = healthOf(u);
            boolean isFree = u.price().isPresent() && !drained && notRentable == null && (freeNow != null ? freeNow.contains(u.id())
                    : h.equals("healthy") && !held.contains(u.id()));
            if (!u.whole()) {
                inMig.add(d.uuid());
            }
            offered.add(new Message.OfferUnit(u.id(), u.kind(), d.index(), d.uuid(), d.name(), u.unit().migProfile(),
                    u.slices(), u.unit().memoryBytes() / (1024 * 1024), u.whole() ? null : u.unit().gpuInstanceId(), h,
                    isFree, u.price().map(BigInteger::toString).orElse(null)));
        }
        List<Message.OfferGpu> gpus = new ArrayList<>();
        for (GpuDevice d : inventory.gpus()) {
            GpuHealthState s = health.state(d.uuid());
            GpuHealth h = s == null ? GpuHealth.UNKNOWN : s.health();
            String migMode = units.migMode(d);
            boolean whole = !"enabled".equals(migMode);
            Optional<BigInteger> price = prices.priceOf(d.name());
            boolean isFree = whole && price.isPresent() && !drained && notRentable == null && !inMig.contains(d.uuid())
                    && (freeNow != null ? freeNow.contains(d.uuid()) : h == GpuHealth.HEALTHY && !held.contains(d.uuid()));
            if (isFree) {
                free++;
            }
            gpus.add(new Message.OfferGpu(d.index(), d.uuid(), d.name(), d.memoryTotalBytes() / (1024 * 1024), d.pciBusId(),
                    d.pcieMaxGeneration(), d.pcieMaxWidth(), d.computeCapability(), h.name().toLowerCase(Locale.ROOT),
                    isFree, price.map(BigInteger::toString).orElse(null), migMode));
        }
        var o = config.offer();
        return new Message.Offer(hostId, config.agent().region(), agentVersion, inventory.driver().simulated(),
                inventory.driver().driverVersion(), inventory.driver().cudaDriverVersion(),
                Runtime.getRuntime().availableProcessors(), memoryMb, o.diskGb(), o.bandwidthMbps(), drained,
                payments.payoutAddress(), payments.token(), payments.chainId(), o.minDurationS(),
                config.sessions().maxDurationS(), o.storagePricePerGbHour(), o.bandwidthPricePerGb(), gpus, free,
                clock.wallTime().toString(), offered, units.nvlinkGroups(), payments.escrowContract(),
                notRentable);
    }

    /** A unit's health: its GPU's, or for a MIG instance its own when an XID scoped to it said worse. */
    private String healthOf(UnitCatalog.Unit u) {
        GpuHealth h = health.unitHealth(u.id());
        return (h == null ? GpuHealth.UNKNOWN : h).name().toLowerCase(Locale.ROOT);
    }

    private static long memTotalMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux or unreadable: advertise what the JVM sees
        }
        return Runtime.getRuntime().maxMemory() / (1024 * 1024);
    }
}

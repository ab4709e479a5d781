package io.gpuagent.market;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.gpu.FakeGpuDriver;
import io.gpuagent.gpu.GpuMonitor;
import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.gpu.MigConfigurator;
import io.gpuagent.gpu.MigInstance;
import io.gpuagent.protocol.Message;
import io.gpuagent.session.SessionState;
import io.gpuagent.session.SessionView;
import io.gpuagent.util.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The offer's units: whole GPUs not in MIG mode, MIG instances of the others, each priced and free or not. */
class OfferUnitsTest {
    private final FakeGpuDriver driver = new FakeGpuDriver(4);
    private final List<SessionView> sessions = new ArrayList<>();
    private GpuMonitor gpus;

    @AfterEach
    void close() {
        gpus.close();
    }

    private OfferBuilder offers(List<String> sets) throws Exception {
        AgentConfig config = ConfigLoader.load(null, Map.of(), sets);
        gpus = GpuMonitor.open(driver, Clock.SYSTEM, Duration.ofSeconds(1), Duration.ofSeconds(2), false);
        return new OfferBuilder(config, gpus, gpus.health(), () -> sessions, () -> false, PaymentPort.NONE, "test",
                "host-1", Clock.SYSTEM);
    }

    private static SessionView holding(String unit) {
        return new SessionView("s-1", "0x" + "1".repeat(64), "0xrenter", "img", SessionState.RUNNING, List.of(unit),
                List.of(), "c", null, null, 0, null, null, null, false, null, null);
    }

    @Test
    void whileTheEngineDoesNotAnswerNothingIsFreeAndTheOfferSaysWhy() throws Exception {
        // issue 10, item 9: an unreachable engine left every GPU free in the offer; launches failed later
        java.util.concurrent.atomic.AtomicReference<String> problem = new java.util.concurrent.atomic.AtomicReference<>(
                "the container engine does not answer (connection refused)");
        OfferBuilder offers = offers(List.of()).engineProblemFrom(() -> java.util.Optional.ofNullable(problem.get()));
        Message.Offer down = offers.build();
        assertThat(down.unavailable()).isEqualTo("engine_unavailable");
        assertThat(down.freeGpus()).isZero();
        assertThat(down.gpus()).noneMatch(Message.OfferGpu::free);
        assertThat(down.units()).noneMatch(Message.OfferUnit::free);
        com.fasterxml.jackson.databind.node.ObjectNode body = io.gpuagent.protocol.MessageCodec.encode(down, null).body();
        assertThat(body.path("unavailable").asText()).isEqualTo("engine_unavailable");
        assertThat(body.path("free_gpus").asInt()).isZero();

        problem.set(null);
        Message.Offer up = offers.build();
        assertThat(up.unavailable()).isNull();
        assertThat(up.freeGpus()).isEqualTo(4);
        assertThat(io.gpuagent.protocol.MessageCodec.encode(up, null).body().has("unavailable"))
                .as("omitted while renting is available: protocol v1 offers are unchanged").isFalse();
    }

    @Test
    void aMigGpuIsRentedByItsInstancesEachAtItsShareOfTheGpuPriceUnlessPricedExplicitly() throws Exception {
        driver.enableMig(0);
        int[][] anc = new int[4][4];
        int[][] nv = new int[4][4];
        nv[0][1] = nv[1][0] = 12;
        nv[2][3] = nv[3][2] = 12;
        List<String> uuids = java.util.stream.IntStream.range(0, 4)
                .mapToObj(i -> String.format("GPU-fake0000-0000-0000-0000-%012d", i)).toList();
        driver.topology(new GpuTopology(uuids, anc, nv, false));
        OfferBuilder offers = offers(List.of("offer.mig_prices=1g.10gb=95"));
        new MigConfigurator(gpus).apply(Map.of("0", List.of("3g.40gb", "1g.10gb")), Set.of());

        Message.Offer o = offers.build();
        assertThat(o.gpus().get(0).migMode()).isEqualTo("enabled");
        assertThat(o.gpus().get(0).free()).as("a GPU in MIG mode is never rented whole").isFalse();
        assertThat(o.gpus().get(1).migMode()).isNull();
        assertThat(o.freeGpus()).isEqualTo(3);
        assertThat(o.units()).extracting(Message.OfferUnit::kind).containsExactly("mig", "mig", "gpu", "gpu", "gpu");
        Message.OfferUnit big = o.units().stream().filter(u -> "3g.40gb".equals(u.profile())).findFirst().orElseThrow();
        assertThat(big.pricePerSecond()).isEqualTo("262"); // ceil(611 * 3 / 7)
        assertThat(big.memoryMb()).isEqualTo(40 * 1024);
        assertThat(big.slices()).isEqualTo(3);
        assertThat(big.id()).startsWith("MIG-");
        Message.OfferUnit small = o.units().stream().filter(u -> "1g.10gb".equals(u.profile())).findFirst().orElseThrow();
        assertThat(small.pricePerSecond()).isEqualTo("95");
        assertThat(o.units()).allMatch(Message.OfferUnit::free);
        assertThat(o.nvlinkGroups()).containsExactly(List.of(0, 1), List.of(2, 3));

        // a renter holds the 3g slice: only that unit stops being free
        String held = gpus.migStates().values().iterator().next().instances().stream()
                .filter(m -> m.profile().equals("3g.40gb")).map(MigInstance::uuid).findFirst().orElseThrow();
        sessions.add(holding(held));
        Message.Offer after = offers.build();
        assertThat(after.units()).filteredOn(u -> !u.free()).extracting(Message.OfferUnit::id).containsExactly(held);
        assertThat(after.freeGpus()).isEqualTo(3);
    }

    @Test
    void aMachineWithoutMigOffersEveryGpuAsAWholeUnit() throws Exception {
        OfferBuilder offers = offers(List.of());
        Message.Offer o = offers.build();
        assertThat(o.units()).extracting(Message.OfferUnit::kind).containsOnly("gpu").hasSize(4);
        assertThat(o.units()).extracting(Message.OfferUnit::pricePerSecond).containsOnly("611");
        assertThat(o.nvlinkGroups()).isEmpty();
        assertThat(o.gpus()).extracting(Message.OfferGpu::migMode).containsOnlyNulls();
    }

    @Test
    void withTheAllocatorsFreeSetOnlyWhatALaunchCouldGetIsFree() throws Exception {
        driver.enableMig(0);
        OfferBuilder offers = offers(List.of());
        new MigConfigurator(gpus).apply(Map.of("0", List.of("3g.40gb", "1g.10gb")), Set.of());
        List<String> instances = gpus.migStates().values().iterator().next().instances().stream().map(MigInstance::uuid).toList();
        String gpu2 = gpus.inventory().gpus().get(2).uuid();
        // the allocator gives out only the first instance and GPUs 1 and 3 (the rest held or blocked)
        Set<String> allocatable = Set.of(instances.get(0), gpus.inventory().gpus().get(1).uuid(),
                gpus.inventory().gpus().get(3).uuid());
        offers.allocatableFrom(() -> allocatable);
        Message.Offer o = offers.build();
        assertThat(o.units()).filteredOn(Message.OfferUnit::free).extracting(Message.OfferUnit::id)
                .containsExactlyInAnyOrderElementsOf(allocatable);
        assertThat(o.gpus().get(2).free()).isFalse();
        assertThat(o.gpus().get(2).uuid()).isEqualTo(gpu2);
        assertThat(o.freeGpus()).isEqualTo(2);
    }
}

package io.gpuagent.session;

import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.gpu.MigInstance;
import io.gpuagent.session.UnitRequest.TopologyWish;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GpuAllocatorTest {
    private final Set<String> unhealthy = new HashSet<>();
    private final GpuAllocator alloc = new GpuAllocator(List.of("GPU-a", "GPU-b", "GPU-c", "GPU-d"),
            u -> !unhealthy.contains(u));

    private static List<String> uuids(List<GpuUnit> units) {
        return units.stream().map(GpuUnit::uuid).toList();
    }

    private static void refused(ThrowingCall call, String code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(AllocationException.class,
                e -> assertThat(e.code()).isEqualTo(code));
    }

    @FunctionalInterface
    private interface ThrowingCall {
        void run() throws Exception;
    }

    @Test
    void eachGpuGoesToOneSessionAndARetryGetsTheSameGpus() throws Exception {
        assertThat(alloc.allocate("s1", 2, List.of())).containsExactly("GPU-a", "GPU-b");
        assertThat(alloc.allocate("s1", 2, List.of())).as("idempotent").containsExactly("GPU-a", "GPU-b");
        assertThat(alloc.allocate("s1", UnitRequest.migProfile("1g.10gb"))).as("idempotent whatever it asks now")
                .containsExactly("GPU-a", "GPU-b");
        assertThat(alloc.allocate("s2", 2, List.of())).containsExactly("GPU-c", "GPU-d");
        refused(() -> alloc.allocate("s3", 1, List.of()), "gpus_unavailable");
        alloc.release("s1");
        assertThat(uuids(alloc.free())).containsExactly("GPU-a", "GPU-b");
        assertThat(alloc.allocate("s3", 1, List.of())).containsExactly("GPU-a");
        assertThat(alloc.allocate("cpu-only", UnitRequest.gpus(0, TopologyWish.PREFER))).isEmpty();
        assertThat(alloc.heldBy("cpu-only")).isEmpty();
    }

    @Test
    void unhealthyGpusAreNeverGivenOut() throws Exception {
        unhealthy.add("GPU-a");
        assertThat(alloc.allocate("s1", 1, List.of())).containsExactly("GPU-b");
        refused(() -> alloc.allocate("s2", 1, List.of("GPU-a")), "gpu_unhealthy");
        assertThat(uuids(alloc.free())).containsExactly("GPU-c", "GPU-d");
    }

    @Test
    void namedGpusMustBeFreeAndKnownAndAFailureAllocatesNothing() throws Exception {
        alloc.allocate("s1", 0, List.of("GPU-c"));
        assertThatThrownBy(() -> alloc.allocate("s2", 0, List.of("GPU-d", "GPU-c")))
                .isInstanceOfSatisfying(AllocationException.class, e -> assertThat(e.code()).isEqualTo("gpu_busy"))
                .hasMessageContaining("GPU-c").hasMessageContaining("s1");
        assertThat(alloc.ownerOf("GPU-d")).as("nothing half-allocated").isEmpty();
        refused(() -> alloc.allocate("s2", 0, List.of("GPU-zz")), "gpu_unknown");
        refused(() -> alloc.allocate("s2", 9, List.of()), "gpu_count");
        refused(() -> alloc.allocate("s2", -1, List.of()), "gpu_count");
        refused(() -> alloc.allocate("s2", UnitRequest.exact(List.of("GPU-d", "GPU-d"))), "unit_duplicate");
        assertThat(alloc.heldBy("s2")).as("every refusal left s2 with nothing").isEmpty();
        assertThat(uuids(alloc.free())).containsExactly("GPU-a", "GPU-b", "GPU-d");
    }

    @Test
    void adoptionRebuildsAllocationFromContainersAndReportsConflicts() {
        assertThat(alloc.adopt("s1", List.of("GPU-b", "GPU-c"))).isEmpty();
        assertThat(alloc.heldBy("s1")).containsExactly("GPU-b", "GPU-c");
        assertThat(alloc.adopt("s2", List.of("GPU-c", "GPU-x"))).extracting(UnitConflict::toString).containsExactly(
                "GPU-c (held by s1)", "GPU-x (not on this machine; held until the session ends)");
        assertThat(alloc.ownerOf("GPU-c")).contains("s1");
        assertThat(alloc.adopt("s1", List.of("GPU-b"))).as("adopting again changes nothing").isEmpty();
        assertThat(alloc.heldBy("s1")).containsExactly("GPU-b", "GPU-c");
    }

    // --- MIG: an H100 (GPU-h0) cut into 1g.10gb x2 and 3g.40gb, beside a whole GPU (GPU-w) ---

    private static final MigInstance SLICE_A = mig("MIG-a", "GPU-h0", 0, 9, "1g.10gb", 10, 0);
    private static final MigInstance SLICE_B = mig("MIG-b", "GPU-h0", 0, 10, "1g.10gb", 10, 1);
    private static final MigInstance SLICE_C = mig("MIG-c", "GPU-h0", 0, 2, "3g.40gb", 40, 4);
    private static final MigInstance SLICE_D = mig("MIG-d", "GPU-h1", 1, 9, "1g.10gb", 10, 6);

    private static MigInstance mig(String uuid, String gpu, int index, int gi, String profile, long gb, int placement) {
        return new MigInstance(uuid, gpu, index, gi, 0, profile, Integer.parseInt(profile.substring(0, 1)), gb << 30,
                placement, Integer.parseInt(profile.substring(0, 1)));
    }

    private static UnitLayout layout(List<MigInstance> onH0, List<MigInstance> onH1) {
        List<GpuUnit> units = new ArrayList<>();
        onH0.forEach(m -> units.add(GpuUnit.mig(m, "NVIDIA H100 80GB HBM3")));
        if (onH0.isEmpty()) {
            units.add(GpuUnit.gpu("GPU-h0", 0));
        }
        onH1.forEach(m -> units.add(GpuUnit.mig(m, "NVIDIA H100 80GB HBM3")));
        units.add(GpuUnit.gpu("GPU-w", 2));
        return new UnitLayout(units, GpuTopology.unknown(List.of("GPU-h0", "GPU-h1", "GPU-w")));
    }

    private final GpuAllocator mig = new GpuAllocator(layout(List.of(SLICE_A, SLICE_B, SLICE_C), List.of(SLICE_D)),
            u -> !unhealthy.contains(u));

    @Test
    void aGpuThatRunsMigIsRentedAsItsInstancesNeverWhole() throws Exception {
        assertThat(mig.free()).extracting(GpuUnit::uuid, GpuUnit::kind, GpuUnit::migProfile).containsExactly(
                org.assertj.core.groups.Tuple.tuple("MIG-a", GpuUnit.Kind.MIG, "1g.10gb"),
                org.assertj.core.groups.Tuple.tuple("MIG-b", GpuUnit.Kind.MIG, "1g.10gb"),
                org.assertj.core.groups.Tuple.tuple("MIG-c", GpuUnit.Kind.MIG, "3g.40gb"),
                org.assertj.core.groups.Tuple.tuple("MIG-d", GpuUnit.Kind.MIG, "1g.10gb"),
                org.assertj.core.groups.Tuple.tuple("GPU-w", GpuUnit.Kind.GPU, null));
        assertThat(mig.unit("MIG-c").orElseThrow()).extracting(GpuUnit::gpuUuid, GpuUnit::gpuInstanceId,
                GpuUnit::memoryBytes).containsExactly("GPU-h0", 2, 40L << 30);
        refused(() -> mig.allocate("s1", UnitRequest.exact(List.of("GPU-h0"))), "gpu_mig_enabled");
        assertThatThrownBy(() -> mig.allocate("s1", UnitRequest.gpus(2, TopologyWish.PREFER)))
                .isInstanceOfSatisfying(AllocationException.class, e -> assertThat(e.code()).isEqualTo("gpu_count"))
                .hasMessageContaining("2 more run MIG");
        assertThat(mig.allocate("s1", UnitRequest.gpus(1, TopologyWish.PREFER))).containsExactly("GPU-w");
        assertThat(mig.allocate("s2", UnitRequest.exact(List.of("MIG-c", "MIG-d")))).containsExactly("MIG-c", "MIG-d");
        refused(() -> mig.allocate("s3", UnitRequest.exact(List.of("MIG-c"))), "gpu_busy");
        assertThat(uuids(mig.free())).containsExactly("MIG-a", "MIG-b");
    }

    @Test
    void aProfileGetsAnInstanceOnAGpuAlreadyInUseThenTheLowestIndexThenTheLowestPlacement() throws Exception {
        MigInstance big = mig("MIG-e", "GPU-h1", 1, 1, "3g.40gb", 40, 0);
        GpuAllocator a = new GpuAllocator(layout(List.of(SLICE_A, SLICE_B, SLICE_C), List.of(big, SLICE_D)),
                u -> !unhealthy.contains(u));
        assertThat(a.allocate("s1", UnitRequest.migProfile("1g.10gb"))).as("nothing in use: GPU 0, placement 0")
                .containsExactly("MIG-a");
        a.release("s1");
        assertThat(a.allocate("big", UnitRequest.exact(List.of("MIG-e")))).containsExactly("MIG-e");
        assertThat(a.allocate("s2", UnitRequest.migProfile("1G.10GB"))).as("packs GPU 1, in use already, "
                + "though GPU 0 has the lower index").containsExactly("MIG-d");
        assertThat(a.allocate("s3", UnitRequest.migProfile("1g.10gb"))).as("GPU 1 has no 1g left: GPU 0, placement 0")
                .containsExactly("MIG-a");
        unhealthy.add("MIG-b");
        refused(() -> a.allocate("s4", UnitRequest.migProfile("1g.10gb")), "mig_unavailable");
        assertThatThrownBy(() -> a.allocate("s4", UnitRequest.migProfile("7g.80gb")))
                .isInstanceOfSatisfying(AllocationException.class, e -> assertThat(e.code())
                        .isEqualTo("mig_profile_unknown")).hasMessageContaining("[1g.10gb, 3g.40gb]");
        assertThat(a.heldBy("s4")).as("refusals allocate nothing").isEmpty();
        assertThat(uuids(a.free())).containsExactly("MIG-c", "GPU-w");
    }

    @Test
    void anInstanceIsUnhealthyWhenItsGpuIs() throws Exception {
        unhealthy.add("GPU-h0");
        assertThat(uuids(mig.free())).containsExactly("MIG-d", "GPU-w");
        refused(() -> mig.allocate("s1", UnitRequest.exact(List.of("MIG-a"))), "gpu_unhealthy");
        assertThat(mig.allocate("s1", UnitRequest.migProfile("1g.10gb"))).containsExactly("MIG-d");
    }

    @Test
    void aFaultOnAGpuConcernsEverySessionOnItAndOneOnAnInstanceOnlyItsHolder() throws Exception {
        mig.allocate("s1", UnitRequest.exact(List.of("MIG-a")));
        mig.allocate("s2", UnitRequest.exact(List.of("MIG-c")));
        mig.allocate("s3", UnitRequest.exact(List.of("MIG-d")));
        mig.allocate("s4", UnitRequest.exact(List.of("GPU-w")));
        assertThat(mig.sessionsOn("GPU-h0")).containsExactlyInAnyOrder("s1", "s2");
        assertThat(mig.sessionsOn("MIG-c")).containsExactly("s2");
        assertThat(mig.sessionsOn("GPU-w")).containsExactly("s4");
        assertThat(mig.sessionsOn("MIG-b")).as("free").isEmpty();
    }

    @Test
    void anUpdateNeverTakesAHeldUnitAwayAndReportsEveryConflict() throws Exception {
        GpuAllocator a = new GpuAllocator(layout(List.of(), List.of(SLICE_D)), u -> true);
        assertThat(a.allocate("whole", UnitRequest.exact(List.of("GPU-h0")))).containsExactly("GPU-h0");
        assertThat(a.allocate("slice", UnitRequest.exact(List.of("MIG-d")))).containsExactly("MIG-d");
        // GPU 0 now runs MIG (while held whole), GPU 1's instance is gone
        List<UnitConflict> conflicts = a.update(layout(List.of(SLICE_A, SLICE_B), List.of()));
        assertThat(conflicts).extracting(UnitConflict::uuid, UnitConflict::session).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("GPU-h0", "whole"), org.assertj.core.groups.Tuple.tuple("MIG-d", "slice"));
        assertThat(a.ownerOf("GPU-h0")).contains("whole");
        assertThat(a.ownerOf("MIG-d")).contains("slice");
        assertThat(uuids(a.free())).as("GPU 0's instances wait for the whole-GPU session").containsExactly("GPU-w");
        refused(() -> a.allocate("s", UnitRequest.exact(List.of("MIG-a"))), "gpu_busy");
        refused(() -> a.allocate("s", UnitRequest.exact(List.of("MIG-d"))), "gpu_busy");
        assertThat(a.sessionsOn("GPU-h1")).as("a dropped instance still belongs to its GPU").containsExactly("slice");
        a.release("whole");
        a.release("slice");
        assertThat(uuids(a.free())).containsExactly("MIG-a", "MIG-b", "GPU-w");
        assertThat(a.unit("MIG-d")).as("forgotten once released").isEmpty();

        // the other way round: a held instance, and its GPU listed whole again
        a.allocate("slice", UnitRequest.exact(List.of("MIG-a")));
        assertThat(a.update(layout(List.of(), List.of()))).extracting(UnitConflict::uuid)
                .containsExactly("MIG-a");
        assertThat(uuids(a.free())).as("GPU 0 is not given out whole while its instance is held")
                .containsExactly("GPU-w");
        refused(() -> a.allocate("s", UnitRequest.exact(List.of("GPU-h0"))), "gpu_busy");
    }

    @Test
    void aContainerFoundAfterARestartKeepsItsMigDevicesAndAnUnknownOneIsHeldUntilItAppears() throws Exception {
        GpuAllocator a = new GpuAllocator(layout(List.of(), List.of(SLICE_D)), u -> true);
        assertThat(a.adopt("s1", List.of("MIG-d"))).isEmpty();
        assertThat(a.adopt("s2", List.of("MIG-a"))).extracting(UnitConflict::uuid).as("not created yet")
                .containsExactly("MIG-a");
        a.update(layout(List.of(SLICE_A, SLICE_B), List.of(SLICE_D)));
        assertThat(a.ownerOf("MIG-a")).contains("s2");
        assertThat(uuids(a.free())).containsExactly("MIG-b", "GPU-w");
        assertThat(a.adopt("s3", List.of("GPU-h1"))).as("GPU 1 runs MIG now").extracting(UnitConflict::uuid)
                .containsExactly("GPU-h1");
        assertThat(a.ownerOf("GPU-h1")).as("held, so that its instances stay blocked").contains("s3");
        assertThat(a.sessionsOn("GPU-h1")).containsExactlyInAnyOrder("s1", "s3");
        assertThat(a.adopt("s4", List.of("MIG-d"))).extracting(UnitConflict::toString)
                .containsExactly("MIG-d (held by s1)");
        assertThat(a.heldBy("s4")).isEmpty();
    }

    @Test
    void aCountOfGpusOnATopologyFollowsThePolicyAndAnNvlinkWishIsRefusedWithACode() throws Exception {
        GpuTopology t = Machines.a100PciePairs4();
        GpuAllocator a = new GpuAllocator(Machines.wholeGpus(t), u -> true);
        assertThat(a.allocate("s1", UnitRequest.exact(List.of(t.uuids().get(1))))).hasSize(1);
        assertThat(a.allocate("s2", UnitRequest.gpus(1, TopologyWish.PREFER))).as("the orphan")
                .containsExactly(t.uuids().get(0));
        a.release("s2");
        a.allocate("s3", UnitRequest.exact(List.of(t.uuids().get(3))));
        refused(() -> a.allocate("s4", UnitRequest.gpus(2, TopologyWish.NVLINK)), "gpus_not_nvlinked");
        assertThat(a.heldBy("s4")).isEmpty();
        assertThat(a.allocate("s4", UnitRequest.gpus(2, TopologyWish.PREFER))).containsExactly(t.uuids().get(0),
                t.uuids().get(2));
    }
}

package io.gpuagent.session;

import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.session.UnitRequest.TopologyWish;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import static io.gpuagent.session.Machines.uuids;
import static org.assertj.core.api.Assertions.assertThat;

/** The topology policy on machine profiles given as data (docs/sessions.md, "Units and topology"). */
class GpuSetPolicyTest {

    /** The free GPUs of {@code t}: all but {@code taken}, in index order. */
    private static List<String> freeBut(GpuTopology t, int... taken) {
        Set<Integer> busy = new HashSet<>();
        for (int i : taken) {
            busy.add(i);
        }
        return IntStream.range(0, t.size()).filter(i -> !busy.contains(i)).mapToObj(t.uuids()::get).toList();
    }

    private static List<String> choose(GpuTopology t, int count, TopologyWish wish, int... taken) {
        return new GpuSetPolicy(Machines.wholeGpus(t)).choose(freeBut(t, taken), count, wish).orElseThrow();
    }

    @Test
    void pairsScoreNvlinksFirstThenThePciePath() {
        GpuSetPolicy h100 = new GpuSetPolicy(Machines.wholeGpus(Machines.h100Sxm8()));
        GpuTopology t = Machines.h100Sxm8();
        assertThat(h100.pairScore(t.uuids().get(0), t.uuids().get(1))).isEqualTo(18 * 100 + 50);
        assertThat(h100.pairScore(t.uuids().get(0), t.uuids().get(2))).isEqualTo(18 * 100 + 20);
        assertThat(h100.pairScore(t.uuids().get(0), t.uuids().get(7))).isEqualTo(18 * 100 + 10);
        assertThat(h100.pairScore(t.uuids().get(0), "GPU-elsewhere")).as("not in the topology").isZero();
        assertThat(List.of(GpuTopology.INTERNAL, GpuTopology.SINGLE, GpuTopology.MULTIPLE, GpuTopology.HOSTBRIDGE,
                GpuTopology.NODE, GpuTopology.SYSTEM, -1)).extracting(GpuSetPolicy::pcieScore)
                .as("closer is better; unknown is worst").containsExactly(60, 50, 40, 30, 20, 10, 0);
    }

    @Test
    void onAnNvswitchBoxSetsStayUnderOneSwitchThenOneNumaNode() {
        GpuTopology t = Machines.h100Sxm8();
        assertThat(choose(t, 2, TopologyWish.PREFER)).isEqualTo(uuids(t, 0, 1));
        assertThat(choose(t, 2, TopologyWish.PREFER, 0, 1)).isEqualTo(uuids(t, 2, 3));
        assertThat(choose(t, 4, TopologyWish.PREFER)).as("one NUMA node").isEqualTo(uuids(t, 0, 1, 2, 3));
        assertThat(choose(t, 4, TopologyWish.NVLINK, 0)).as("all NVSwitched: the best set is on node 1")
                .isEqualTo(uuids(t, 4, 5, 6, 7));
        assertThat(choose(t, 8, TopologyWish.NVLINK)).hasSize(8);
    }

    @Test
    void onAPartlyRentedNvswitchBoxSmallLaunchesTakeTheOrphansAndBigOnesIntactSwitchPairs() {
        GpuTopology t = Machines.h100Sxm8();
        // GPUs 1 and 4 rented: 0 and 5 have lost their switch partners
        assertThat(choose(t, 1, TopologyWish.PREFER, 1, 4)).as("an orphan, not half of a pair").isEqualTo(uuids(t, 0));
        assertThat(choose(t, 2, TopologyWish.PREFER, 1, 4)).isEqualTo(uuids(t, 2, 3));
        // no 4 free on one node now: the best crossing set is two whole switch pairs
        assertThat(choose(t, 4, TopologyWish.PREFER, 1, 4)).isEqualTo(uuids(t, 2, 3, 6, 7));
        assertThat(choose(t, 1, TopologyWish.ANY, 1, 4)).as("any: the lowest index, as before").isEqualTo(uuids(t, 0));
        assertThat(choose(t, 2, TopologyWish.ANY, 1, 4)).isEqualTo(uuids(t, 0, 2));
    }

    @Test
    void onAnA100BoxWithBridgedPairsAOneGpuLaunchLeavesTheIntactPairWhole() {
        GpuTopology t = Machines.a100PciePairs4();
        assertThat(choose(t, 1, TopologyWish.PREFER, 2)).as("GPU 2 rented: its partner 3, not 0")
                .isEqualTo(uuids(t, 3));
        assertThat(choose(t, 1, TopologyWish.ANY, 2)).as("any: as before, GPU 0").isEqualTo(uuids(t, 0));
        assertThat(choose(t, 1, TopologyWish.PREFER)).as("all free: a full tie, the lowest index")
                .isEqualTo(uuids(t, 0));
        assertThat(choose(t, 2, TopologyWish.PREFER)).isEqualTo(uuids(t, 0, 1));
        assertThat(choose(t, 2, TopologyWish.PREFER, 1)).as("the bridged pair beats 0 with either").isEqualTo(uuids(t, 2, 3));
        assertThat(choose(t, 2, TopologyWish.PREFER, 1, 3)).as("no pair left: across the system")
                .isEqualTo(uuids(t, 0, 2));
        assertThat(new GpuSetPolicy(Machines.wholeGpus(t)).choose(freeBut(t, 1, 3), 2, TopologyWish.NVLINK))
                .as("no NVLinked pair free").isEmpty();
        assertThat(choose(t, 1, TopologyWish.NVLINK, 0)).as("one GPU is NVLinked to itself").isEqualTo(uuids(t, 1));
    }

    @Test
    void onAPcieRigSetsStayUnderASwitchThenOnANumaNodeAndNvlinkIsRefused() {
        GpuTopology t = Machines.rtxRig6();
        assertThat(choose(t, 2, TopologyWish.PREFER)).isEqualTo(uuids(t, 0, 1));
        assertThat(choose(t, 3, TopologyWish.PREFER)).as("one NUMA node").isEqualTo(uuids(t, 0, 1, 2));
        assertThat(choose(t, 2, TopologyWish.PREFER, 1)).as("the other switch beats a NUMA-node pair")
                .isEqualTo(uuids(t, 3, 4));
        assertThat(choose(t, 1, TopologyWish.PREFER)).as("the GPU under no switch, leaving both switch pairs")
                .isEqualTo(uuids(t, 2));
        assertThat(choose(t, 3, TopologyWish.PREFER, 0)).as("GPU 0 rented: the other node whole, not 1, 2 and one across")
                .isEqualTo(uuids(t, 3, 4, 5));
        assertThat(new GpuSetPolicy(Machines.wholeGpus(t)).choose(freeBut(t), 2, TopologyWish.NVLINK)).isEmpty();
    }

    @Test
    void aMachineTooBigToSearchIsGrownGreedilyAndStillKeepsPairsWhole() {
        GpuTopology t = Machines.pairs(24);
        assertThat(GpuSetPolicy.combinations(24, 12)).as("the greedy path").isGreaterThan(GpuSetPolicy.EXHAUSTIVE_LIMIT);
        assertThat(GpuSetPolicy.combinations(8, 4)).isEqualTo(70);
        List<String> set = choose(t, 12, TopologyWish.PREFER, 5);
        assertThat(set).hasSize(12).doesNotHaveDuplicates().doesNotContain(t.uuids().get(5));
        List<Integer> idx = new ArrayList<>(set.stream().map(t.uuids()::indexOf).toList());
        assertThat(idx).as("whole NVLink pairs only").allMatch(i -> idx.contains(i ^ 1));
        assertThat(new GpuSetPolicy(Machines.wholeGpus(t)).choose(freeBut(t), 12, TopologyWish.NVLINK))
                .as("only pairs are NVLinked here").isEmpty();
    }

    @Test
    void nvlinkGroupsAreTheConnectedGpus() {
        assertThat(GpuSetPolicy.nvlinkGroups(Machines.h100Sxm8())).containsExactly(Machines.h100Sxm8().uuids());
        GpuTopology a100 = Machines.a100PciePairs4();
        assertThat(GpuSetPolicy.nvlinkGroups(a100)).containsExactly(uuids(a100, 0, 1), uuids(a100, 2, 3));
        assertThat(GpuSetPolicy.nvlinkGroups(Machines.rtxRig6())).isEmpty();
    }
}

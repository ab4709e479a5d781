package io.gpuagent.session;

import io.gpuagent.gpu.GpuTopology;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntBinaryOperator;

/**
 * Machine profiles as data: each a {@link GpuTopology} as NVML would report it ({@code nvidia-smi
 * topo -m}), for the topology policy's tests. GPU i's UUID is {@code GPU-<name>-i}.
 */
final class Machines {
    private Machines() {
    }

    /**
     * 8x H100 SXM on an HGX board: every pair NV18 through the NVSwitches; PCIe switches in pairs
     * (0,1) (2,3) (4,5) (6,7); GPUs 0-3 on NUMA node 0, 4-7 on node 1.
     */
    static GpuTopology h100Sxm8() {
        return topology("h100", 8, (i, j) -> i / 2 == j / 2 ? GpuTopology.SINGLE
                : i / 4 == j / 4 ? GpuTopology.NODE : GpuTopology.SYSTEM, (i, j) -> 18, true);
    }

    /**
     * 4x A100 80GB PCIe with NVLink bridges in pairs (0,1) and (2,3), NV12 each; the pair 0,1 on NUMA
     * node 0, the pair 2,3 on node 1; no PCIe switch.
     */
    static GpuTopology a100PciePairs4() {
        return topology("a100", 4, (i, j) -> i / 2 == j / 2 ? GpuTopology.NODE : GpuTopology.SYSTEM,
                (i, j) -> i / 2 == j / 2 ? 12 : 0, false);
    }

    /**
     * 6x RTX 4090 on PCIe only, two NUMA nodes: node 0 has GPUs 0, 1 under one PCIe switch and 2 on
     * the root complex; node 1 the same with 3, 4 and 5.
     */
    static GpuTopology rtxRig6() {
        return topology("rtx", 6, (i, j) -> {
            if (i / 3 != j / 3) {
                return GpuTopology.SYSTEM;
            }
            boolean switched = i % 3 < 2 && j % 3 < 2;
            return switched ? GpuTopology.SINGLE : GpuTopology.NODE;
        }, (i, j) -> 0, false);
    }

    /** {@code n} GPUs in NVLink pairs (NV4), every other pair across the system: a machine too big to search. */
    static GpuTopology pairs(int n) {
        return topology("big", n, (i, j) -> GpuTopology.SYSTEM, (i, j) -> i / 2 == j / 2 ? 4 : 0, false);
    }

    static List<String> uuids(GpuTopology t, int... indices) {
        List<String> out = new ArrayList<>();
        for (int i : indices) {
            out.add(t.uuids().get(i));
        }
        return out;
    }

    /** Every GPU of the topology as a whole-GPU unit. */
    static UnitLayout wholeGpus(GpuTopology t) {
        List<GpuUnit> units = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
            units.add(GpuUnit.gpu(t.uuids().get(i), i));
        }
        return new UnitLayout(units, t);
    }

    private static GpuTopology topology(String name, int n, IntBinaryOperator ancestor, IntBinaryOperator links,
                                        boolean nvswitch) {
        List<String> uuids = new ArrayList<>();
        int[][] a = new int[n][n];
        int[][] l = new int[n][n];
        for (int i = 0; i < n; i++) {
            uuids.add("GPU-" + name + "-" + i);
            for (int j = 0; j < n; j++) {
                a[i][j] = i == j ? GpuTopology.INTERNAL : ancestor.applyAsInt(i, j);
                l[i][j] = i == j ? 0 : links.applyAsInt(i, j);
            }
        }
        return new GpuTopology(uuids, a, l, nvswitch);
    }
}

package io.gpuagent.gpu;

import java.util.List;

/**
 * How the machine's GPUs are connected, as NVML reports it ({@code nvidia-smi topo -m}).
 *
 * @param uuids    the GPUs, in NVML index order; the matrices below are indexed the same way
 * @param ancestor {@code ancestor[i][j]}: NVML's {@code nvmlGpuTopologyLevel_t} for the closest common
 *                 ancestor of GPUs i and j: {@link #INTERNAL} 0, {@link #SINGLE} 10 (one PCIe switch),
 *                 {@link #MULTIPLE} 20 (several switches), {@link #HOSTBRIDGE} 30, {@link #NODE} 40
 *                 (one NUMA node), {@link #SYSTEM} 50 (across NUMA nodes); -1 when unknown
 * @param nvlinks  {@code nvlinks[i][j]}: the active NVLinks between GPUs i and j (through an NVSwitch
 *                 counts as a link to every GPU on it); 0 when none
 * @param nvswitch true when the GPUs' NVLinks go to NVSwitches (every pair connected)
 */
public record GpuTopology(List<String> uuids, int[][] ancestor, int[][] nvlinks, boolean nvswitch) {
    public static final int INTERNAL = 0;
    public static final int SINGLE = 10;
    public static final int MULTIPLE = 20;
    public static final int HOSTBRIDGE = 30;
    public static final int NODE = 40;
    public static final int SYSTEM = 50;

    public GpuTopology {
        uuids = List.copyOf(uuids);
        int n = uuids.size();
        if (ancestor.length != n || nvlinks.length != n) {
            throw new IllegalArgumentException("topology matrices are not " + n + "x" + n);
        }
        ancestor = copy(ancestor, n);
        nvlinks = copy(nvlinks, n);
    }

    /** A machine with no topology information: every pair unknown, no NVLink. */
    public static GpuTopology unknown(List<String> uuids) {
        int n = uuids.size();
        int[][] a = new int[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                a[i][j] = i == j ? INTERNAL : -1;
            }
        }
        return new GpuTopology(uuids, a, new int[n][n], false);
    }

    /**
     * nvidia-smi's name of a level ({@code nvidia-smi topo -m}): {@code X}, {@code PIX}, {@code PXB},
     * {@code PHB}, {@code NODE}, {@code SYS}; {@code N/A} when unknown.
     */
    public static String levelName(int level) {
        return switch (level) {
            case INTERNAL -> "X";
            case SINGLE -> "PIX";
            case MULTIPLE -> "PXB";
            case HOSTBRIDGE -> "PHB";
            case NODE -> "NODE";
            case SYSTEM -> "SYS";
            default -> "N/A";
        };
    }

    public int size() {
        return uuids.size();
    }

    public int ancestor(int i, int j) {
        return ancestor[i][j];
    }

    public int nvlinks(int i, int j) {
        return nvlinks[i][j];
    }

    private static int[][] copy(int[][] m, int n) {
        int[][] c = new int[n][];
        for (int i = 0; i < n; i++) {
            if (m[i].length != n) {
                throw new IllegalArgumentException("topology row " + i + " has " + m[i].length + " entries, not " + n);
            }
            c[i] = m[i].clone();
        }
        return c;
    }
}

package io.gpuagent.session;

import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.session.UnitRequest.TopologyWish;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Chooses which free whole GPUs a multi-GPU launch gets, in the spirit of NVIDIA's go-gpuallocator
 * best-effort policy (our own rule and code; docs/sessions.md, "Units and topology", says it in full).
 *
 * <p>Every pair of GPUs scores {@code 100} per NVLink between them plus what their closest PCIe
 * ancestor is worth ({@link #pcieScore}): one switch 50, several switches 40, a host bridge 30, one
 * NUMA node 20, across nodes 10, unknown 0. So one NVLink outweighs any PCIe path and more links
 * weigh more. Candidate sets of the asked size are ranked, best first, by
 * <ol>
 *   <li>their weakest pair (collectives run at the pace of the slowest link), then</li>
 *   <li>the sum of their pairs (total bandwidth), then</li>
 *   <li>the <em>cut</em>: the sum of the pair scores between the set and the free GPUs it leaves
 *       behind, smaller first. Taking GPUs that are weakly tied to the rest leaves the well-connected
 *       groups whole for the next launch (a 1-GPU launch takes the GPU whose NVLink partner is
 *       rented, not half of a free pair); then</li>
 *   <li>the lowest GPU indices.</li>
 * </ol>
 * The search is exhaustive over every set of the asked size while there are at most
 * {@value #EXHAUSTIVE_LIMIT} of them (an 8-GPU machine has at most C(8,4) = 70; 16 GPUs at most
 * 12,870); beyond that it grows a set greedily from each free GPU and ranks those the same way.
 * Stateless and thread-safe.
 */
public final class GpuSetPolicy {
    /** The most candidate sets searched exhaustively. */
    public static final long EXHAUSTIVE_LIMIT = 20_000;
    private static final int NVLINK_WEIGHT = 100;

    private final GpuTopology topology;
    private final Map<String, Integer> rows;

    public GpuSetPolicy(UnitLayout layout) {
        this.topology = layout.topology();
        this.rows = layout.topologyRows();
    }

    /** What a PCIe common ancestor ({@code nvmlGpuTopologyLevel_t}) is worth to a pair of GPUs. */
    public static int pcieScore(int ancestor) {
        return switch (ancestor) {
            case GpuTopology.INTERNAL -> 60;
            case GpuTopology.SINGLE -> 50;
            case GpuTopology.MULTIPLE -> 40;
            case GpuTopology.HOSTBRIDGE -> 30;
            case GpuTopology.NODE -> 20;
            case GpuTopology.SYSTEM -> 10;
            default -> 0;
        };
    }

    /** A pair's score: 100 per NVLink plus its PCIe path's; 0 when either GPU is not in the topology. */
    public int pairScore(String a, String b) {
        Integer i = rows.get(a);
        Integer j = rows.get(b);
        if (i == null || j == null || i.equals(j)) {
            return 0;
        }
        return NVLINK_WEIGHT * Math.max(0, topology.nvlinks(i, j)) + pcieScore(topology.ancestor(i, j));
    }

    /** True when NVLink joins the two GPUs (directly or through an NVSwitch). */
    public boolean nvlinked(String a, String b) {
        Integer i = rows.get(a);
        Integer j = rows.get(b);
        return i != null && j != null && topology.nvlinks(i, j) > 0;
    }

    /**
     * The set of {@code count} GPUs to give out.
     *
     * @param free  the free healthy whole GPUs, in index order
     * @param count how many ({@code 1 <= count <= free.size()})
     * @param wish  {@link TopologyWish#ANY}: the first {@code count}; {@link TopologyWish#NVLINK}: only
     *              fully NVLinked sets (a single GPU always is one)
     * @return the GPUs in index order, or empty when no set fits the wish
     */
    public Optional<List<String>> choose(List<String> free, int count, TopologyWish wish) {
        if (count < 1 || count > free.size()) {
            throw new IllegalArgumentException("choose " + count + " of " + free.size() + " GPUs");
        }
        if (wish == TopologyWish.ANY) {
            return Optional.of(List.copyOf(free.subList(0, count)));
        }
        boolean nvlinkOnly = wish == TopologyWish.NVLINK;
        Candidate best = null;
        if (combinations(free.size(), count) <= EXHAUSTIVE_LIMIT) {
            int[] idx = new int[count];
            for (int i = 0; i < count; i++) {
                idx[i] = i;
            }
            do {
                best = better(best, rate(free, idx, nvlinkOnly));
            } while (next(idx, free.size()));
        } else {
            for (int seed = 0; seed < free.size(); seed++) {
                int[] grown = grow(free, seed, count, nvlinkOnly);
                best = grown == null ? best : better(best, rate(free, grown, nvlinkOnly));
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        List<String> out = new ArrayList<>(count);
        for (int i : best.idx) {
            out.add(free.get(i));
        }
        return Optional.of(List.copyOf(out));
    }

    /**
     * The machine's NVLink groups: GPUs joined by NVLink, directly or through others, each group in
     * index order and the groups by their first GPU; a GPU without NVLink is in none.
     */
    public static List<List<String>> nvlinkGroups(GpuTopology t) {
        int n = t.size();
        boolean[] seen = new boolean[n];
        List<List<String>> groups = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (seen[i]) {
                continue;
            }
            seen[i] = true;
            List<Integer> members = new ArrayList<>();
            List<Integer> stack = new ArrayList<>(List.of(i));
            while (!stack.isEmpty()) {
                int g = stack.remove(stack.size() - 1);
                members.add(g);
                for (int j = 0; j < n; j++) {
                    if (!seen[j] && t.nvlinks(g, j) > 0) {
                        seen[j] = true;
                        stack.add(j);
                    }
                }
            }
            if (members.size() > 1) {
                groups.add(members.stream().sorted().map(t.uuids()::get).toList());
            }
        }
        return List.copyOf(groups);
    }

    /** A scored candidate; {@code idx} are positions in the free list, ascending. */
    private record Candidate(int[] idx, long weakest, long sum, long cut) {
    }

    /** The better of two candidates; the earlier (lower indices) wins a full tie. */
    private static Candidate better(Candidate best, Candidate c) {
        if (c == null) {
            return best;
        }
        if (best == null) {
            return c;
        }
        if (c.weakest != best.weakest) {
            return c.weakest > best.weakest ? c : best;
        }
        if (c.sum != best.sum) {
            return c.sum > best.sum ? c : best;
        }
        if (c.cut != best.cut) {
            return c.cut < best.cut ? c : best;
        }
        return Arrays.compare(c.idx, best.idx) < 0 ? c : best;
    }

    /** Scores a set, or null when the NVLink wish rules it out. */
    private Candidate rate(List<String> free, int[] idx, boolean nvlinkOnly) {
        long weakest = Long.MAX_VALUE;
        long sum = 0;
        boolean[] in = new boolean[free.size()];
        for (int a = 0; a < idx.length; a++) {
            in[idx[a]] = true;
            for (int b = a + 1; b < idx.length; b++) {
                String x = free.get(idx[a]);
                String y = free.get(idx[b]);
                if (nvlinkOnly && !nvlinked(x, y)) {
                    return null;
                }
                int s = pairScore(x, y);
                weakest = Math.min(weakest, s);
                sum += s;
            }
        }
        long cut = 0;
        for (int i : idx) {
            for (int r = 0; r < free.size(); r++) {
                if (!in[r]) {
                    cut += pairScore(free.get(i), free.get(r));
                }
            }
        }
        return new Candidate(idx.clone(), weakest, sum, cut);
    }

    /**
     * Greedy growth from one seed: each step adds the GPU with the most score to the set so far,
     * plus half its best link to a GPU still outside while there is room for that one too (so that
     * a GPU whose NVLink partner is free beats an orphan the members score the same with).
     */
    private int[] grow(List<String> free, int seed, int count, boolean nvlinkOnly) {
        int[] set = new int[count];
        boolean[] in = new boolean[free.size()];
        set[0] = seed;
        in[seed] = true;
        for (int k = 1; k < count; k++) {
            int pick = -1;
            long pickScore = -1;
            for (int g = 0; g < free.size(); g++) {
                if (in[g]) {
                    continue;
                }
                long s = 0;
                boolean ok = true;
                for (int m = 0; m < k && ok; m++) {
                    ok = !nvlinkOnly || nvlinked(free.get(g), free.get(set[m]));
                    s += pairScore(free.get(g), free.get(set[m]));
                }
                if (ok && k + 1 < count) {
                    s += bestOutside(free, in, g) / 2;
                }
                if (ok && s > pickScore) {
                    pick = g;
                    pickScore = s;
                }
            }
            if (pick < 0) {
                return null;
            }
            set[k] = pick;
            in[pick] = true;
        }
        Arrays.sort(set);
        return set;
    }

    private long bestOutside(List<String> free, boolean[] in, int g) {
        long best = 0;
        for (int h = 0; h < free.size(); h++) {
            if (h != g && !in[h]) {
                best = Math.max(best, pairScore(free.get(g), free.get(h)));
            }
        }
        return best;
    }

    /** Advances {@code idx} to the next combination in lexicographic order; false after the last. */
    private static boolean next(int[] idx, int n) {
        int k = idx.length;
        int i = k - 1;
        while (i >= 0 && idx[i] == n - k + i) {
            i--;
        }
        if (i < 0) {
            return false;
        }
        idx[i]++;
        for (int j = i + 1; j < k; j++) {
            idx[j] = idx[j - 1] + 1;
        }
        return true;
    }

    /** C(n, k), saturating at Long.MAX_VALUE. */
    static long combinations(int n, int k) {
        long c = 1;
        for (int i = 1; i <= k; i++) {
            if (c > Long.MAX_VALUE / (n - k + i)) {
                return Long.MAX_VALUE;
            }
            c = c * (n - k + i) / i;
        }
        return c;
    }
}

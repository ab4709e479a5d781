package io.gpuagent.cli;

import io.gpuagent.gpu.GpuTopology;

import java.util.ArrayList;
import java.util.List;

/**
 * The GPU connection matrix as {@code nvidia-smi topo -m} prints it: {@code X} for a GPU with
 * itself, {@code NV#} for # NVLinks (through NVSwitches included), else the PCIe level of the
 * pair's closest common ancestor: {@code PIX} (one PCIe switch), {@code PXB} (several switches),
 * {@code PHB} (a host bridge), {@code NODE} (within a NUMA node), {@code SYS} (across NUMA nodes,
 * over the SMP interconnect); {@code N/A} when the driver cannot say.
 */
final class TopologyMatrix {
    static final String LEGEND = """
            Legend:
              X    = Self
              SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes
              NODE = Connection traversing PCIe as well as the interconnect between PCIe Host Bridges within a NUMA node
              PHB  = Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)
              PXB  = Connection traversing multiple PCIe bridges (without traversing the PCIe Host Bridge)
              PIX  = Connection traversing at most a single PCIe bridge
              NV#  = Connection traversing a bonded set of # NVLinks
            """;

    private TopologyMatrix() {
    }

    /** The cell for GPUs i and j. */
    static String cell(GpuTopology t, int i, int j) {
        if (i == j) {
            return "X";
        }
        if (t.nvlinks(i, j) > 0) {
            return "NV" + t.nvlinks(i, j);
        }
        return GpuTopology.levelName(t.ancestor(i, j));
    }

    /** Every row of cells, for the JSON. */
    static List<List<String>> cells(GpuTopology t) {
        List<List<String>> rows = new ArrayList<>(t.size());
        for (int i = 0; i < t.size(); i++) {
            List<String> row = new ArrayList<>(t.size());
            for (int j = 0; j < t.size(); j++) {
                row.add(cell(t, i, j));
            }
            rows.add(row);
        }
        return rows;
    }

    /** The matrix with GPU headers, then the legend, as nvidia-smi lays it out. */
    static String table(GpuTopology t) {
        StringBuilder sb = new StringBuilder("\t");
        for (int j = 0; j < t.size(); j++) {
            sb.append("GPU").append(j).append('\t');
        }
        sb.setLength(sb.length() - 1);
        sb.append('\n');
        for (int i = 0; i < t.size(); i++) {
            sb.append("GPU").append(i);
            for (int j = 0; j < t.size(); j++) {
                sb.append('\t').append(String.format("%4s", cell(t, i, j)));
            }
            sb.append('\n');
        }
        if (t.nvswitch()) {
            sb.append("(NVLinks through NVSwitches: every pair is connected)\n");
        }
        return sb.append('\n').append(LEGEND).toString();
    }
}

package io.gpuagent.cli;

import io.gpuagent.gpu.GpuSample;
import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.gpu.MigInstance;
import io.gpuagent.gpu.MigProfile;
import io.gpuagent.gpu.MigSample;
import io.gpuagent.gpu.MigState;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The probe's {@code mig} and {@code topology} objects, in snake_case like the wire protocol:
 * <pre>
 * "mig": {"current": true, "pending": true, "reset_pending": false,
 *         "profiles": [{"profile_index": 0, "id": 19, "name": "1g.10gb", "slice_count": 1,
 *                       "memory_bytes": 10200547328, "instance_count": 7}, ...],
 *         "instances": [{"uuid": "MIG-...", "gpu_instance_id": 9, "compute_instance_id": 0,
 *                        "profile": "3g.40gb", "slice_count": 3, "memory_bytes": ..., "placement_start": 4,
 *                        "placement_size": 4, "memory_used_bytes": ..., "memory_free_bytes": ...}]}
 * "topology": {"uuids": [...], "nvswitch": true, "matrix": [["X", "NV18", ...], ...],
 *              "nvlinks": [[0, 18, ...], ...], "common_ancestor": [[0, 50, ...], ...]}
 * </pre>
 * {@code memory_used_bytes} / {@code memory_free_bytes} come from the same probe's sample (null
 * when it had none for that instance); {@code common_ancestor} holds NVML's
 * {@code nvmlGpuTopologyLevel_t} values (-1 unknown).
 */
final class ProbeJson {
    private ProbeJson() {
    }

    static Map<String, Object> mig(MigState m, GpuSample sample) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("current", m.current());
        o.put("pending", m.pending());
        o.put("reset_pending", m.resetPending());
        List<Object> profiles = new ArrayList<>();
        for (MigProfile p : m.profiles()) {
            Map<String, Object> po = new LinkedHashMap<>();
            po.put("profile_index", p.profileIndex());
            po.put("id", p.id());
            po.put("name", p.name());
            po.put("slice_count", p.sliceCount());
            po.put("memory_bytes", p.memoryBytes());
            po.put("instance_count", p.instanceCount());
            profiles.add(po);
        }
        o.put("profiles", profiles);
        List<Object> instances = new ArrayList<>();
        for (MigInstance i : m.instances()) {
            Map<String, Object> io = new LinkedHashMap<>();
            io.put("uuid", i.uuid());
            io.put("gpu_instance_id", i.gpuInstanceId());
            io.put("compute_instance_id", i.computeInstanceId());
            io.put("profile", i.profile());
            io.put("slice_count", i.sliceCount());
            io.put("memory_bytes", i.memoryBytes());
            io.put("placement_start", i.placementStart());
            io.put("placement_size", i.placementSize());
            MigSample s = sample == null ? null : sample.migInstances().stream()
                    .filter(x -> x.uuid().equals(i.uuid())).findFirst().orElse(null);
            io.put("memory_used_bytes", s == null ? null : s.memoryUsedBytes());
            io.put("memory_free_bytes", s == null ? null : s.memoryFreeBytes());
            instances.add(io);
        }
        o.put("instances", instances);
        return o;
    }

    static Map<String, Object> topology(GpuTopology t) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("uuids", t.uuids());
        o.put("nvswitch", t.nvswitch());
        o.put("matrix", TopologyMatrix.cells(t));
        List<List<Integer>> links = new ArrayList<>();
        List<List<Integer>> ancestors = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
            List<Integer> l = new ArrayList<>();
            List<Integer> a = new ArrayList<>();
            for (int j = 0; j < t.size(); j++) {
                l.add(t.nvlinks(i, j));
                a.add(t.ancestor(i, j));
            }
            links.add(l);
            ancestors.add(a);
        }
        o.put("nvlinks", links);
        o.put("common_ancestor", ancestors);
        return o;
    }
}

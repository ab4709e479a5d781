package io.gpuagent.gpu.nvml;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.gpuagent.gpu.GpuException;
import io.gpuagent.gpu.MigException;
import io.gpuagent.gpu.MigInstance;
import io.gpuagent.gpu.MigProfile;
import io.gpuagent.gpu.MigSample;
import io.gpuagent.gpu.MigState;
import io.gpuagent.gpu.nvml.NvmlDevice.Feature;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * MIG through NVML, the reading side: the mode, the GPU-instance profiles, the instances (each a
 * GPU instance with the compute instances inside it, seen through the MIG device handles, which
 * carry the {@code MIG-} UUIDs and the memory); {@link NvmlMigLayout} changes them. Callers hold
 * the device's monitor. A driver without the MIG calls, or a card that answers {@code NOT_SUPPORTED}, has no
 * MIG; that answer is cached per device like every other feature.
 *
 * <p>NVML takes a profile's <em>index</em> ({@code NVML_GPU_INSTANCE_PROFILE_1_SLICE} = 0, ...) only
 * to describe it; every other call takes the profile's <em>id</em> from that description
 * ({@code nvmlGpuInstanceProfileInfo_t.id}).
 */
final class NvmlMig {
    /** Profile indices asked about: nvml.h defines 0..9 today (later ones are answered INVALID_ARGUMENT). */
    static final int MAX_PROFILE_INDEX = 16;
    /** {@code NVML_COMPUTE_INSTANCE_PROFILE_*} indices 0..7. */
    static final int MAX_CI_PROFILE_INDEX = 8;
    /** {@code NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED}. */
    static final int CI_ENGINE_SHARED = 0;
    /** {@code NVML_GPU_INSTANCE_PROFILE_1_SLICE_REV1}: the 1-slice profile with the media engines ({@code +me}). */
    static final int PROFILE_1_SLICE_REV1 = 7;
    /** Room for every placement of a profile (a GPU has at most 8 memory slices). */
    static final int MAX_PLACEMENTS = 16;
    private static final int UUID_BUFFER = NvmlGpuDriver.UUID_BUFFER;

    /** A MIG device's identity, cached by UUID (it never changes while the instance exists). */
    record Known(int gpuInstanceId, int computeInstanceId, String profile) {
    }

    /** One MIG device handle's reading. */
    record MigDevice(Pointer handle, String uuid, int gpuInstanceId, int computeInstanceId, long total,
                             Long used, Long free) {
    }

    /** One GPU instance: its profile and placement. */
    private record GpuInstance(int id, MigProfile profile, int placementStart, int placementSize) {
    }

    private final NvmlFunctions fn;

    NvmlMig(NvmlFunctions fn) {
        this.fn = fn;
    }

    /** {current, pending} MIG mode, or null when the card or driver has no MIG. */
    boolean[] mode(NvmlDevice d) throws GpuException {
        Memory out = new Memory(8);
        NvmlReturn r = d.call(Feature.MIG_MODE, fn.deviceGetMigMode, out, out.share(4));
        if (r == NvmlReturn.SUCCESS) {
            return new boolean[] {out.getInt(0) == 1, out.getInt(4) == 1};
        }
        if (NvmlCall.unsupported(r)) {
            return null;
        }
        throw NvmlCall.failure("nvmlDeviceGetMigMode(" + d.index + ")", r);
    }

    /** The MIG state, or null when the card has no MIG. */
    MigState state(NvmlDevice d) throws GpuException {
        boolean[] mode = mode(d);
        if (mode == null) {
            return null;
        }
        if (!mode[0]) {
            return new MigState(false, mode[1], List.of(), List.of());
        }
        List<MigProfile> profiles = profiles(d);
        Map<Integer, GpuInstance> gis = gpuInstances(d, profiles);
        List<MigInstance> instances = new ArrayList<>();
        for (MigDevice m : migDevices(d)) {
            GpuInstance gi = gis.get(m.gpuInstanceId());
            String profile = gi == null ? null : gi.profile().name();
            d.migDevices.put(m.uuid(), new Known(m.gpuInstanceId(), m.computeInstanceId(), profile));
            instances.add(new MigInstance(m.uuid(), d.uuid, d.index, m.gpuInstanceId(), m.computeInstanceId(), profile,
                    gi == null ? 0 : gi.profile().sliceCount(), m.total(), gi == null ? -1 : gi.placementStart(),
                    gi == null ? 0 : gi.placementSize()));
        }
        instances.sort(java.util.Comparator.comparingInt(MigInstance::gpuInstanceId)
                .thenComparingInt(MigInstance::computeInstanceId));
        return new MigState(true, mode[1], profiles, instances);
    }

    /** Each MIG device's memory, for telemetry: empty when MIG is off or absent. */
    List<MigSample> samples(NvmlDevice d) throws GpuException {
        boolean[] mode = mode(d);
        if (mode == null || !mode[0]) {
            return List.of();
        }
        List<MigDevice> devices = migDevices(d);
        List<MigSample> out = new ArrayList<>(devices.size());
        for (MigDevice m : devices) {
            Known k = d.migDevices.get(m.uuid());
            if (k == null) {
                // an instance made outside the agent (nvidia-smi): learn its profile once
                state(d);
                k = d.migDevices.get(m.uuid());
            }
            out.add(new MigSample(m.uuid(), m.gpuInstanceId(), m.computeInstanceId(), k == null ? null : k.profile(),
                    m.total(), m.used(), m.free()));
        }
        out.sort(java.util.Comparator.comparingInt(MigSample::gpuInstanceId)
                .thenComparingInt(MigSample::computeInstanceId));
        return out;
    }

    /** The card's profiles, in index order; read once, then cached (they are fixed per card). */
    List<MigProfile> profiles(NvmlDevice d) throws GpuException {
        if (d.migProfiles != null) {
            return d.migProfiles;
        }
        List<MigProfile> out = new ArrayList<>();
        for (int i = 0; i < MAX_PROFILE_INDEX; i++) {
            MigProfile p = profile(d, i);
            if (p != null) {
                out.add(p);
            }
        }
        if (out.isEmpty()) {
            return List.of(); // not cached: asked again next time rather than frozen empty
        }
        d.migProfiles = List.copyOf(out);
        return d.migProfiles;
    }

    private MigProfile profile(NvmlDevice d, int index) throws GpuException {
        NvmlReturn r = NvmlReturn.ERROR_FUNCTION_NOT_FOUND;
        if (fn.deviceGetGpuInstanceProfileInfoV != null) {
            NvmlStructs.GpuInstanceProfileInfoV2 v2 = new NvmlStructs.GpuInstanceProfileInfoV2();
            r = NvmlCall.invoke(fn.deviceGetGpuInstanceProfileInfoV, d.handle, index, v2);
            if (r == NvmlReturn.SUCCESS) {
                String name = NvmlDevice.cString(v2.name);
                name = name.startsWith("MIG ") ? name.substring(4) : name; // the driver writes "MIG 1g.10gb"
                return new MigProfile(index, v2.id, name.isEmpty() ? derivedName(index, v2.sliceCount,
                        v2.memorySizeMB) : name, v2.sliceCount, v2.memorySizeMB << 20, v2.instanceCount);
            }
        }
        if (r == NvmlReturn.ERROR_FUNCTION_NOT_FOUND || r == NvmlReturn.ERROR_ARGUMENT_VERSION_MISMATCH) {
            NvmlStructs.GpuInstanceProfileInfo v1 = new NvmlStructs.GpuInstanceProfileInfo();
            r = NvmlCall.invoke(fn.deviceGetGpuInstanceProfileInfo, d.handle, index, v1);
            if (r == NvmlReturn.SUCCESS) {
                return new MigProfile(index, v1.id, derivedName(index, v1.sliceCount, v1.memorySizeMB), v1.sliceCount,
                        v1.memorySizeMB << 20, v1.instanceCount);
            }
        }
        if (NvmlCall.unsupported(r) || r == NvmlReturn.ERROR_INVALID_ARGUMENT || r == NvmlReturn.ERROR_NOT_FOUND) {
            return null; // this card has no profile with that index
        }
        check(d, "nvmlDeviceGetGpuInstanceProfileInfo(" + d.index + ", " + index + ")", r);
        return null;
    }

    /** The name a v1 driver does not give: {@code Ng.Mgb}, memory rounded up as NVIDIA names profiles. */
    static String derivedName(int index, int slices, long memoryMb) {
        return slices + "g." + (memoryMb + 1023) / 1024 + "gb" + (index == PROFILE_1_SLICE_REV1 ? "+me" : "");
    }

    private Map<Integer, GpuInstance> gpuInstances(NvmlDevice d, List<MigProfile> profiles) throws GpuException {
        Map<Integer, GpuInstance> out = new HashMap<>();
        if (fn.deviceGetGpuInstances == null || fn.gpuInstanceGetInfo == null) {
            return out;
        }
        Memory count = new Memory(4);
        NvmlStructs.GpuInstanceInfo info = new NvmlStructs.GpuInstanceInfo();
        for (MigProfile p : profiles) {
            int cap = Math.max(1, p.instanceCount());
            Memory handles = new Memory((long) cap * Native.POINTER_SIZE);
            count.setInt(0, cap);
            NvmlReturn r = NvmlCall.invoke(fn.deviceGetGpuInstances, d.handle, p.id(), handles, count);
            if (NvmlCall.unsupported(r) || r == NvmlReturn.ERROR_INVALID_ARGUMENT) {
                continue;
            }
            check(d, "nvmlDeviceGetGpuInstances(" + d.index + ", " + p.name() + ")", r);
            for (int i = 0; i < Math.min(cap, count.getInt(0)); i++) {
                Pointer gi = handles.getPointer((long) i * Native.POINTER_SIZE);
                check(d, "nvmlGpuInstanceGetInfo", NvmlCall.invoke(fn.gpuInstanceGetInfo, gi, info));
                out.put(info.id, new GpuInstance(info.id, p, info.placementStart, info.placementSize));
            }
        }
        return out;
    }

    /** Every MIG device (one per compute instance) of the GPU, through its MIG device handles. */
    List<MigDevice> migDevices(NvmlDevice d) throws GpuException {
        if (!d.supports(Feature.MIG_DEVICES) || fn.deviceGetMigDeviceHandleByIndex == null) {
            return List.of();
        }
        Memory out = new Memory(8);
        int max = 8;
        if (d.call(Feature.MIG_DEVICES, fn.deviceGetMaxMigDeviceCount, out) == NvmlReturn.SUCCESS) {
            max = out.getInt(0);
        }
        List<MigDevice> list = new ArrayList<>(max);
        Memory h = new Memory(Native.POINTER_SIZE);
        for (int i = 0; i < max; i++) {
            NvmlReturn r = NvmlCall.invoke(fn.deviceGetMigDeviceHandleByIndex, d.handle, i, h);
            if (r == NvmlReturn.ERROR_NOT_FOUND || r == NvmlReturn.ERROR_INVALID_ARGUMENT) {
                continue; // an empty slot: MIG device indices have holes after a destroy
            }
            check(d, "nvmlDeviceGetMigDeviceHandleByIndex(" + d.index + ", " + i + ")", r);
            list.add(readMigDevice(d, h.getPointer(0)));
        }
        return list;
    }

    private MigDevice readMigDevice(NvmlDevice d, Pointer mig) throws GpuException {
        Memory out = new Memory(8);
        check(d, "nvmlDeviceGetGpuInstanceId", NvmlCall.invoke(fn.deviceGetGpuInstanceId, mig, out));
        int gi = out.getInt(0);
        check(d, "nvmlDeviceGetComputeInstanceId", NvmlCall.invoke(fn.deviceGetComputeInstanceId, mig, out));
        int ci = out.getInt(0);
        byte[] uuid = new byte[UUID_BUFFER];
        check(d, "nvmlDeviceGetUUID(MIG " + gi + "/" + ci + ")", NvmlCall.invoke(fn.deviceGetUuid, mig, uuid,
                uuid.length));
        NvmlStructs.Memory mem = new NvmlStructs.Memory();
        NvmlReturn r = NvmlCall.invoke(fn.deviceGetMemoryInfo, mig, mem);
        if (r == NvmlReturn.ERROR_GPU_IS_LOST) {
            throw d.lost(Feature.MIG_DEVICES);
        }
        boolean ok = r == NvmlReturn.SUCCESS;
        return new MigDevice(mig, NvmlDevice.cString(uuid), gi, ci, ok ? mem.total : 0, ok ? mem.used : null,
                ok ? mem.free : null);
    }

    static MigException notCapable(NvmlDevice d) {
        return new MigException(MigException.Reason.NOT_CAPABLE, "GPU " + d.index + " has no MIG (the card or the "
                + "driver does not support it)");
    }

    static void check(NvmlDevice d, String what, NvmlReturn r) throws GpuException {
        if (r == NvmlReturn.ERROR_GPU_IS_LOST) {
            throw d.lost(Feature.MIG_DEVICES);
        }
        if (r != NvmlReturn.SUCCESS) {
            throw NvmlCall.failure(what, r);
        }
    }
}

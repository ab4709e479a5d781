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
 * MIG through NVML: the mode, the GPU-instance profiles, the instances (each a GPU instance with
 * the compute instances inside it, seen through the MIG device handles, which carry the
 * {@code MIG-} UUIDs and the memory), creating and destroying them. Callers hold the device's
 * monitor. A driver without the MIG calls, or a card that answers {@code NOT_SUPPORTED}, has no
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
    private record MigDevice(Pointer handle, String uuid, int gpuInstanceId, int computeInstanceId, long total,
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

    /**
     * Asks for MIG mode on or off; true when in effect now, false when it waits for a GPU reset.
     */
    boolean setMode(NvmlDevice d, boolean enabled) throws GpuException {
        if (mode(d) == null || fn.deviceSetMigMode == null) {
            throw notCapable(d);
        }
        Memory activation = new Memory(4);
        activation.setInt(0, 0);
        NvmlReturn r = NvmlCall.invoke(fn.deviceSetMigMode, d.handle, enabled ? 1 : 0, activation);
        if (r == NvmlReturn.ERROR_GPU_IS_LOST) {
            throw d.lost(Feature.MIG_MODE);
        }
        if (NvmlCall.unsupported(r)) {
            throw notCapable(d);
        }
        if (r == NvmlReturn.ERROR_IN_USE) {
            throw new MigException(MigException.Reason.IN_USE, "GPU " + d.index + ": MIG mode cannot change while "
                    + "GPU instances exist or processes run on the GPU (" + r.nvmlName() + ")");
        }
        if (r != NvmlReturn.SUCCESS) {
            throw NvmlCall.failure("nvmlDeviceSetMigMode(" + d.index + ", " + (enabled ? 1 : 0) + ")", r);
        }
        d.migDevices.clear();
        boolean[] after = mode(d);
        if (after == null) {
            throw notCapable(d);
        }
        if (after[0] == enabled) {
            return true;
        }
        if (after[1] == enabled) {
            return false; // the driver's activationStatus says why: in use, or the card needs a reset
        }
        throw new GpuException(NvmlReturn.of(activation.getInt(0)).nvmlName(), "GPU " + d.index
                + ": nvmlDeviceSetMigMode succeeded but the mode is neither current nor pending");
    }

    /** Creates a GPU instance of the profile with one compute instance spanning it. */
    MigInstance create(NvmlDevice d, int profileIndex, Integer placementStart) throws GpuException {
        requireOn(d);
        MigProfile p = profiles(d).stream().filter(x -> x.profileIndex() == profileIndex).findFirst().orElseThrow(
                () -> new MigException(MigException.Reason.NO_SUCH_PROFILE, "GPU " + d.index
                        + " has no GPU-instance profile with index " + profileIndex));
        NvmlStructs.GpuInstancePlacement placement = null;
        if (placementStart != null) {
            placement = placement(d, p, placementStart);
        }
        Memory count = new Memory(4);
        if (NvmlCall.invoke(fn.deviceGetGpuInstanceRemainingCapacity, d.handle, p.id(), count) == NvmlReturn.SUCCESS
                && count.getInt(0) == 0) {
            throw noCapacity(d, p);
        }
        Memory giOut = new Memory(Native.POINTER_SIZE);
        NvmlReturn r = placement == null
                ? NvmlCall.invoke(fn.deviceCreateGpuInstance, d.handle, p.id(), giOut)
                : NvmlCall.invoke(fn.deviceCreateGpuInstanceWithPlacement, d.handle, p.id(), placement, giOut);
        if (r == NvmlReturn.ERROR_INSUFFICIENT_RESOURCES) {
            throw placement == null ? noCapacity(d, p) : new MigException(MigException.Reason.BAD_PLACEMENT,
                    "GPU " + d.index + ": placement " + placementStart + " of " + p.name() + " overlaps an instance");
        }
        check(d, "nvmlDeviceCreateGpuInstance(" + d.index + ", " + p.name() + ")", r);
        Pointer gi = giOut.getPointer(0);
        try {
            return completeInstance(d, p, gi);
        } catch (GpuException | RuntimeException e) {
            destroyQuietly(gi, e); // nothing half made is left behind
            throw e;
        }
    }

    private MigInstance completeInstance(NvmlDevice d, MigProfile p, Pointer gi) throws GpuException {
        NvmlStructs.GpuInstanceInfo info = new NvmlStructs.GpuInstanceInfo();
        check(d, "nvmlGpuInstanceGetInfo", NvmlCall.invoke(fn.gpuInstanceGetInfo, gi, info));
        NvmlStructs.ComputeInstanceProfileInfo ci = fullComputeProfile(d, gi, p);
        Memory ciOut = new Memory(Native.POINTER_SIZE);
        check(d, "nvmlGpuInstanceCreateComputeInstance(" + p.name() + ")",
                NvmlCall.invoke(fn.gpuInstanceCreateComputeInstance, gi, ci.id, ciOut));
        NvmlStructs.ComputeInstanceInfo ciInfo = new NvmlStructs.ComputeInstanceInfo();
        check(d, "nvmlComputeInstanceGetInfo", NvmlCall.invoke(fn.computeInstanceGetInfo, ciOut.getPointer(0), ciInfo));
        for (MigDevice m : migDevices(d)) {
            if (m.gpuInstanceId() == info.id && m.computeInstanceId() == ciInfo.id) {
                d.migDevices.put(m.uuid(), new Known(info.id, ciInfo.id, p.name()));
                return new MigInstance(m.uuid(), d.uuid, d.index, info.id, ciInfo.id, p.name(), p.sliceCount(),
                        m.total(), info.placementStart, info.placementSize);
            }
        }
        throw new GpuException(NvmlReturn.ERROR_NOT_FOUND.nvmlName(), "GPU " + d.index + ": the new instance "
                + info.id + "/" + ciInfo.id + " has no MIG device handle");
    }

    /** Destroys a GPU instance: its compute instances first, as NVML requires. */
    void destroy(NvmlDevice d, int gpuInstanceId) throws GpuException {
        requireOn(d);
        Memory giOut = new Memory(Native.POINTER_SIZE);
        NvmlReturn r = NvmlCall.invoke(fn.deviceGetGpuInstanceById, d.handle, gpuInstanceId, giOut);
        if (r == NvmlReturn.ERROR_NOT_FOUND || r == NvmlReturn.ERROR_INVALID_ARGUMENT) {
            throw new MigException(MigException.Reason.NO_SUCH_INSTANCE, "GPU " + d.index + " has no GPU instance "
                    + gpuInstanceId);
        }
        check(d, "nvmlDeviceGetGpuInstanceById(" + d.index + ", " + gpuInstanceId + ")", r);
        Pointer gi = giOut.getPointer(0);
        for (Pointer ci : computeInstances(gi)) {
            inUseOrCheck(d, gpuInstanceId, "nvmlComputeInstanceDestroy", NvmlCall.invoke(fn.computeInstanceDestroy, ci));
        }
        inUseOrCheck(d, gpuInstanceId, "nvmlGpuInstanceDestroy", NvmlCall.invoke(fn.gpuInstanceDestroy, gi));
        d.migDevices.values().removeIf(k -> k.gpuInstanceId() == gpuInstanceId);
    }

    private void inUseOrCheck(NvmlDevice d, int gi, String what, NvmlReturn r) throws GpuException {
        if (r == NvmlReturn.ERROR_IN_USE) {
            throw new MigException(MigException.Reason.IN_USE, "GPU " + d.index + ": GPU instance " + gi
                    + " is in use by a process (" + what + ")");
        }
        check(d, what + "(" + d.index + ", " + gi + ")", r);
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
    private List<MigDevice> migDevices(NvmlDevice d) throws GpuException {
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

    private NvmlStructs.GpuInstancePlacement placement(NvmlDevice d, MigProfile p, int start) throws GpuException {
        Memory placements = new Memory(MAX_PLACEMENTS * 8L);
        Memory count = new Memory(4);
        count.setInt(0, MAX_PLACEMENTS);
        NvmlReturn r = NvmlCall.invoke(fn.deviceGetGpuInstancePossiblePlacements, d.handle, p.id(), placements, count);
        check(d, "nvmlDeviceGetGpuInstancePossiblePlacements_v2(" + d.index + ", " + p.name() + ")", r);
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i < Math.min(MAX_PLACEMENTS, count.getInt(0)); i++) {
            int s = placements.getInt(i * 8L);
            starts.add(s);
            if (s == start) {
                NvmlStructs.GpuInstancePlacement pl = new NvmlStructs.GpuInstancePlacement();
                pl.start = s;
                pl.size = placements.getInt(i * 8L + 4);
                return pl;
            }
        }
        throw new MigException(MigException.Reason.BAD_PLACEMENT, "GPU " + d.index + ": " + p.name()
                + " cannot start at memory slice " + start + " (possible starts: " + starts + ")");
    }

    /** The compute-instance profile as large as the GPU instance (the agent rents an instance whole). */
    private NvmlStructs.ComputeInstanceProfileInfo fullComputeProfile(NvmlDevice d, Pointer gi, MigProfile p)
            throws GpuException {
        for (int i = MAX_CI_PROFILE_INDEX - 1; i >= 0; i--) {
            NvmlStructs.ComputeInstanceProfileInfo info = new NvmlStructs.ComputeInstanceProfileInfo();
            NvmlReturn r = NvmlCall.invoke(fn.gpuInstanceGetComputeInstanceProfileInfo, gi, i, CI_ENGINE_SHARED, info);
            if (r == NvmlReturn.SUCCESS && info.sliceCount == p.sliceCount()) {
                return info;
            }
            if (r == NvmlReturn.ERROR_GPU_IS_LOST) {
                throw d.lost(Feature.MIG_PROFILES);
            }
        }
        throw new GpuException(NvmlReturn.ERROR_NOT_SUPPORTED.nvmlName(), "GPU " + d.index + ": no compute-instance "
                + "profile spans a " + p.name() + " GPU instance (" + p.sliceCount() + " slices)");
    }

    private List<Pointer> computeInstances(Pointer gi) {
        List<Pointer> out = new ArrayList<>();
        Memory count = new Memory(4);
        for (int i = 0; i < MAX_CI_PROFILE_INDEX; i++) {
            NvmlStructs.ComputeInstanceProfileInfo info = new NvmlStructs.ComputeInstanceProfileInfo();
            if (NvmlCall.invoke(fn.gpuInstanceGetComputeInstanceProfileInfo, gi, i, CI_ENGINE_SHARED, info)
                    != NvmlReturn.SUCCESS) {
                continue;
            }
            int cap = Math.max(8, info.instanceCount);
            Memory handles = new Memory((long) cap * Native.POINTER_SIZE);
            count.setInt(0, cap);
            if (NvmlCall.invoke(fn.gpuInstanceGetComputeInstances, gi, info.id, handles, count) == NvmlReturn.SUCCESS) {
                for (int k = 0; k < Math.min(cap, count.getInt(0)); k++) {
                    out.add(handles.getPointer((long) k * Native.POINTER_SIZE));
                }
            }
        }
        return out;
    }

    private void destroyQuietly(Pointer gi, Exception cause) {
        for (Pointer ci : computeInstances(gi)) {
            NvmlReturn r = NvmlCall.invoke(fn.computeInstanceDestroy, ci);
            if (r != NvmlReturn.SUCCESS) {
                cause.addSuppressed(new GpuException(r.nvmlName(), "undoing the compute instance failed"));
            }
        }
        NvmlReturn r = NvmlCall.invoke(fn.gpuInstanceDestroy, gi);
        if (r != NvmlReturn.SUCCESS) {
            cause.addSuppressed(new GpuException(r.nvmlName(), "undoing the GPU instance failed: it is left on the GPU"));
        }
    }

    private void requireOn(NvmlDevice d) throws GpuException {
        boolean[] mode = mode(d);
        if (mode == null) {
            throw notCapable(d);
        }
        if (!mode[0]) {
            throw mode[1]
                    ? new MigException(MigException.Reason.RESET_REQUIRED, "GPU " + d.index + ": MIG mode is pending "
                    + "until the GPU is reset (nvidia-smi -r -i " + d.index + ", or a reboot)")
                    : new MigException(MigException.Reason.MODE_OFF, "GPU " + d.index + ": MIG mode is off");
        }
    }

    private static MigException notCapable(NvmlDevice d) {
        return new MigException(MigException.Reason.NOT_CAPABLE, "GPU " + d.index + " has no MIG (the card or the "
                + "driver does not support it)");
    }

    private static MigException noCapacity(NvmlDevice d, MigProfile p) {
        return new MigException(MigException.Reason.NO_CAPACITY, "GPU " + d.index + ": no room left for a "
                + p.name() + " instance");
    }

    private static void check(NvmlDevice d, String what, NvmlReturn r) throws GpuException {
        if (r == NvmlReturn.ERROR_GPU_IS_LOST) {
            throw d.lost(Feature.MIG_DEVICES);
        }
        if (r != NvmlReturn.SUCCESS) {
            throw NvmlCall.failure(what, r);
        }
    }
}

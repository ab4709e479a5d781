package io.gpuagent.gpu.nvml;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.gpuagent.gpu.GpuException;
import io.gpuagent.gpu.MigException;
import io.gpuagent.gpu.MigInstance;
import io.gpuagent.gpu.MigProfile;
import io.gpuagent.gpu.nvml.NvmlDevice.Feature;
import io.gpuagent.gpu.nvml.NvmlMig.MigDevice;

import java.util.ArrayList;
import java.util.List;

import static io.gpuagent.gpu.nvml.NvmlMig.CI_ENGINE_SHARED;
import static io.gpuagent.gpu.nvml.NvmlMig.MAX_CI_PROFILE_INDEX;
import static io.gpuagent.gpu.nvml.NvmlMig.MAX_PLACEMENTS;
import static io.gpuagent.gpu.nvml.NvmlMig.check;
import static io.gpuagent.gpu.nvml.NvmlMig.notCapable;

/**
 * MIG through NVML, the changing side: the mode, and GPU instances made and unmade. The agent
 * rents a GPU instance whole, so each is made with one compute instance of the full-size compute
 * profile; destroying takes the compute instances first, as NVML requires. A refusal is a
 * {@link MigException} thrown before anything changed, or after what was half made is undone.
 * Callers hold the device's monitor.
 */
final class NvmlMigLayout {
    private final NvmlFunctions fn;
    private final NvmlMig mig;

    NvmlMigLayout(NvmlFunctions fn, NvmlMig mig) {
        this.fn = fn;
        this.mig = mig;
    }

    /**
     * Asks for MIG mode on or off; true when in effect now, false when it waits for a GPU reset.
     */
    boolean setMode(NvmlDevice d, boolean enabled) throws GpuException {
        if (mig.mode(d) == null || fn.deviceSetMigMode == null) {
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
        boolean[] after = mig.mode(d);
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
        MigProfile p = mig.profiles(d).stream().filter(x -> x.profileIndex() == profileIndex).findFirst().orElseThrow(
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
        for (MigDevice m : mig.migDevices(d)) {
            if (m.gpuInstanceId() == info.id && m.computeInstanceId() == ciInfo.id) {
                d.migDevices.put(m.uuid(), new NvmlMig.Known(info.id, ciInfo.id, p.name()));
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
        boolean[] mode = mig.mode(d);
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

    private static MigException noCapacity(NvmlDevice d, MigProfile p) {
        return new MigException(MigException.Reason.NO_CAPACITY, "GPU " + d.index + ": no room left for a "
                + p.name() + " instance");
    }

}

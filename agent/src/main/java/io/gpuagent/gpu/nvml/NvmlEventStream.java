package io.gpuagent.gpu.nvml;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.gpuagent.gpu.GpuEvent;
import io.gpuagent.gpu.GpuEventStream;
import io.gpuagent.gpu.GpuException;
import io.gpuagent.gpu.GpuLostException;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * An NVML event set with every GPU's XID and ECC events registered, read through
 * {@code nvmlEventSetWait_v2}. GPUs that support none of them (some GeForce cards support only
 * XIDs) are registered for what they have.
 */
final class NvmlEventStream implements GpuEventStream {
    static final long EVENT_SINGLE_BIT_ECC = 0x1L;
    static final long EVENT_DOUBLE_BIT_ECC = 0x2L;
    static final long EVENT_XID_CRITICAL = 0x8L;
    static final long WANTED = EVENT_SINGLE_BIT_ECC | EVENT_DOUBLE_BIT_ECC | EVENT_XID_CRITICAL;

    private final NvmlFunctions fn;
    private final Pointer set;
    private final Map<Pointer, NvmlDevice> byHandle;
    private final Set<Integer> watched;
    private final NvmlStructs.EventData data = new NvmlStructs.EventData();
    private boolean closed;

    private NvmlEventStream(NvmlFunctions fn, Pointer set, Map<Pointer, NvmlDevice> byHandle, Set<Integer> watched) {
        this.fn = fn;
        this.set = set;
        this.byHandle = byHandle;
        this.watched = watched;
    }

    static NvmlEventStream open(NvmlFunctions fn, List<NvmlDevice> devices) throws GpuException {
        Memory setOut = new Memory(com.sun.jna.Native.POINTER_SIZE);
        NvmlCall.check("nvmlEventSetCreate", fn.eventSetCreate, setOut);
        Pointer set = setOut.getPointer(0);
        Map<Pointer, NvmlDevice> byHandle = new HashMap<>();
        Set<Integer> watched = new TreeSet<>();
        Memory types = new Memory(8);
        for (NvmlDevice d : devices) {
            if (d.handle == null) {
                continue;
            }
            byHandle.put(d.handle, d);
            NvmlReturn r = NvmlCall.invoke(fn.deviceGetSupportedEventTypes, d.handle, types);
            if (r == NvmlReturn.ERROR_GPU_IS_LOST) {
                continue; // the sampler reports it; the others must still be watched
            }
            long mask = r == NvmlReturn.SUCCESS ? types.getLong(0) & WANTED : 0;
            if (mask == 0) {
                continue;
            }
            NvmlReturn reg = NvmlCall.invoke(fn.deviceRegisterEvents, d.handle, mask, set);
            if (reg == NvmlReturn.SUCCESS) {
                watched.add(d.index);
            }
        }
        return new NvmlEventStream(fn, set, byHandle, java.util.Collections.unmodifiableSet(watched));
    }

    @Override
    public synchronized Optional<GpuEvent> await(Duration timeout) throws GpuException {
        if (closed) {
            throw new GpuException(NvmlReturn.ERROR_UNINITIALIZED.nvmlName(), "event set is closed");
        }
        int ms = (int) Math.min(Integer.MAX_VALUE, Math.max(0, timeout.toMillis()));
        NvmlReturn r = NvmlCall.invoke(fn.eventSetWait, set, data, ms);
        switch (r) {
            case SUCCESS:
                break;
            case ERROR_TIMEOUT:
                return Optional.empty();
            case ERROR_GPU_IS_LOST:
                throw new GpuLostException(r.nvmlName(), "a watched GPU is lost (nvmlEventSetWait)");
            default:
                throw NvmlCall.failure("nvmlEventSetWait", r);
        }
        NvmlDevice d = byHandle.get(data.device);
        int index = d == null ? -1 : d.index;
        String uuid = d == null ? null : d.uuid;
        GpuEvent.Kind kind;
        if ((data.eventType & EVENT_XID_CRITICAL) != 0) {
            kind = GpuEvent.Kind.XID;
        } else if ((data.eventType & EVENT_DOUBLE_BIT_ECC) != 0) {
            kind = GpuEvent.Kind.DOUBLE_BIT_ECC;
        } else if ((data.eventType & EVENT_SINGLE_BIT_ECC) != 0) {
            kind = GpuEvent.Kind.SINGLE_BIT_ECC;
        } else {
            return Optional.empty();
        }
        // 0xFFFFFFFF (-1 here, GpuEvent.DEVICE_WIDE) unless the driver attributes the event to a MIG instance
        return Optional.of(new GpuEvent(index, uuid, kind, kind == GpuEvent.Kind.XID ? data.eventData : 0,
                data.gpuInstanceId, data.computeInstanceId));
    }

    @Override
    public Set<Integer> watchedDevices() {
        return watched;
    }

    @Override
    public synchronized void close() {
        // the health watcher closes the set from its own thread once it stopped waiting on it
        if (!closed) {
            closed = true;
            NvmlCall.invoke(fn.eventSetFree, set);
        }
    }
}

package io.gpuagent.gpu.nvml;

import com.sun.jna.Function;
import io.gpuagent.gpu.GpuException;
import io.gpuagent.gpu.GpuLostException;

/** Invokes NVML functions and turns their return codes into outcomes or typed exceptions. */
final class NvmlCall {
    private NvmlCall() {
    }

    /** Calls {@code f}; a missing function reads as {@link NvmlReturn#ERROR_FUNCTION_NOT_FOUND}. */
    static NvmlReturn invoke(Function f, Object... args) {
        if (f == null) {
            return NvmlReturn.ERROR_FUNCTION_NOT_FOUND;
        }
        return NvmlReturn.of(f.invokeInt(args));
    }

    /** Calls {@code f} and throws unless it succeeded. */
    static void check(String what, Function f, Object... args) throws GpuException {
        NvmlReturn r = invoke(f, args);
        if (r != NvmlReturn.SUCCESS) {
            throw failure(what, r);
        }
    }

    static GpuException failure(String what, NvmlReturn r) {
        String message = what + " failed: " + r.nvmlName() + " (" + r.message() + ")";
        if (r == NvmlReturn.ERROR_GPU_IS_LOST) {
            return new GpuLostException(r.nvmlName(), message);
        }
        return new GpuException(r.nvmlName(), message);
    }

    /** True for the answers that mean "this card or driver does not have that feature". */
    static boolean unsupported(NvmlReturn r) {
        return r == NvmlReturn.ERROR_NOT_SUPPORTED || r == NvmlReturn.ERROR_FUNCTION_NOT_FOUND;
    }
}

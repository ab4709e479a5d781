package io.gpuagent.gpu;

/** The GPU has fallen off the bus; nothing more can be read from it until a reset. */
public final class GpuLostException extends GpuException {
    public GpuLostException(String code, String message) {
        super(code, message);
    }
}

package io.gpuagent.gpu;

/** Told about every change of a GPU's health (the offer and the session layer listen). */
@FunctionalInterface
public interface GpuHealthListener {
    void onHealthChange(GpuHealthState previous, GpuHealthState current);
}

package io.gpuagent.gpu;

/** A process using a GPU, for attributing GPU memory to the session whose container runs it. */
public record GpuProcess(int pid, Long usedMemoryBytes) {
}

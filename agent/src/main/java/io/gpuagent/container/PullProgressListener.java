package io.gpuagent.container;

/** Told about an image pull as it goes (a 10 GB CUDA image takes minutes). */
@FunctionalInterface
public interface PullProgressListener {
    /**
     * @param status        the engine's status line (e.g. "Downloading", "Pull complete")
     * @param currentBytes  bytes done over all layers seen so far
     * @param totalBytes    total bytes over all layers seen so far (0 when unknown)
     */
    void onProgress(String status, long currentBytes, long totalBytes);
}

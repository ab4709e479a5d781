package io.gpuagent.container.docker;

import io.gpuagent.container.PullProgressListener;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sums an image pull's per-layer progress into one figure that only grows. The engine reports
 * each layer's {@code progressDetail} {current, total} while {@code Downloading}, then starts again
 * from 0 while {@code Extracting}; counting the download and treating every later phase of a layer
 * as done keeps the sum monotonic. Layers reported {@code Already exists} weigh nothing. Not
 * thread-safe: fed by the one thread that reads the pull's stream.
 */
final class PullProgress {
    private final PullProgressListener listener;
    private final Map<String, long[]> layers = new LinkedHashMap<>();

    PullProgress(PullProgressListener listener) {
        this.listener = listener;
    }

    /** One line of the engine's pull stream; {@code current}/{@code total} may be null. */
    void onStatus(String layer, String status, Long current, Long total) {
        String s = status == null ? "" : status;
        if (layer != null && !layer.isEmpty() && !s.startsWith("Pulling from")) {
            long[] ct = layers.computeIfAbsent(layer, k -> new long[2]);
            if (s.equals("Downloading")) {
                if (total != null && total > 0) {
                    ct[1] = total;
                }
                if (current != null) {
                    ct[0] = Math.max(ct[0], Math.min(current, ct[1] > 0 ? ct[1] : current));
                }
            } else if (s.equals("Verifying Checksum") || s.equals("Download complete") || s.equals("Extracting")
                    || s.equals("Pull complete")) {
                ct[0] = ct[1];
            }
        }
        long cur = 0;
        long tot = 0;
        for (long[] ct : layers.values()) {
            cur += ct[0];
            tot += ct[1];
        }
        listener.onProgress(s, cur, tot);
    }
}

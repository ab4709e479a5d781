package io.gpuagent.container.docker;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Per-layer progress lines, as the engine streams them during a pull, summed into one figure. */
class PullProgressTest {
    private final List<long[]> seen = new ArrayList<>();
    private final PullProgress progress = new PullProgress((status, cur, tot) -> seen.add(new long[]{cur, tot}));

    private long[] last() {
        return seen.get(seen.size() - 1);
    }

    @Test
    void layersAreSummedAndExtractingDoesNotSetProgressBack() {
        progress.onStatus("12.1", "Pulling from nvidia/cuda", null, null);
        progress.onStatus("a", "Pulling fs layer", null, null);
        progress.onStatus("b", "Already exists", null, null);
        progress.onStatus("c", "Pulling fs layer", null, null);
        progress.onStatus("a", "Downloading", 100L, 1000L);
        progress.onStatus("c", "Downloading", 50L, 500L);
        assertThat(last()).containsExactly(150, 1500);
        progress.onStatus("a", "Download complete", null, null);
        assertThat(last()).containsExactly(1050, 1500);
        progress.onStatus("a", "Extracting", 10L, 1000L);
        assertThat(last()).as("extraction restarts at 0 in the engine's numbers, not ours").containsExactly(1050, 1500);
        progress.onStatus("c", "Downloading", 500L, 500L);
        progress.onStatus("c", "Pull complete", null, null);
        progress.onStatus("a", "Pull complete", null, null);
        progress.onStatus(null, "Digest: sha256:0123", null, null);
        progress.onStatus(null, "Status: Downloaded newer image for nvidia/cuda:12.1", null, null);
        assertThat(last()).containsExactly(1500, 1500);
        for (int i = 1; i < seen.size(); i++) {
            assertThat(seen.get(i)[0]).isGreaterThanOrEqualTo(seen.get(i - 1)[0]);
        }
    }

    @Test
    void aLayerThatReportsLessAfterMoreIsNotCountedBackwards() {
        progress.onStatus("a", "Downloading", 700L, 1000L);
        progress.onStatus("a", "Downloading", 300L, 1000L);
        assertThat(last()).containsExactly(700, 1000);
    }
}

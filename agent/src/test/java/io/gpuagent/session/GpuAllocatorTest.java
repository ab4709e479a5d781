package io.gpuagent.session;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GpuAllocatorTest {
    private final Set<String> unhealthy = new HashSet<>();
    private final GpuAllocator alloc = new GpuAllocator(List.of("GPU-a", "GPU-b", "GPU-c", "GPU-d"),
            u -> !unhealthy.contains(u));

    @Test
    void eachGpuGoesToOneSessionAndARetryGetsTheSameGpus() throws Exception {
        assertThat(alloc.allocate("s1", 2, List.of())).containsExactly("GPU-a", "GPU-b");
        assertThat(alloc.allocate("s1", 2, List.of())).as("idempotent").containsExactly("GPU-a", "GPU-b");
        assertThat(alloc.allocate("s2", 2, List.of())).containsExactly("GPU-c", "GPU-d");
        assertThatThrownBy(() -> alloc.allocate("s3", 1, List.of())).isInstanceOfSatisfying(AllocationException.class,
                e -> assertThat(e.code()).isEqualTo("gpus_unavailable"));
        alloc.release("s1");
        assertThat(alloc.free()).containsExactly("GPU-a", "GPU-b");
        assertThat(alloc.allocate("s3", 1, List.of())).containsExactly("GPU-a");
    }

    @Test
    void unhealthyGpusAreNeverGivenOut() throws Exception {
        unhealthy.add("GPU-a");
        assertThat(alloc.allocate("s1", 1, List.of())).containsExactly("GPU-b");
        assertThatThrownBy(() -> alloc.allocate("s2", 1, List.of("GPU-a"))).isInstanceOfSatisfying(
                AllocationException.class, e -> assertThat(e.code()).isEqualTo("gpu_unhealthy"));
        assertThat(alloc.free()).containsExactly("GPU-c", "GPU-d");
    }

    @Test
    void namedGpusMustBeFreeAndKnownAndAFailureAllocatesNothing() throws Exception {
        alloc.allocate("s1", 0, List.of("GPU-c"));
        assertThatThrownBy(() -> alloc.allocate("s2", 0, List.of("GPU-d", "GPU-c")))
                .isInstanceOfSatisfying(AllocationException.class, e -> assertThat(e.code()).isEqualTo("gpu_busy"))
                .hasMessageContaining("GPU-c").hasMessageContaining("s1");
        assertThat(alloc.ownerOf("GPU-d")).as("nothing half-allocated").isEmpty();
        assertThatThrownBy(() -> alloc.allocate("s2", 0, List.of("GPU-zz"))).isInstanceOfSatisfying(
                AllocationException.class, e -> assertThat(e.code()).isEqualTo("gpu_unknown"));
        assertThatThrownBy(() -> alloc.allocate("s2", 9, List.of())).isInstanceOfSatisfying(
                AllocationException.class, e -> assertThat(e.code()).isEqualTo("gpu_count"));
    }

    @Test
    void adoptionRebuildsAllocationFromContainersAndReportsConflicts() {
        assertThat(alloc.adopt("s1", List.of("GPU-b", "GPU-c"))).isEmpty();
        assertThat(alloc.heldBy("s1")).containsExactly("GPU-b", "GPU-c");
        assertThat(alloc.adopt("s2", List.of("GPU-c", "GPU-x"))).containsExactly("GPU-c (held by s1)",
                "GPU-x (not on this machine)");
        assertThat(alloc.ownerOf("GPU-c")).contains("s1");
    }
}

package io.gpuagent.session;

import io.gpuagent.session.UnitRequest.Kind;
import io.gpuagent.session.UnitRequest.TopologyWish;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How a launch's fields map onto a {@link UnitRequest}, and the codes for contradictions. */
class UnitRequestTest {

    private static void refused(ThrowingCall call, String code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(AllocationException.class,
                e -> assertThat(e.code()).isEqualTo(code));
    }

    @FunctionalInterface
    private interface ThrowingCall {
        void run() throws Exception;
    }

    @Test
    void namedUnitsWinThenAProfileThenACountWithItsTopology() throws Exception {
        assertThat(UnitRequest.from(List.of("MIG-a", "GPU-b"), null, 3, "nvlink"))
                .isEqualTo(UnitRequest.exact(List.of("MIG-a", "GPU-b")));
        assertThat(UnitRequest.from(null, " 1g.10gb ", null, null)).extracting(UnitRequest::kind, UnitRequest::migProfile)
                .containsExactly(Kind.MIG_PROFILE, "1g.10gb");
        assertThat(UnitRequest.from(List.of(), "3g.40gb", 1, null).kind()).isEqualTo(Kind.MIG_PROFILE);
        assertThat(UnitRequest.from(null, null, 2, null)).isEqualTo(UnitRequest.gpus(2, TopologyWish.PREFER));
        assertThat(UnitRequest.from(null, "", 4, "NVLink")).isEqualTo(UnitRequest.gpus(4, TopologyWish.NVLINK));
        assertThat(UnitRequest.from(null, null, 1, "any").topology()).isEqualTo(TopologyWish.ANY);
        assertThat(UnitRequest.from(null, null, null, null).count()).as("a CPU-only session").isZero();
    }

    @Test
    void contradictionsAreRefusedWithStableCodes() {
        refused(() -> UnitRequest.from(List.of("MIG-a"), "1g.10gb", null, null), "unit_request_invalid");
        refused(() -> UnitRequest.from(null, "1g.10gb", 2, null), "unit_request_invalid");
        refused(() -> UnitRequest.from(List.of(" "), null, null, null), "unit_request_invalid");
        refused(() -> UnitRequest.from(null, null, -1, null), "gpu_count");
        refused(() -> UnitRequest.from(null, null, 2, "pcie"), "topology_unknown");
        assertThat(TopologyWish.PREFER.wireName()).isEqualTo("prefer");
        assertThatThrownBy(() -> new UnitRequest(Kind.EXACT, List.of(), null, 0, null))
                .as("an inconsistent record cannot be built").isInstanceOf(IllegalArgumentException.class);
    }
}

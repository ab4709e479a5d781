package io.gpuagent.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Asserts that an allocation is refused with a stable code (GpuAllocatorTest, UnitRequestTest). */
final class AllocationRefusals {
    private AllocationRefusals() {
    }

    /** A call that may throw. */
    @FunctionalInterface
    interface ThrowingCall {
        void run() throws Exception;
    }

    static void refused(ThrowingCall call, String code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(AllocationException.class,
                e -> assertThat(e.code()).isEqualTo(code));
    }
}

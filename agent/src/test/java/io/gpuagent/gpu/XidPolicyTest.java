package io.gpuagent.gpu;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class XidPolicyTest {
    @ParameterizedTest
    @ValueSource(longs = {13, 31, 43, 45, 68, 109})
    void applicationXidsAreNotCritical(long xid) {
        assertThat(XidPolicy.isCritical(xid)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(longs = {48, 63, 64, 74, 79, 92, 94, 95, 119, 1, 0, 4_294_967_295L})
    void everyOtherXidIsCritical(long xid) {
        assertThat(XidPolicy.isCritical(xid)).isTrue();
    }
}

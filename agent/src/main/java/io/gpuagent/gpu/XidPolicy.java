package io.gpuagent.gpu;

import java.util.Set;

/**
 * Which XIDs make a GPU unhealthy. Application-caused XIDs (a renter's bad kernel, a page fault in
 * their code) do not: the GPU itself is fine, and marking it would let any renter take a provider's
 * card off the market. Every other XID does. The list is the one NVIDIA's k8s-device-plugin uses.
 */
public final class XidPolicy {
    /**
     * 13 graphics engine exception, 31 GPU memory page fault, 43 GPU stopped processing,
     * 45 preemptive cleanup, 68 video processor exception, 109 context switch timeout.
     */
    public static final Set<Integer> APPLICATION_XIDS = Set.of(13, 31, 43, 45, 68, 109);

    private XidPolicy() {
    }

    public static boolean isCritical(long xid) {
        return xid > Integer.MAX_VALUE || !APPLICATION_XIDS.contains((int) xid);
    }
}

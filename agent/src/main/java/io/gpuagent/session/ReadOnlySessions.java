package io.gpuagent.session;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the operator endpoint and status lines may know of the sessions: immutable views and
 * counters, nothing that changes a session.
 */
public interface ReadOnlySessions {
    /** Every session in the table, in launch order (ended ones since the last compaction). */
    List<SessionView> list();

    Optional<SessionView> get(String sessionId);

    /** Launch requests by result: {@code accepted} or the refusal's code. */
    Map<String, Long> launchCounts();

    /** Sessions that ended FAILED, by {@link EndReason#code()}. */
    Map<String, Long> failureCounts();

    /** True while the host takes no new sessions. */
    boolean draining();
}

package io.gpuagent.session;

import java.util.List;

/** Told about every session change (the scheduler link streams these as events), outside every lock. */
public interface SessionListener {
    void onChange(SessionView session);

    /**
     * After each meter tick's group commit: every metered session (running or stopping), billed up
     * to the tick. At 1 Hz each session's billed seconds rise by exactly one per tick (the meter bills
     * at the tick's scheduled instant), so this is the live meter a scheduler shows its renters.
     */
    default void onUsage(List<SessionView> metered) {
    }

    SessionListener NONE = s -> {
    };
}

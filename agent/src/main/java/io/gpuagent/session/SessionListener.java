package io.gpuagent.session;

/** Told about every session change (the scheduler link streams these as events). */
public interface SessionListener {
    void onChange(SessionView session);

    SessionListener NONE = s -> {
    };
}

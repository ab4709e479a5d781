package io.gpuagent.session;

import java.util.Locale;

/**
 * Why a session ended (or is ending): a stable code for failure counting, metrics and the
 * protocol's {@code end_reason}, beside the human detail ({@link SessionView#reason()}) the renter
 * reads. The codes are part of the wire format and the journal: never rename one, only add.
 */
public enum EndReason {
    /** The scheduler (for the renter) asked for the stop; the detail is the reason it gave. */
    STOPPED,
    /** The session ran its {@code max_duration_seconds}. */
    MAX_DURATION,
    /** Metered seconds ran ahead of the renter's vouchers by more than the credit limit. */
    PAYMENT_OVERDUE,
    /** One of its GPUs became unhealthy or was lost; the detail names the GPU's state. */
    GPU_FAILED,
    /** The container exited by itself (the detail has its exit code). */
    EXITED,
    /** The engine killed the container for exceeding its memory limit. */
    OOM_KILLED,
    /** Pulling, creating or starting the container failed; the detail has the engine's message. */
    LAUNCH_FAILED,
    /** A launch step could not be journaled (disk full or a failed fsync). */
    JOURNAL_FAILED,
    /** The container vanished from the engine without the agent removing it. */
    CONTAINER_DISAPPEARED,
    /** The agent restarted after accepting the launch but before the container was created. */
    AGENT_RESTARTED_DURING_LAUNCH,
    /** The container was created but had never started when the agent found it after a restart. */
    NEVER_STARTED,
    /**
     * The image needs a newer CUDA than the host's driver supports ({@code NVIDIA_REQUIRE_CUDA} or
     * {@code CUDA_VERSION}); refused before any container was created.
     */
    IMAGE_CUDA_UNSUPPORTED,
    /** The image's {@code NVIDIA_REQUIRE_*} or {@code CUDA_VERSION} cannot be read; refused before any container was created. */
    IMAGE_CUDA_REQUIREMENT_INVALID;

    /** The wire and metrics spelling: lower case, e.g. {@code payment_overdue}. */
    public String code() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The end of a container that stopped on its own: {@link #OOM_KILLED} when the engine says so. */
    static EndReason ofExit(boolean oomKilled) {
        return oomKilled ? OOM_KILLED : EXITED;
    }

    /**
     * The code of a record journaled before codes existed (agent versions up to commit 11d5962
     * wrote only the human reason): classified from the texts those versions wrote. Anything else
     * was a scheduler's own stop reason.
     */
    static EndReason fromLegacyText(String reason) {
        if (reason == null) {
            return STOPPED;
        }
        if (reason.equals("max_duration")) {
            return MAX_DURATION;
        }
        if (reason.equals("payment_overdue")) {
            return PAYMENT_OVERDUE;
        }
        if (reason.startsWith("gpu_failed")) {
            return GPU_FAILED;
        }
        if (reason.startsWith("launch failed")) {
            return LAUNCH_FAILED;
        }
        if (reason.contains("could not be journaled")) {
            return JOURNAL_FAILED;
        }
        if (reason.contains("disappeared")) {
            return CONTAINER_DISAPPEARED;
        }
        if (reason.contains("before the container was created")) {
            return AGENT_RESTARTED_DURING_LAUNCH;
        }
        if (reason.contains("never started")) {
            return NEVER_STARTED;
        }
        if (reason.contains("(OOM)")) {
            return OOM_KILLED;
        }
        if (reason.startsWith("the container exited") || reason.startsWith("ended while the agent was down")) {
            return EXITED;
        }
        return STOPPED;
    }
}

package io.gpuagent.metrics;

import java.util.Optional;

/** Whether the agent is started, reconciled and serving; {@code /readyz} answers from it. */
@FunctionalInterface
public interface Readiness {
    /** Empty when ready; otherwise why not, in words for the operator. */
    Optional<String> notReadyReason();
}

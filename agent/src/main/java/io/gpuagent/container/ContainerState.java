package io.gpuagent.container;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A container as the engine reports it. Times are the engine's own ({@code State.StartedAt},
 * {@code State.FinishedAt}): billing uses them, not the agent's clock.
 *
 * @param status     the engine's status word: created, running, paused, restarting, exited, dead
 * @param startedAt  null before the first start
 * @param finishedAt null while running or never run
 * @param exitCode   null while running
 * @param gpuUuids   the GPU UUIDs in its device requests (or CDI names), to rebuild GPU allocation after a restart
 */
public record ContainerState(String id, String name, String image, Map<String, String> labels, String status,
                             Instant startedAt, Instant finishedAt, Integer exitCode, boolean oomKilled,
                             List<String> gpuUuids) {

    public ContainerState {
        labels = Map.copyOf(labels);
        gpuUuids = List.copyOf(gpuUuids);
    }

    public boolean running() {
        return "running".equals(status) || "restarting".equals(status) || "paused".equals(status);
    }
}

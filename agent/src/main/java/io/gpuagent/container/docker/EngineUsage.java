package io.gpuagent.container.docker;

import com.github.dockerjava.api.async.ResultCallback;
import io.gpuagent.container.ContainerException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A container's usage from the engine itself: its one-shot stats (which the engine answers at its
 * next collection, about a second later) and its {@code top} (a {@code ps} run by the engine) for
 * the host PIDs. The fallback of {@link DockerContainerRuntime#usage} where the kernel's cgroup
 * files cannot be read ({@link HostCgroups}); the same figures.
 */
final class EngineUsage {
    private EngineUsage() {
    }

    /** Usage from the engine's one-shot stats and its {@code top}. */
    static io.gpuagent.container.ContainerUsage read(DockerConnection connection, EngineErrors errors,
                                                     DockerSettings settings, String idOrName) throws ContainerException {
        String what = "read the usage of container " + idOrName;
        java.util.concurrent.atomic.AtomicReference<com.github.dockerjava.api.model.Statistics> first =
                new java.util.concurrent.atomic.AtomicReference<>();
        ResultCallback.Adapter<com.github.dockerjava.api.model.Statistics> cb = new ResultCallback.Adapter<>() {
            @Override
            public void onNext(com.github.dockerjava.api.model.Statistics s) {
                if (first.compareAndSet(null, s)) {
                    try {
                        close();
                    } catch (java.io.IOException ignored) {
                        // one sample is all we need
                    }
                }
            }
        };
        List<Integer> pids = new ArrayList<>();
        try {
            connection.calls().statsCmd(idOrName).withNoStream(true).exec(cb);
            if (!cb.awaitCompletion(settings.callTimeout().toMillis(), TimeUnit.MILLISECONDS) && first.get() == null) {
                throw DockerContainerRuntime.abandon(cb, new ContainerException(what + ": not done within " + settings.callTimeout().toSeconds() + " s"));
            }
            com.github.dockerjava.api.command.TopContainerResponse top = connection.calls().topContainerCmd(idOrName).exec();
            int pidColumn = java.util.Arrays.asList(top.getTitles()).indexOf("PID");
            if (pidColumn >= 0 && top.getProcesses() != null) {
                for (String[] row : top.getProcesses()) {
                    pids.add(Integer.parseInt(row[pidColumn].trim()));
                }
            }
        } catch (InterruptedException e) {
            throw DockerContainerRuntime.abandon(cb, errors.interrupted(what, e));
        } catch (RuntimeException e) {
            throw errors.map(what, e, settings.callTimeout());
        }
        com.github.dockerjava.api.model.Statistics s = first.get();
        if (s == null) {
            throw new ContainerException(what + ": the engine sent no statistics");
        }
        long cpu = s.getCpuStats() != null && s.getCpuStats().getCpuUsage() != null
                && s.getCpuStats().getCpuUsage().getTotalUsage() != null ? s.getCpuStats().getCpuUsage().getTotalUsage() : 0;
        long mem = s.getMemoryStats() != null && s.getMemoryStats().getUsage() != null ? s.getMemoryStats().getUsage() : 0;
        long rx = 0;
        long tx = 0;
        if (s.getNetworks() != null) {
            for (com.github.dockerjava.api.model.StatisticNetworksConfig n : s.getNetworks().values()) {
                rx += n.getRxBytes() == null ? 0 : n.getRxBytes();
                tx += n.getTxBytes() == null ? 0 : n.getTxBytes();
            }
        }
        return new io.gpuagent.container.ContainerUsage(cpu, mem, rx, tx, pids);
    }
}

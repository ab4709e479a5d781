package io.gpuagent.bench;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.docker.DockerContainerRuntime;
import io.gpuagent.journal.Journal;
import io.gpuagent.session.GpuAllocator;
import io.gpuagent.session.LaunchPolicy;
import io.gpuagent.session.LaunchRequest;
import io.gpuagent.session.PortAllocator;
import io.gpuagent.session.SessionCore;
import io.gpuagent.session.SessionState;
import io.gpuagent.util.Clock;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Heap per running session: the session layer's heap after a full GC with no sessions, then with
 * N running ones (metered for a few ticks, usage read from the engine), on the real engine.
 * Usage: {@code java -cp benchmarks.jar io.gpuagent.bench.SessionMemory SOCKET IMAGE [N]}.
 */
public final class SessionMemory {
    private SessionMemory() {
    }

    private static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        String image = args[1];
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        Path state = Files.createTempDirectory("gpu-agent-mem-bench");
        try (DockerContainerRuntime docker = new DockerContainerRuntime(socket);
             Journal journal = Journal.open(state.resolve("journal"), Clock.SYSTEM, r -> { })) {
            AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=none",
                    "sessions.disk_per_gpu_gb=0", "sessions.memory_per_gpu_mb=64", "sessions.cpus_per_gpu=1"));
            SessionCore m = SessionCore.builder().runtime(docker).journal(journal).policy(new LaunchPolicy(c.sessions()))
                    .gpus(new GpuAllocator(List.of(), u -> true), 0).ports(new PortAllocator(43000, 43999))
                    .clock(Clock.SYSTEM).epoch(1).stopGrace(Duration.ofSeconds(1)).launchPool(4, 64)
                    .fatal(t -> { }).build();
            // warm up every code path once
            m.launch(new LaunchRequest("mem-warm", "r", "0xB", 0, List.of(), image, List.of("sleep", "600"), Map.of(),
                    List.of(22), null, "1", 3600));
            waitFor(m, "mem-warm", SessionState.RUNNING);
            for (int i = 0; i < 6; i++) {
                m.tick();
            }
            m.stop("mem-warm", "bench");
            waitFor(m, "mem-warm", SessionState.ENDED);
            long before = heapAfterGc();
            for (int i = 0; i < n; i++) {
                m.launch(new LaunchRequest("mem-" + i, "r" + i, "0xB", 0, List.of(), image, List.of("sleep", "600"),
                        Map.of("A", "b"), List.of(22), null, "1", 3600));
            }
            for (int i = 0; i < n; i++) {
                waitFor(m, "mem-" + i, SessionState.RUNNING);
            }
            for (int i = 0; i < 6; i++) {
                m.tick();
            }
            long after = heapAfterGc();
            System.out.printf("%d running sessions: heap %+.1f KiB in all, %.1f KiB per session%n", n,
                    (after - before) / 1024.0, (after - before) / 1024.0 / n);
            for (int i = 0; i < n; i++) {
                m.stop("mem-" + i, "bench");
            }
            for (int i = 0; i < n; i++) {
                waitFor(m, "mem-" + i, SessionState.ENDED);
            }
            m.close();
        }
    }

    private static void waitFor(SessionCore m, String id, SessionState s) throws InterruptedException {
        for (int i = 0; i < 600 && m.get(id).orElseThrow().state() != s; i++) {
            if (m.get(id).orElseThrow().state() == SessionState.FAILED) {
                throw new IllegalStateException(id + " failed: " + m.get(id));
            }
            Thread.sleep(50);
        }
    }
}

package io.gpuagent.bench;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.ContainerSpec;
import io.gpuagent.container.GpuAttachMode;
import io.gpuagent.container.docker.DockerContainerRuntime;
import io.gpuagent.journal.Journal;
import io.gpuagent.session.GpuAllocator;
import io.gpuagent.session.LaunchPolicy;
import io.gpuagent.session.LaunchRequest;
import io.gpuagent.session.PortAllocator;
import io.gpuagent.session.SessionCore;
import io.gpuagent.session.SessionState;
import io.gpuagent.util.Clock;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Launch overhead over a raw Docker create+start of the same image, side by side in one run:
 * {@code raw} = create + start through the adapter; {@code session} = SessionCore.launch until
 * RUNNING (policy, allocation, three durable journal records, the session network, create, start,
 * inspect). Usage: {@code java -cp benchmarks.jar io.gpuagent.bench.LaunchOverhead SOCKET IMAGE [N]}
 * (scripts/bench.sh runs it against the test engine).
 */
public final class LaunchOverhead {
    private LaunchOverhead() {
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        String image = args[1];
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        Path state = Files.createTempDirectory("gpu-agent-launch-bench");
        List<Long> raw = new ArrayList<>();
        List<Long> session = new ArrayList<>();
        try (DockerContainerRuntime docker = new DockerContainerRuntime(socket);
             Journal journal = Journal.open(state.resolve("journal"), Clock.SYSTEM, r -> { })) {
            AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=none",
                    "sessions.disk_per_gpu_gb=0", "sessions.memory_per_gpu_mb=256", "sessions.cpus_per_gpu=1"));
            SessionCore m = SessionCore.builder().runtime(docker).journal(journal).policy(new LaunchPolicy(c.sessions()))
                    .gpus(new GpuAllocator(List.of(), u -> true), 0).ports(new PortAllocator(42000, 42099))
                    .clock(Clock.SYSTEM).epoch(1).stopGrace(Duration.ofSeconds(1)).launchPool(1, 64)
                    .fatal(t -> { }).build();
            docker.createNetwork("gpu-agent-bench-raw", Map.of());
            for (int i = 0; i < n + 2; i++) {
                // raw: the same container shape, straight to the engine
                ContainerSpec spec = new ContainerSpec("gpu-agent-bench-raw-" + i, image, List.of("sleep", "600"), Map.of(),
                        Map.of("io.gpuagent.bench", "raw"), GpuAttachMode.NONE, List.of(), 256L << 20, 1_000_000_000L,
                        4096, null, LaunchPolicy.CAP_ADD, LaunchPolicy.SECURITY_OPTS, "gpu-agent-bench-raw", List.of(),
                        List.of(), new ContainerSpec.LogLimit(c.sessions().logMaxSizeMb() << 20, (int) c.sessions().logMaxFiles()));
                long t0 = System.nanoTime();
                String id = docker.create(spec);
                docker.start(id);
                long rawNs = System.nanoTime() - t0;
                docker.remove(id);

                String sid = "bench-" + i;
                t0 = System.nanoTime();
                m.launch(new LaunchRequest(sid, "r", "0xBench", 0, List.of(), image, List.of("sleep", "600"), Map.of(),
                        List.of(), null, "1", 3600));
                while (m.get(sid).orElseThrow().state() != SessionState.RUNNING) {
                    if (m.get(sid).orElseThrow().state().terminal()) {
                        throw new IllegalStateException("launch failed: " + m.get(sid));
                    }
                    Thread.onSpinWait();
                }
                long sessionNs = System.nanoTime() - t0;
                m.stop(sid, "bench");
                while (!m.get(sid).orElseThrow().state().terminal()) {
                    Thread.sleep(20);
                }
                if (i >= 2) { // the first two warm up the JIT and the engine
                    raw.add(rawNs);
                    session.add(sessionNs);
                }
            }
            docker.removeNetwork("gpu-agent-bench-raw");
            m.close();
        }
        Collections.sort(raw);
        Collections.sort(session);
        long rawMed = raw.get(raw.size() / 2);
        long sesMed = session.get(session.size() / 2);
        System.out.printf("launches: %d each, interleaved%n", raw.size());
        System.out.printf("raw create+start: median %.1f ms (min %.1f, max %.1f)%n", rawMed / 1e6, raw.get(0) / 1e6,
                raw.get(raw.size() - 1) / 1e6);
        System.out.printf("session launch to RUNNING: median %.1f ms (min %.1f, max %.1f)%n", sesMed / 1e6,
                session.get(0) / 1e6, session.get(session.size() - 1) / 1e6);
        System.out.printf("overhead: median %.1f ms%n", (sesMed - rawMed) / 1e6);
    }
}

package io.gpuagent.session;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.docker.DockerContainerRuntime;
import io.gpuagent.journal.JournalRecord;
import io.gpuagent.journal.Journal;
import io.gpuagent.util.Clock;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * The session layer in a process of its own, so that a test can kill -9 it: recovers from the
 * journal, reconciles with the real Docker engine, then launches, meters or stops one session and
 * prints what it sees, one line each second. Used by {@link SessionsOnDockerIT}.
 *
 * <p>Arguments: state directory, Docker socket, action ({@code run} or {@code stop}), session id,
 * image.
 */
public final class SessionHarness {
    private SessionHarness() {
    }

    /** The command line that runs this harness in a JVM of its own, on the caller's classpath. */
    static ProcessBuilder start(Path state, Path socket, String action, String id, String image) {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), SessionHarness.class.getName(), state.toString(),
                socket.toString(), action, id, image);
    }

    public static void main(String[] args) throws Exception {
        Path state = Path.of(args[0]);
        Path socket = Path.of(args[1]);
        String action = args[2];
        String id = args[3];
        String image = args[4];
        List<JournalRecord> records = new ArrayList<>();
        Journal journal = Journal.open(state.resolve("journal"), Clock.SYSTEM, records::add);
        DockerContainerRuntime runtime = new DockerContainerRuntime(socket);
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=none",
                "sessions.memory_per_gpu_mb=256", "sessions.cpus_per_gpu=1", "sessions.disk_per_gpu_gb=0"));
        // the end is told to listeners after the container is removed: waiting for it, not for the state,
        // keeps the exit below from cutting the removal short
        java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
        SessionCore m = SessionCore.builder().runtime(runtime).journal(journal).policy(new LaunchPolicy(c.sessions()))
                .gpus(new GpuAllocator(List.of("GPU-sim-0"), u -> true), 1).ports(new PortAllocator(31000, 31009))
                .clock(Clock.SYSTEM).epoch(Clock.SYSTEM.wallTime().toEpochMilli()).stopGrace(Duration.ofSeconds(2))
                .listener(v -> {
                    if (v.sessionId().equals(id) && v.state().terminal()) {
                        ended.countDown();
                    }
                })
                .fatal(t -> {
                    System.out.println("FATAL " + t);
                    System.exit(6);
                }).build();
        m.recover(records);
        SessionCore.ReconcileReport r = m.reconcile();
        System.out.println("RECONCILED adopted=" + r.adopted() + " settled=" + r.settled() + " failed=" + r.failed()
                + " strays=" + r.strays());
        if (action.equals("stop")) {
            m.stop(id, "test_end");
            if (!ended.await(30, java.util.concurrent.TimeUnit.SECONDS)) { // the stop's grace is 2 s
                System.out.println("NOT-ENDED " + m.get(id).orElseThrow());
                System.exit(1);
            }
            SessionView v = m.get(id).orElseThrow();
            System.out.println("ENDED state=" + v.state() + " billed=" + v.billedSeconds() + " started=" + v.startedAt()
                    + " finished=" + v.finishedAt());
            journal.close();
            System.exit(0);
        }
        if (m.get(id).isEmpty()) {
            m.launch(new LaunchRequest(id, "rental-" + id, "0xRenter", 0, List.of(), image, List.of("sleep", "3600"),
                    Map.of(), List.of(), null, "100", 86_400));
        }
        while (true) {
            m.tick();
            SessionView v = m.get(id).orElseThrow();
            System.out.println("STATE " + v.state() + " billed=" + v.billedSeconds() + " started=" + v.startedAt());
            System.out.flush();
            Thread.sleep(1000); // the meter's pace, as the daemon's 1 Hz meter thread would tick
        }
    }
}

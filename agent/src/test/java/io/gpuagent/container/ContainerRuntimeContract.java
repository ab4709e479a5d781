package io.gpuagent.container;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What every {@link ContainerRuntime} must do, whatever is behind it: run against the fake with
 * knobs (unit test) and against a real Docker engine (integration test), so that the session
 * layer's tests on the fake can be trusted. The contract does not depend on a command language:
 * each implementation's test says how to write the three programs it needs.
 *
 * <p>Every container and network a test makes carries the label {@link #RUN_LABEL} with a value
 * unique to the test, and is removed after it.
 */
public abstract class ContainerRuntimeContract {
    public static final String RUN_LABEL = "io.gpuagent.test.run";
    protected static final String GPU_A = "GPU-1b6e5d2a-58c1-4a07-9a2e-0c1f6b0e7a11";
    protected static final String GPU_B = "GPU-7c0f1e3b-2d44-4b8e-8f51-93a2d6c4e822";

    protected ContainerRuntime runtime;
    /** Short and unique per test: prefixes every name the test makes. */
    protected String run;
    /** The test's own session network. */
    protected String network;
    private final AtomicInteger seq = new AtomicInteger();

    /** A runtime on which {@link #image()} is present. */
    protected abstract ContainerRuntime newRuntime() throws Exception;

    protected abstract String image();

    /** A command that prints {@code lines} to stdout, one per line, then exits with {@code exitCode}. */
    protected abstract List<String> printThenExit(List<String> lines, int exitCode);

    /** A command that runs until SIGTERM, then exits with {@code exitCode}. */
    protected abstract List<String> runUntilTerm(int exitCode);

    /** A command that runs and ignores SIGTERM: only SIGKILL ends it. */
    protected abstract List<String> ignoreTerm();

    /** A command that prints the file's content, then one line with its permission bits in octal (e.g. 640), then exits 0. */
    protected abstract List<String> catWithMode(String path);

    /**
     * Makes a local image, from {@link #image()}, whose configuration adds these environment
     * variables and labels (as a Dockerfile's {@code ENV} and {@code LABEL} would), and returns its
     * name. The implementation's test removes it afterwards.
     */
    protected abstract String imageWith(Map<String, String> env, Map<String, String> labels) throws Exception;

    /** The engine's "now", to compare its start and finish times with. */
    protected Instant now() {
        return Instant.now();
    }

    /** How long to wait for a container to reach a state. */
    protected Duration patience() {
        return Duration.ofSeconds(15);
    }

    @BeforeEach
    void openRuntime() throws Exception {
        runtime = newRuntime();
        run = "gat" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
        network = run + "-net";
        runtime.createNetwork(network, runLabels());
    }

    @AfterEach
    void cleanUp() throws Exception {
        try {
            for (ContainerState c : runtime.list(Map.of(RUN_LABEL, run))) {
                runtime.remove(c.id());
            }
            runtime.removeNetwork(network);
        } finally {
            runtime.close();
        }
    }

    /** The labels of everything this test makes: {@link #RUN_LABEL} with this test's value. */
    protected Map<String, String> runLabels() {
        return Map.of(RUN_LABEL, run);
    }

    /** A spec named {@code <run>-<n>} on the test's network, with {@link #runLabels()}. */
    protected SpecBuilder spec(List<String> command) {
        String name = run + "-" + seq.incrementAndGet();
        return new SpecBuilder(name, image(), network).command(command).labels(runLabels()).label("io.gpuagent.session", name);
    }

    protected ContainerState state(String idOrName) throws ContainerException {
        return runtime.inspect(idOrName).orElseThrow(() -> new AssertionError("no container " + idOrName));
    }

    protected ContainerState awaitStatus(String idOrName, String status) throws ContainerException {
        await().atMost(patience()).pollInterval(Duration.ofMillis(50)).until(() -> state(idOrName).status().equals(status));
        return runtime.inspect(idOrName).orElseThrow();
    }

    @Test
    void createThenInspectShowsCreatedWithItsLabels() throws Exception {
        ContainerSpec s = spec(runUntilTerm(0)).label("io.gpuagent.renter", "0xabc").build();
        String id = runtime.create(s);

        ContainerState c = state(s.name());
        assertThat(c.id()).isEqualTo(id);
        assertThat(c.name()).isEqualTo(s.name());
        assertThat(c.image()).isEqualTo(image());
        assertThat(c.status()).isEqualTo("created");
        assertThat(c.running()).isFalse();
        assertThat(c.labels()).containsEntry(RUN_LABEL, run).containsEntry("io.gpuagent.renter", "0xabc")
                .containsEntry("io.gpuagent.session", s.name());
        assertThat(c.startedAt()).isNull();
        assertThat(c.finishedAt()).isNull();
        assertThat(c.exitCode()).isNull();
        assertThat(c.oomKilled()).isFalse();
        assertThat(c.gpuUuids()).isEmpty();
        assertThat(state(id).name()).as("inspect by id").isEqualTo(s.name());
    }

    @Test
    void aSecondCreateWithTheSameNameConflictsAndLeavesExactlyOne() throws Exception {
        ContainerSpec s = spec(runUntilTerm(0)).build();
        String id = runtime.create(s);

        assertThatThrownBy(() -> runtime.create(s)).isInstanceOf(ContainerConflictException.class)
                .hasMessageContaining(s.name());
        assertThat(runtime.list(Map.of(RUN_LABEL, run))).extracting(ContainerState::id).containsExactly(id);
    }

    @Test
    void startRunsItWithTheEnginesStartTime() throws Exception {
        ContainerSpec s = spec(runUntilTerm(0)).build();
        runtime.create(s);
        runtime.start(s.name());

        ContainerState c = state(s.name());
        assertThat(c.status()).isEqualTo("running");
        assertThat(c.running()).isTrue();
        assertThat(c.startedAt()).isBetween(now().minusSeconds(10), now().plusSeconds(2));
        assertThat(c.finishedAt()).isNull();
        assertThat(c.exitCode()).isNull();
        runtime.start(s.name());
        assertThat(state(s.name()).startedAt()).as("a second start changes nothing").isEqualTo(c.startedAt());
    }

    @Test
    void stopSendsTermAndTheProgramsExitCodeIsReported() throws Exception {
        ContainerSpec s = spec(runUntilTerm(7)).build();
        runtime.create(s);
        runtime.start(s.name());
        awaitStatus(s.name(), "running");

        runtime.stop(s.name(), Duration.ofSeconds(20));

        ContainerState c = state(s.name());
        assertThat(c.status()).isEqualTo("exited");
        assertThat(c.exitCode()).isEqualTo(7);
        assertThat(c.oomKilled()).isFalse();
        assertThat(c.finishedAt()).isAfterOrEqualTo(c.startedAt()).isBefore(now().plusSeconds(2));
        runtime.stop(s.name(), Duration.ofSeconds(1));
        assertThat(state(s.name()).finishedAt()).as("stopping a stopped container changes nothing").isEqualTo(c.finishedAt());
    }

    @Test
    void stopKillsAProgramThatIgnoresTermAfterTheGrace() throws Exception {
        ContainerSpec s = spec(ignoreTerm()).build();
        runtime.create(s);
        runtime.start(s.name());
        awaitStatus(s.name(), "running");

        runtime.stop(s.name(), Duration.ofSeconds(1));

        ContainerState c = state(s.name());
        assertThat(c.status()).isEqualTo("exited");
        assertThat(c.exitCode()).as("128 + SIGKILL").isEqualTo(137);
        assertThat(c.oomKilled()).isFalse();
    }

    @Test
    void aProgramThatEndsReportsItsExitCodeAndFinishTime() throws Exception {
        ContainerSpec s = spec(printThenExit(List.of("done"), 3)).build();
        runtime.create(s);
        runtime.start(s.name());

        ContainerState c = awaitStatus(s.name(), "exited");
        assertThat(c.exitCode()).isEqualTo(3);
        assertThat(c.running()).isFalse();
        assertThat(c.startedAt()).isNotNull();
        assertThat(c.finishedAt()).isAfterOrEqualTo(c.startedAt()).isBetween(now().minusSeconds(10), now().plusSeconds(2));
    }

    @Test
    void logTailReturnsTheLastLinesOldestFirst() throws Exception {
        List<String> lines = List.of("one", "two", "three", "four", "five", "six");
        ContainerSpec s = spec(printThenExit(lines, 0)).build();
        runtime.create(s);
        runtime.start(s.name());
        awaitStatus(s.name(), "exited");

        assertThat(runtime.logTail(s.name(), 3)).containsExactly("four", "five", "six");
        assertThat(runtime.logTail(s.name(), 100)).containsExactlyElementsOf(lines);
        assertThat(runtime.logTail(s.name(), 0)).isEmpty();
    }

    /** Issue 10: the log was uncapped, so a renter printing in a loop filled the owner's disk. */
    @Test
    void aLogOverItsLimitKeepsTheNewestLinesAndForgetsTheOldest() throws Exception {
        List<String> lines = java.util.stream.IntStream.rangeClosed(1, 400).mapToObj(i -> String.format("line-%04d", i)).toList();
        ContainerSpec s = spec(printThenExit(lines, 0)).log(2048, 2).build();
        runtime.create(s);
        runtime.start(s.name());
        awaitStatus(s.name(), "exited");

        List<String> kept = runtime.logTail(s.name(), 1000);
        assertThat(kept).as("the newest line is kept").endsWith("line-0400");
        assertThat(kept).as("the oldest are forgotten").doesNotContain("line-0001");
        assertThat(kept).as("what is kept is the end of what was printed, without holes")
                .containsExactlyElementsOf(lines.subList(lines.size() - kept.size(), lines.size()));
        // the lines' own bytes (each is stored with more) fit in 2 files of 2 KiB plus one line per file
        assertThat(kept.size() * 10L).as("bytes kept").isLessThanOrEqualTo(2 * 2048 + 2 * 10);
        assertThat(kept.size()).as("at least a file's worth is kept").isGreaterThanOrEqualTo(10);
    }

    @Test
    void filesAreInPlaceWithTheirContentAndModeBeforeTheProgramStarts() throws Exception {
        String path = "/etc/gpu-agent/motd.txt";
        String key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0bqCvV renter@example";
        ContainerSpec s = spec(catWithMode(path))
                .file(path, "hello\nrenter".getBytes(StandardCharsets.UTF_8), 0640)
                .file("/root/.ssh/authorized_keys", (key + "\n").getBytes(StandardCharsets.UTF_8), 0600)
                .build();
        runtime.create(s);
        runtime.start(s.name());

        ContainerState c = awaitStatus(s.name(), "exited");
        assertThat(c.exitCode()).isZero();
        assertThat(runtime.logTail(s.name(), 10)).containsExactly("hello", "renter", "640");

        ContainerSpec k = spec(catWithMode("/root/.ssh/authorized_keys"))
                .file("/root/.ssh/authorized_keys", (key + "\n").getBytes(StandardCharsets.UTF_8), 0600).build();
        runtime.create(k);
        runtime.start(k.name());
        awaitStatus(k.name(), "exited");
        assertThat(runtime.logTail(k.name(), 10)).containsExactly(key, "600");
    }

    @Test
    void aFilePathThatCouldEscapeIsRefusedAndNothingIsCreated() throws Exception {
        ContainerSpec s = spec(runUntilTerm(0)).file("/tmp/../../etc/cron.d/x", new byte[]{1}, 0644).build();
        assertThatThrownBy(() -> runtime.create(s)).isInstanceOf(ContainerException.class)
                .hasMessageContaining(s.name()).hasMessageContaining("/tmp/../../etc/cron.d/x");
        assertThat(runtime.inspect(s.name())).isEmpty();
    }

    @Test
    void removeDeletesEvenARunningContainerAndAMissingOneIsNoError() throws Exception {
        ContainerSpec s = spec(runUntilTerm(0)).build();
        String id = runtime.create(s);
        runtime.start(id);
        awaitStatus(id, "running");

        runtime.remove(id);

        assertThat(runtime.inspect(id)).isEmpty();
        assertThat(runtime.inspect(s.name())).isEmpty();
        runtime.remove(id);
        runtime.create(s);
        assertThat(state(s.name()).status()).as("the name is free again").isEqualTo("created");
    }

    @Test
    void listByLabelFindsExactlyTheMatchingContainers() throws Exception {
        String a = runtime.create(spec(runUntilTerm(0)).label("io.gpuagent.test.group", "a").build());
        String b = runtime.create(spec(runUntilTerm(0)).label("io.gpuagent.test.group", "b").build());
        String none = runtime.create(spec(runUntilTerm(0)).build());
        runtime.start(b);

        assertThat(runtime.list(Map.of(RUN_LABEL, run))).extracting(ContainerState::id).containsExactlyInAnyOrder(a, b, none);
        assertThat(runtime.list(Map.of(RUN_LABEL, run, "io.gpuagent.test.group", "a"))).extracting(ContainerState::id)
                .containsExactly(a);
        Map<String, String> anyGroup = new HashMap<>();
        anyGroup.put(RUN_LABEL, run);
        anyGroup.put("io.gpuagent.test.group", null);
        assertThat(runtime.list(anyGroup)).extracting(ContainerState::id).containsExactlyInAnyOrder(a, b);
        assertThat(runtime.list(Map.of(RUN_LABEL, run + "-nobody"))).isEmpty();
        ContainerState listed = runtime.list(Map.of(RUN_LABEL, run, "io.gpuagent.test.group", "b")).get(0);
        assertThat(listed.status()).isEqualTo("running");
        assertThat(listed.startedAt()).as("list carries the engine's times").isNotNull();
    }

    @Test
    void runningIdsAreTheRunningContainersWithTheLabels() throws Exception {
        String created = runtime.create(spec(runUntilTerm(0)).label("io.gpuagent.test.group", "a").build());
        String running = runtime.create(spec(runUntilTerm(0)).label("io.gpuagent.test.group", "a").build());
        String exited = runtime.create(spec(runUntilTerm(0)).label("io.gpuagent.test.group", "a").build());
        String other = runtime.create(spec(runUntilTerm(0)).label("io.gpuagent.test.group", "b").build());
        runtime.start(running);
        runtime.start(exited);
        runtime.start(other);
        runtime.stop(exited, Duration.ofSeconds(5));

        assertThat(runtime.runningIds(Map.of(RUN_LABEL, run, "io.gpuagent.test.group", "a")))
                .as("neither the created nor the exited one").containsExactly(running);
        Map<String, String> anyGroup = new HashMap<>();
        anyGroup.put(RUN_LABEL, run);
        anyGroup.put("io.gpuagent.test.group", null);
        assertThat(runtime.runningIds(anyGroup)).containsExactlyInAnyOrder(running, other);
        assertThat(runtime.runningIds(Map.of(RUN_LABEL, run + "-nobody"))).isEmpty();
        assertThat(runtime.inspect(created).orElseThrow().status()).as("listing changes nothing").isEqualTo("created");
    }

    @Test
    void missingContainersAreEmptyOnInspectAndNotFoundOnStartAndStop() throws Exception {
        String missing = run + "-missing";
        assertThat(runtime.inspect(missing)).isEmpty();
        assertThatThrownBy(() -> runtime.start(missing)).isInstanceOf(ContainerNotFoundException.class);
        assertThatThrownBy(() -> runtime.stop(missing, Duration.ofSeconds(1))).isInstanceOf(ContainerNotFoundException.class);
        assertThatThrownBy(() -> runtime.logTail(missing, 5)).isInstanceOf(ContainerNotFoundException.class);
    }

    @Test
    void createWithAnImageThatIsNotThereIsNotFoundAndLeavesNothing() throws Exception {
        ContainerSpec s = spec(runUntilTerm(0)).image("gpu-agent-test/absent:0").build();
        assertThatThrownBy(() -> runtime.create(s)).isInstanceOf(ContainerNotFoundException.class)
                .hasMessageContaining("gpu-agent-test/absent:0");
        assertThat(runtime.inspect(s.name())).isEmpty();
        assertThat(runtime.imagePresent("gpu-agent-test/absent:0")).isFalse();
        assertThat(runtime.imagePresent(image())).isTrue();
    }

    @Test
    void anInvalidNameIsAnErrorButNotAConflict() {
        ContainerSpec s = new SpecBuilder("bad/name", image(), network).labels(runLabels()).command(runUntilTerm(0)).build();
        assertThatThrownBy(() -> runtime.create(s)).isInstanceOf(ContainerException.class)
                .isNotInstanceOf(ContainerConflictException.class).hasMessageContaining("bad/name");
    }

    @Test
    void gpusAreRecoveredFromTheCreatedContainerInBothAttachModes() throws Exception {
        ContainerSpec nv = spec(runUntilTerm(0)).gpus(GpuAttachMode.NVIDIA, GPU_A, GPU_B).build();
        ContainerSpec cdi = spec(runUntilTerm(0)).gpus(GpuAttachMode.CDI, GPU_B).build();
        runtime.create(nv);
        runtime.create(cdi);

        assertThat(state(nv.name()).gpuUuids()).containsExactly(GPU_A, GPU_B);
        assertThat(state(cdi.name()).gpuUuids()).containsExactly(GPU_B);
    }

    @Test
    void networksAreCreatedOnceByNameAndRemovingAMissingOneIsNoError() throws Exception {
        String name = run + "-net2";
        String id = runtime.createNetwork(name, runLabels());
        try {
            assertThat(runtime.createNetwork(name, runLabels())).isEqualTo(id);
            assertThat(runtime.createNetwork(run + "-n", runLabels())).as("a prefix is another network")
                    .isNotEqualTo(id);
        } finally {
            runtime.removeNetwork(name);
            runtime.removeNetwork(run + "-n");
        }
        runtime.removeNetwork(name);
    }

    @Test
    void inspectImageReportsTheImagesOwnEnvironmentAndLabels() throws Exception {
        String require = "cuda>=12.8 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471";
        String image = imageWith(Map.of("NVIDIA_REQUIRE_CUDA", require, "NVIDIA_VISIBLE_DEVICES", "all",
                "WITH_EQUALS", "a=b"), Map.of("io.gpuagent.test.image", run));

        ImageConfig c = runtime.inspectImage(image).orElseThrow(() -> new AssertionError("no image " + image));
        assertThat(c.id()).startsWith("sha256:");
        assertThat(c.env()).containsEntry("NVIDIA_REQUIRE_CUDA", require).containsEntry("NVIDIA_VISIBLE_DEVICES", "all")
                .as("split at the first '='").containsEntry("WITH_EQUALS", "a=b");
        assertThat(c.labels()).containsEntry("io.gpuagent.test.image", run);
        assertThat(runtime.imagePresent(image)).isTrue();
    }

    @Test
    void inspectImageOfAnImageThatIsNotThereIsEmptyAndPullsNothing() throws Exception {
        assertThat(runtime.inspectImage("gpu-agent-test/absent:0")).isEmpty();
        assertThat(runtime.imagePresent("gpu-agent-test/absent:0")).as("inspecting never pulls").isFalse();
        assertThat(runtime.inspectImage(image())).as("the test image").isPresent();
    }

    @Test
    void describeNamesTheEngine() throws Exception {
        assertThat(runtime.describe()).isNotBlank().contains("API");
    }
}

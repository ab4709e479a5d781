package io.gpuagent.container;

import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The fake passes the contract, and its knobs do what they say. */
class FakeContainerRuntimeTest extends ContainerRuntimeContract {
    private static final String IMAGE = "gpu-agent-test/busybox:1";
    private final ManualClock clock = new ManualClock();
    private FakeContainerRuntime fake;

    @Override
    protected ContainerRuntime newRuntime() {
        fake = new FakeContainerRuntime(clock, IMAGE);
        return fake;
    }

    @Override
    protected String image() {
        return IMAGE;
    }

    @Override
    protected String imageWith(java.util.Map<String, String> env, java.util.Map<String, String> labels) {
        String name = "gpu-agent-test/with-env:" + run;
        fake.addImage(name, env, labels);
        return name;
    }

    @Override
    protected Instant now() {
        return clock.wallTime();
    }

    @Override
    protected List<String> printThenExit(List<String> lines, int exitCode) {
        return FakeContainerRuntime.printThenExit(lines, exitCode);
    }

    @Override
    protected List<String> runUntilTerm(int exitCode) {
        return FakeContainerRuntime.runUntilTerm(exitCode);
    }

    @Override
    protected List<String> ignoreTerm() {
        return List.of("sleep", "1000");
    }

    @Override
    protected List<String> catWithMode(String path) {
        return FakeContainerRuntime.catWithMode(path);
    }

    @Test
    void aContainerExitsOrIsOomKilledAtTheGivenTime() throws Exception {
        ContainerSpec s = spec(runUntilTerm(0)).build();
        fake.create(s);
        fake.start(s.name());
        Instant started = clock.wallTime();
        fake.exitAt(s.name(), started.plusSeconds(90), 137, true);

        clock.advance(Duration.ofSeconds(89));
        assertThat(state(s.name()).status()).isEqualTo("running");
        clock.advance(Duration.ofSeconds(5));
        ContainerState c = state(s.name());
        assertThat(c.status()).isEqualTo("exited");
        assertThat(c.oomKilled()).isTrue();
        assertThat(c.exitCode()).isEqualTo(137);
        assertThat(c.finishedAt()).as("the planned time, not when it was noticed").isEqualTo(started.plusSeconds(90));
        assertThat(Duration.between(c.startedAt(), c.finishedAt())).isEqualTo(Duration.ofSeconds(90));
    }

    @Test
    void theEngineIsDownForAWhileThenAnswersAgainWithStateIntact() throws Exception {
        ContainerSpec s = spec(runUntilTerm(0)).build();
        fake.create(s);
        fake.engineDownFor(Duration.ofSeconds(30));

        assertThatThrownBy(() -> fake.inspect(s.name())).isInstanceOf(ContainerException.class)
                .hasMessageContaining("unreachable");
        assertThatThrownBy(() -> fake.start(s.name())).isInstanceOf(ContainerException.class);
        clock.advance(Duration.ofSeconds(31));
        assertThat(state(s.name()).status()).isEqualTo("created");

        fake.engineDown();
        assertThatThrownBy(() -> fake.list(java.util.Map.of())).isInstanceOf(ContainerException.class);
        fake.engineUp();
        assertThat(fake.list(java.util.Map.of(RUN_LABEL, run))).hasSize(1);
    }

    @Test
    void plannedCreateAndStartFailuresAreThrownOnceEach() throws Exception {
        ContainerSpec s = spec(runUntilTerm(0)).build();
        fake.failNextCreate(new ContainerException("create container: engine answered 500: disk full"));
        fake.failNextStart(new ContainerException("start container: engine answered 500: OCI runtime create failed"));

        assertThatThrownBy(() -> fake.create(s)).hasMessageContaining("disk full");
        assertThat(fake.inspect(s.name())).isEmpty();
        fake.create(s);
        assertThatThrownBy(() -> fake.start(s.name())).hasMessageContaining("OCI runtime");
        assertThat(state(s.name()).status()).isEqualTo("created");
        fake.start(s.name());
        assertThat(state(s.name()).status()).isEqualTo("running");
        assertThat(fake.calls("create")).isEqualTo(2);
        assertThat(fake.calls("start")).isEqualTo(2);
    }

    @Test
    void slowCreateHoldsTheCallerForItsDelayBeforeItDoesAnything() throws Exception {
        // the hold is taken over, so the test sees the caller held without measuring any time
        List<Duration> asked = new CopyOnWriteArrayList<>();
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        fake.pauseWith(d -> {
            asked.add(d);
            held.countDown();
            release.await();
        });
        fake.slowCreate(Duration.ofMillis(200));
        ContainerSpec s = spec(runUntilTerm(0)).build();
        CompletableFuture<String> created = CompletableFuture.supplyAsync(() -> {
            try {
                return fake.create(s);
            } catch (ContainerException e) {
                throw new CompletionException(e);
            }
        });
        assertThat(held.await(10, TimeUnit.SECONDS)).as("create reached its hold").isTrue();
        assertThat(asked).containsExactly(Duration.ofMillis(200));
        assertThat(created).as("the caller is held").isNotDone();
        assertThat(fake.calls("create")).as("nothing done before the hold ends").isZero();
        assertThat(fake.inspect(s.name())).isEmpty();
        release.countDown();
        assertThat(created.get(10, TimeUnit.SECONDS)).isNotBlank();
        assertThat(fake.calls("create")).isEqualTo(1);
        assertThat(state(s.name()).status()).isEqualTo("created");
    }

    @Test
    void anEngineRestartEndsEveryRunningContainer() throws Exception {
        ContainerSpec a = spec(runUntilTerm(0)).build();
        ContainerSpec b = spec(runUntilTerm(0)).build();
        fake.create(a);
        fake.create(b);
        fake.start(a.name());

        fake.restartEngine(143);

        assertThat(state(a.name()).exitCode()).isEqualTo(143);
        assertThat(state(b.name()).status()).as("never started: untouched").isEqualTo("created");
    }

    @Test
    void pullReportsProgressAndMakesTheImagePresent() throws Exception {
        fake.registryHas("example/cuda:12", 4_000_000_000L);
        List<long[]> seen = new ArrayList<>();
        fake.pull("example/cuda:12", (status, cur, tot) -> seen.add(new long[]{cur, tot}));

        assertThat(fake.imagePresent("example/cuda:12")).isTrue();
        assertThat(seen).isNotEmpty();
        assertThat(seen.get(seen.size() - 1)).containsExactly(4_000_000_000L, 4_000_000_000L);
        for (int i = 1; i < seen.size(); i++) {
            assertThat(seen.get(i)[0]).as("never goes back").isGreaterThanOrEqualTo(seen.get(i - 1)[0]);
        }
        assertThatThrownBy(() -> fake.pull("example/absent:1", (s, c, t) -> { })).isInstanceOf(ContainerNotFoundException.class);
    }
}

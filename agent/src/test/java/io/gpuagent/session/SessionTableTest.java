package io.gpuagent.session;

import io.gpuagent.container.ContainerState;
import io.gpuagent.journal.FakeJournalFiles;
import io.gpuagent.journal.Journal;
import io.gpuagent.journal.JournalOptions;
import io.gpuagent.journal.JournalRecord;
import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The table's rules: nothing bypasses the transition table, and a refused change changes nothing. */
class SessionTableTest {
    private final ManualClock clock = new ManualClock();
    private final FakeJournalFiles files = new FakeJournalFiles();
    private Journal journal;
    private SessionTable table;
    private final GpuAllocator gpus = new GpuAllocator(List.of("GPU-a"), u -> true);

    @BeforeEach
    void open() throws Exception {
        journal = Journal.open(files, JournalOptions.DEFAULTS, clock, r -> { });
        table = new SessionTable(new SessionJournal(journal, t -> { throw new AssertionError(t); }), gpus,
                new PortAllocator(40000, 40001), clock, 1);
    }

    @AfterEach
    void close() {
        journal.close();
    }

    private static LaunchRequest request(String id) {
        return new LaunchRequest(id, "r-" + id, "0xRenter", 1, List.of(), "img:1", List.of(), Map.of(), List.of(), null,
                "1", 60);
    }

    private int records() throws Exception {
        List<JournalRecord> all = new ArrayList<>();
        Journal.open(files.crash(), JournalOptions.DEFAULTS, clock, all::add).close();
        return all.size();
    }

    @Test
    void anIllegalTransitionThrowsWithTheIdAndBothStatesAndChangesNothing() throws Exception {
        table.admit(request("s1"), r -> { });
        int before = records();
        assertThatThrownBy(() -> table.transition("s1", SessionState.RUNNING, null, null))
                .isInstanceOfSatisfying(IllegalTransitionException.class, e -> {
                    assertThat(e.sessionId()).isEqualTo("s1");
                    assertThat(e.from()).isEqualTo(SessionState.REQUESTED);
                    assertThat(e.to()).isEqualTo(SessionState.RUNNING);
                });
        assertThat(table.get("s1").orElseThrow().state()).isEqualTo(SessionState.REQUESTED);
        assertThat(records()).as("nothing journaled").isEqualTo(before);
    }

    @Test
    void theEndOfASessionCannotBypassTheTable() throws Exception {
        table.admit(request("s1"), r -> { });
        table.transition("s1", SessionState.STARTING, null, null);
        table.transition("s1", SessionState.RUNNING, null, null);
        int before = records();
        assertThatThrownBy(() -> table.settle("s1", SessionState.STARTING, EndReason.EXITED, "x", null, List.of()))
                .isInstanceOfSatisfying(IllegalTransitionException.class, e -> {
                    assertThat(e.from()).isEqualTo(SessionState.RUNNING);
                    assertThat(e.to()).isEqualTo(SessionState.STARTING);
                });
        assertThat(table.get("s1").orElseThrow().state()).isEqualTo(SessionState.RUNNING);
        assertThat(gpus.heldBy("s1")).as("its GPU still held").containsExactly("GPU-a");
        assertThat(records()).isEqualTo(before);
    }

    @Test
    void aSettledSessionIsNotSettledTwice() throws Exception {
        table.admit(request("s1"), r -> { });
        assertThat(table.settle("s1", SessionState.FAILED, EndReason.LAUNCH_FAILED, "x", null, List.of())).isPresent();
        int before = records();
        assertThat(table.settle("s1", SessionState.ENDED, EndReason.STOPPED, "y", null, List.of())).isEmpty();
        assertThat(table.get("s1").orElseThrow().endReason()).isEqualTo(EndReason.LAUNCH_FAILED);
        assertThat(records()).isEqualTo(before);
    }

    @Test
    void aRefusedAdmissionAllocatesAndJournalsNothing() throws Exception {
        int before = records();
        assertThatThrownBy(() -> table.admit(request("s1"), r -> {
            throw new SessionException("draining", "no");
        })).isInstanceOf(SessionException.class);
        assertThat(table.get("s1")).isEmpty();
        assertThat(gpus.free()).extracting(GpuUnit::uuid).containsExactly("GPU-a");
        assertThat(records()).isEqualTo(before);
    }

    @Test
    void aStopWhileLaunchingIsDeferredAndOneWhileRunningIsJournaledAsStopping() throws Exception {
        table.admit(request("s1"), r -> { });
        SessionTable.StopDecision early = table.requestStop("s1", EndReason.STOPPED, "renter_ended");
        assertThat(early.outcome()).isEqualTo(SessionTable.StopOutcome.DEFERRED);
        assertThat(early.session().stopRequested()).isEqualTo(new Session.StopRequest(EndReason.STOPPED, "renter_ended"));
        table.transition("s1", SessionState.STARTING, null, null);
        table.update("s1", d -> d.startedAt = clock.wallTime());
        table.transition("s1", SessionState.RUNNING, null, null);
        SessionTable.StopDecision now = table.requestStop("s1", EndReason.MAX_DURATION, "max_duration");
        assertThat(now.outcome()).isEqualTo(SessionTable.StopOutcome.STOPPING);
        assertThat(now.session().endReason()).isEqualTo(EndReason.MAX_DURATION);
        assertThat(table.requestStop("s1", EndReason.STOPPED, "again").outcome())
                .isEqualTo(SessionTable.StopOutcome.NOTHING_TO_DO);
    }

    @Test
    void billingNeverGoesBackWhenTheWallClockDoes() throws Exception {
        table.admit(request("s1"), r -> { });
        table.transition("s1", SessionState.STARTING, null, null);
        table.adopt("s1", new ContainerState("c1", "gpu-agent-s1", "img:1", Map.of(), "running", clock.wallTime(),
                null, null, false, List.of()));
        table.transition("s1", SessionState.RUNNING, null, null);
        clock.advance(Duration.ofSeconds(10));
        assertThat(table.bill(clock.wallTime())).extracting(Session::billedSeconds).containsExactly(10L);
        clock.jumpWall(Duration.ofSeconds(-30));
        assertThat(table.bill(clock.wallTime())).extracting(Session::billedSeconds).containsExactly(10L);
    }
}

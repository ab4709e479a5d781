package io.gpuagent.daemon.systemd;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

class WatchdogFeederTest {
    @Test
    void periodComesFromWatchdogUsecAndOnlyForOurPid() {
        assertThat(WatchdogFeeder.periodFrom(Map.of("WATCHDOG_USEC", "30000000"), 42)).contains(Duration.ofSeconds(30));
        assertThat(WatchdogFeeder.periodFrom(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "42"), 42)).isPresent();
        assertThat(WatchdogFeeder.periodFrom(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "7"), 42)).isEmpty();
        assertThat(WatchdogFeeder.periodFrom(Map.of("WATCHDOG_USEC", "soon"), 42)).isEmpty();
        assertThat(WatchdogFeeder.periodFrom(Map.of("WATCHDOG_USEC", "0"), 42)).isEmpty();
        assertThat(WatchdogFeeder.periodFrom(Map.of(), 42)).isEmpty();
    }

    @Test
    void feedsOnlyWhileProgressing() {
        // no NOTIFY_SOCKET: sends are no-ops, but the feeder's decisions are counted
        AtomicBoolean progressing = new AtomicBoolean(true);
        try (WatchdogFeeder f = new WatchdogFeeder(new SystemdNotifier(null), Duration.ofSeconds(30), progressing::get)) {
            f.beat();
            assertThat(f.withheldCount()).isZero();
            progressing.set(false);
            f.beat();
            f.beat();
            assertThat(f.withheldCount()).isEqualTo(2);
            progressing.set(true);
            f.beat();
            assertThat(f.withheldCount()).isEqualTo(2);
        }
    }

    @Test
    void notifierWithoutSocketIsANoOp() {
        SystemdNotifier n = new SystemdNotifier("");
        assertThat(n.enabled()).isFalse();
        assertThat(n.ready("x")).isFalse();
    }
}

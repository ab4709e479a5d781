package io.gpuagent.gpu;

import io.gpuagent.util.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MigConfiguratorTest {
    private final FakeGpuDriver driver = new FakeGpuDriver(3);
    private GpuMonitor gpus;

    private MigConfigurator open() {
        return open(Duration.ofSeconds(2));
    }

    private MigConfigurator open(Duration callTimeout) {
        gpus = GpuMonitor.open(driver, Clock.SYSTEM, Duration.ofSeconds(1), callTimeout, false);
        return new MigConfigurator(gpus);
    }

    @AfterEach
    void close() {
        if (gpus != null) {
            gpus.close();
        }
    }

    private static Map<String, List<String>> layout(String gpu, String... profiles) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put(gpu, List.of(profiles));
        return m;
    }

    private List<String> profilesOn(int index) {
        GpuDevice d = gpus.inventory().gpus().stream().filter(g -> g.index() == index).findFirst().orElseThrow();
        return gpus.migStates().get(d.uuid()).instances().stream().map(MigInstance::profile).sorted().toList();
    }

    @Test
    void aLayoutIsCreatedOnceAndKeptWithItsUuidsWhenAppliedAgain() throws Exception {
        driver.enableMig(0);
        MigConfigurator c = open();
        List<MigConfigurator.Outcome> first = c.apply(layout("0", "3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"), Set.of());
        assertThat(first).extracting(MigConfigurator.Outcome::action).containsExactly(MigConfigurator.Action.APPLIED);
        assertThat(profilesOn(0)).containsExactly("1g.10gb", "1g.10gb", "2g.20gb", "3g.40gb");
        List<String> uuids = gpus.migStates().values().iterator().next().instances().stream().map(MigInstance::uuid).toList();

        List<MigConfigurator.Outcome> again = c.apply(layout("0", "1g.10gb", "3g.40gb", "1g.10gb", "2g.20gb"), Set.of());
        assertThat(again).extracting(MigConfigurator.Outcome::action).containsExactly(MigConfigurator.Action.KEPT);
        assertThat(gpus.migStates().values().iterator().next().instances()).extracting(MigInstance::uuid)
                .containsExactlyElementsOf(uuids);
    }

    @Test
    void aGpuASessionHoldsIsLeftAloneWhateverTheLayoutSays() throws Exception {
        driver.enableMig(0);
        MigConfigurator c = open();
        c.apply(layout("0", "7g.80gb"), Set.of());
        String held = gpus.migStates().values().iterator().next().instances().get(0).uuid();
        List<MigConfigurator.Outcome> out = c.apply(layout("0", "1g.10gb", "1g.10gb"), Set.of(held));
        assertThat(out).extracting(MigConfigurator.Outcome::action).containsExactly(MigConfigurator.Action.HELD);
        assertThat(profilesOn(0)).containsExactly("7g.80gb");
        // "off" does not take the renter's slice away either
        assertThat(c.apply(layout("0"), Set.of(held))).extracting(MigConfigurator.Outcome::action)
                .containsExactly(MigConfigurator.Action.HELD);
        assertThat(gpus.migStates().values().iterator().next().current()).isTrue();
    }

    @Test
    void badLayoutsAreRefusedNamingWhatIsWrongAndChangeNothing() throws Exception {
        driver.enableMig(0);
        MigConfigurator c = open();
        c.apply(layout("0", "3g.40gb"), Set.of());
        assertThatThrownBy(() -> c.apply(layout("9", "1g.10gb"), Set.of())).isInstanceOf(MigLayoutException.class)
                .hasMessageContaining("no GPU 9").hasMessageContaining("indexes 0..2");
        assertThatThrownBy(() -> c.apply(layout("0", "5g.50gb"), Set.of())).isInstanceOf(MigLayoutException.class)
                .hasMessageContaining("no MIG profile 5g.50gb").hasMessageContaining("1g.10gb, 1g.10gb+me");
        assertThatThrownBy(() -> c.apply(layout("0", "7g.80gb", "1g.10gb"), Set.of())).isInstanceOf(MigLayoutException.class)
                .hasMessageContaining("8 compute slices").hasMessageContaining("the card has 7");
        assertThatThrownBy(() -> c.apply(layout("1", "1g.10gb"), Set.of())).isInstanceOf(MigLayoutException.class)
                .hasMessageContaining("GPU 1 (NVIDIA H100 80GB HBM3) has no MIG");
        // a later entry's error stops the whole call before the first entry is applied
        Map<String, List<String>> two = new LinkedHashMap<>(layout("0", "7g.80gb"));
        two.put("2", List.of("1g.10gb"));
        assertThatThrownBy(() -> c.apply(two, Set.of())).isInstanceOf(MigLayoutException.class);
        assertThat(profilesOn(0)).containsExactly("3g.40gb");
    }

    @Test
    void aModeChangeThatNeedsAResetIsReportedAndTheGpuKeepsItsMode() throws Exception {
        driver.enableMig(0);
        driver.setMigMode(0, false); // MIG off now, no reset needed for that
        driver.requireReset(0);
        MigConfigurator c = open();
        List<MigConfigurator.Outcome> out = c.apply(layout("0", "1g.10gb"), Set.of());
        assertThat(out).singleElement().satisfies(o -> {
            assertThat(o.action()).isEqualTo(MigConfigurator.Action.RESET_PENDING);
            assertThat(o.detail()).contains("nvidia-smi -i 0 -r");
        });
        MigState st = gpus.migStates().values().iterator().next();
        assertThat(st.current()).isFalse();
        assertThat(st.pending()).isTrue();
        assertThat(st.resetPending()).isTrue();
    }

    @Test
    void offDestroysTheFreeInstancesAndTurnsMigOff() throws Exception {
        driver.enableMig(0);
        MigConfigurator c = open();
        c.apply(layout("0", "3g.40gb", "3g.40gb"), Set.of());
        assertThat(c.apply(layout("0"), Set.of())).extracting(MigConfigurator.Outcome::action)
                .containsExactly(MigConfigurator.Action.MIG_OFF);
        MigState st = gpus.migStates().values().iterator().next();
        assertThat(st.current()).isFalse();
        assertThat(st.instances()).isEmpty();
    }

    @Test
    void oneGpuNamedByIndexAndByUuidIsRefused() throws Exception {
        driver.enableMig(0);
        MigConfigurator c = open();
        Map<String, List<String>> both = new LinkedHashMap<>(layout("0", "7g.80gb"));
        both.put("GPU-" + gpus.inventory().gpus().get(0).uuid().substring(4).toUpperCase(java.util.Locale.ROOT),
                List.of("1g.10gb"));
        assertThatThrownBy(() -> c.apply(both, Set.of())).isInstanceOf(MigLayoutException.class)
                .hasMessageContaining("are both GPU 0");
        assertThat(profilesOn(0)).as("nothing was made").isEmpty();
    }

    @Test
    void withMigOffTheSlicesAreCountedBeforeAndALayoutTheCardRefusesTurnsMigOffAgain() throws Exception {
        driver.enableMig(0);
        driver.setMigMode(0, false);
        MigConfigurator c = open();
        assertThatThrownBy(() -> c.apply(layout("0", "4g.40gb", "4g.40gb"), Set.of())).isInstanceOf(MigLayoutException.class)
                .hasMessageContaining("8 compute slices");
        assertThat(gpus.migStates().get(gpus.inventory().gpus().get(0).uuid()).current()).isFalse();
        // 5 slices pass the count; the card has no 5g profile, which only the switch reveals
        List<MigConfigurator.Outcome> out = c.apply(layout("0", "5g.50gb"), Set.of());
        assertThat(out).singleElement().satisfies(o -> {
            assertThat(o.action()).isEqualTo(MigConfigurator.Action.FAILED);
            assertThat(o.detail()).contains("no MIG profile 5g.50gb").contains("MIG is off again");
        });
        assertThat(gpus.migStates().get(gpus.inventory().gpus().get(0).uuid()).current()).as("as it was").isFalse();
    }

    @Test
    void aGpuThatDoesNotAnswerIsSkippedNotAFailedStart() throws Exception {
        driver.enableMig(0);
        driver.enableMig(1);
        driver.hang(0);
        try {
            MigConfigurator c = open(Duration.ofMillis(200));
            assertThat(gpus.inventory().gpus()).as("GPU 0 was left out at probe").hasSize(2);
            Map<String, List<String>> two = new LinkedHashMap<>(layout("0", "7g.80gb"));
            two.put("1", List.of("3g.40gb"));
            List<MigConfigurator.Outcome> out = c.apply(two, Set.of());
            assertThat(out).extracting(MigConfigurator.Outcome::index).containsExactly(1);
            assertThat(profilesOn(1)).containsExactly("3g.40gb");
            // an index beyond the machine is still the owner's mistake
            assertThatThrownBy(() -> c.apply(layout("7", "1g.10gb"), Set.of())).isInstanceOf(MigLayoutException.class)
                    .hasMessageContaining("no GPU 7");
        } finally {
            driver.unhang(0);
        }
    }
}

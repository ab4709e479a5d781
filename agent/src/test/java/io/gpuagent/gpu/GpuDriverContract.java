package io.gpuagent.gpu;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What every {@link GpuDriver} must do, whatever is behind it. Run against the fake (unit test)
 * and against NVML over the simulated library (integration test).
 */
public abstract class GpuDriverContract {
    protected GpuDriver driver;

    /** A driver with at least two GPUs. */
    protected abstract GpuDriver newDriver() throws Exception;

    /** Makes GPU {@code index} fall off the bus. */
    protected abstract void lose(int index) throws Exception;

    @BeforeEach
    void open() throws Exception {
        driver = newDriver();
    }

    @AfterEach
    void closeDriver() {
        driver.close();
    }

    @Test
    void describesEveryGpuWithAUniqueUuidAndSaneFacts() throws Exception {
        assertThat(driver.deviceCount()).isGreaterThanOrEqualTo(2);
        Set<String> uuids = new HashSet<>();
        for (int i = 0; i < driver.deviceCount(); i++) {
            GpuDevice d = driver.describe(i);
            assertThat(d.index()).isEqualTo(i);
            assertThat(d.uuid()).startsWith("GPU-");
            assertThat(uuids.add(d.uuid())).as("unique uuid").isTrue();
            assertThat(d.name()).startsWith("NVIDIA ");
            assertThat(d.memoryTotalBytes()).isGreaterThan(1L << 30);
            assertThat(d.pciBusId()).matches("[0-9A-F]{8}:[0-9A-F]{2}:[0-9A-F]{2}\\.0");
            assertThat(d.computeCapability()).matches("\\d+\\.\\d");
        }
        assertThat(driver.driverInfo().driverVersion()).isNotBlank();
    }

    @Test
    void samplesAreConsistentWithTheDevice() throws Exception {
        GpuDevice d = driver.describe(0);
        GpuSample s = driver.sample(0);
        assertThat(s.uuid()).isEqualTo(d.uuid());
        assertThat(s.gpuUtilPercent()).isBetween(0, 100);
        assertThat(s.memoryUsedBytes() + s.memoryFreeBytes()).isLessThanOrEqualTo(d.memoryTotalBytes());
        assertThat(s.temperatureC()).isBetween(0, 120);
        assertThat(s.powerMilliwatts()).isPositive();
        GpuSample later = driver.sample(0);
        assertThat(later.energyMillijoules()).as("energy never decreases").isGreaterThanOrEqualTo(s.energyMillijoules());
    }

    @Test
    void aLostGpuThrowsLostWhileTheOthersKeepAnswering() throws Exception {
        driver.describe(0);
        driver.describe(1);
        lose(1);
        assertThatThrownBy(() -> driver.sample(1)).isInstanceOf(GpuLostException.class)
                .extracting(e -> ((GpuException) e).code()).isEqualTo("NVML_ERROR_GPU_IS_LOST");
        assertThat(driver.sample(0).uuid()).isEqualTo(driver.describe(0).uuid());
    }

    @Test
    void badIndexIsRejected() {
        assertThatThrownBy(() -> driver.describe(driver.deviceCount())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no GPU with index");
    }

    @Test
    void callsAfterCloseFail() {
        driver.close();
        assertThatThrownBy(() -> driver.sample(0)).isInstanceOf(GpuException.class);
    }
}

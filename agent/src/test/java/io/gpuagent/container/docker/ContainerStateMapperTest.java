package io.gpuagent.container.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.core.DockerClientConfig;
import io.gpuagent.container.ContainerState;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The engine's inspect JSON (shapes copied from Docker 20.10 and 27) to {@link ContainerState}. */
class ContainerStateMapperTest {
    private static ContainerState map(String json) throws Exception {
        return ContainerStateMapper.from(DockerClientConfig.getDefaultObjectMapper().readValue(json, InspectContainerResponse.class));
    }

    private static String inspect(String state, String deviceRequests) {
        return "{\"Id\":\"abc\",\"Name\":\"/s-1\",\"State\":" + state + ",\"Config\":{\"Image\":\"example/cuda:12\","
                + "\"Labels\":{\"io.gpuagent.session\":\"s-1\"}},\"HostConfig\":{\"DeviceRequests\":" + deviceRequests + "}}";
    }

    @Test
    void aCreatedContainerHasNoTimesAndNoExitCode() throws Exception {
        ContainerState c = map(inspect("{\"Status\":\"created\",\"ExitCode\":0,\"OOMKilled\":false,"
                + "\"StartedAt\":\"0001-01-01T00:00:00Z\",\"FinishedAt\":\"0001-01-01T00:00:00Z\"}", "null"));
        assertThat(c.name()).isEqualTo("s-1");
        assertThat(c.image()).isEqualTo("example/cuda:12");
        assertThat(c.labels()).containsEntry("io.gpuagent.session", "s-1");
        assertThat(c.startedAt()).isNull();
        assertThat(c.finishedAt()).isNull();
        assertThat(c.exitCode()).isNull();
        assertThat(c.gpuUuids()).isEmpty();
    }

    @Test
    void aRestartedRunningContainerHidesItsPreviousFinishTime() throws Exception {
        ContainerState c = map(inspect("{\"Status\":\"running\",\"ExitCode\":0,\"StartedAt\":\"2026-11-27T06:47:24.984807566Z\","
                + "\"FinishedAt\":\"2026-11-27T06:40:00.5Z\"}", "[]"));
        assertThat(c.startedAt()).isEqualTo(Instant.parse("2026-11-27T06:47:24.984807566Z"));
        assertThat(c.finishedAt()).isNull();
        assertThat(c.exitCode()).isNull();
    }

    @Test
    void anOomKilledContainerKeepsTheEnginesTimesToTheNanosecond() throws Exception {
        ContainerState c = map(inspect("{\"Status\":\"exited\",\"ExitCode\":137,\"OOMKilled\":true,"
                + "\"StartedAt\":\"2026-11-27T06:47:24.984807566Z\",\"FinishedAt\":\"2026-11-27T06:47:25.079981059Z\"}", "null"));
        assertThat(c.oomKilled()).isTrue();
        assertThat(c.exitCode()).isEqualTo(137);
        assertThat(c.finishedAt()).isEqualTo(Instant.parse("2026-11-27T06:47:25.079981059Z"));
    }

    /** Regression: DockerContainerRuntimeIT saw FinishedAt 0.3 ms before StartedAt for `exit 3` on Docker 20.10. */
    @Test
    void aFinishStampedBeforeTheStartIsReportedAsTheStart() throws Exception {
        ContainerState c = map(inspect("{\"Status\":\"exited\",\"ExitCode\":3,"
                + "\"StartedAt\":\"2026-11-27T07:05:28.130447365Z\",\"FinishedAt\":\"2026-11-27T07:05:28.130153566Z\"}", "null"));
        assertThat(c.startedAt()).isEqualTo(Instant.parse("2026-11-27T07:05:28.130447365Z"));
        assertThat(c.finishedAt()).isEqualTo(c.startedAt());
    }

    @Test
    void gpusComeBackFromNvidiaAndCdiRequestsAndOthersAreIgnored() throws Exception {
        ContainerState c = map(inspect("{\"Status\":\"created\"}", "[{\"Driver\":\"nvidia\",\"Count\":0,"
                + "\"DeviceIDs\":[\"GPU-a\",\"GPU-b\"],\"Capabilities\":[[\"gpu\"]],\"Options\":{}},"
                + "{\"Driver\":\"cdi\",\"DeviceIDs\":[\"nvidia.com/gpu=GPU-c\",\"vendor.com/fpga=0\"]},"
                + "{\"Driver\":\"\",\"Count\":-1,\"Capabilities\":[[\"gpu\"]]}]"));
        assertThat(c.gpuUuids()).containsExactly("GPU-a", "GPU-b", "GPU-c");
    }

    @Test
    void engineTimesParseWithOffsetsAndTheZeroTimeIsNever() {
        assertThat(ContainerStateMapper.engineTime("0001-01-01T00:00:00Z")).isNull();
        assertThat(ContainerStateMapper.engineTime("")).isNull();
        assertThat(ContainerStateMapper.engineTime("2026-11-27T08:00:00.000000001+02:00"))
                .isEqualTo(Instant.parse("2026-11-27T06:00:00.000000001Z"));
        assertThatThrownBy(() -> ContainerStateMapper.engineTime("yesterday")).hasMessageContaining("yesterday");
    }
}

package io.gpuagent.container.docker;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LogLinesTest {
    @Test
    void theLastLinesAreKeptAndTheFinalNewlineMakesNoEmptyLine() {
        assertThat(DockerContainerRuntime.lastLines("a\nb\r\nc\n", 2)).containsExactly("b", "c");
        assertThat(DockerContainerRuntime.lastLines("a\n\nb", 5)).containsExactly("a", "", "b");
        assertThat(DockerContainerRuntime.lastLines("", 5)).isEmpty();
    }
}

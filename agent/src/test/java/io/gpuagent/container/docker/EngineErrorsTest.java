package io.gpuagent.container.docker;

import com.github.dockerjava.api.exception.BadRequestException;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.InternalServerErrorException;
import com.github.dockerjava.api.exception.NotFoundException;
import io.gpuagent.container.ContainerConflictException;
import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerNotFoundException;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** docker-java's exceptions (messages as it builds them: {@code Status N: <body>}) to the port's. */
class EngineErrorsTest {
    private final EngineErrors errors = new EngineErrors(Path.of("/run/docker.sock"));

    @Test
    void statusCodesMapToTypedExceptionsWithTheEnginesMessage() {
        ContainerException conflict = errors.map("create container s-1",
                new ConflictException("{\"message\":\"Conflict. The container name \\\"/s-1\\\" is already in use\"}\n"),
                Duration.ofSeconds(30));
        assertThat(conflict).isInstanceOf(ContainerConflictException.class)
                .hasMessage("create container s-1: Conflict. The container name \"/s-1\" is already in use");

        assertThat(errors.map("start container x", new NotFoundException("{\"message\":\"No such container: x\"}"),
                Duration.ofSeconds(30))).isInstanceOf(ContainerNotFoundException.class)
                .hasMessage("start container x: No such container: x");

        ContainerException other = errors.map("start container s-1",
                new InternalServerErrorException("{\"message\":\"could not select device driver \\\"nvidia\\\"\"}"),
                Duration.ofSeconds(30));
        assertThat(other).isExactlyInstanceOf(ContainerException.class)
                .hasMessage("start container s-1: engine answered 500: could not select device driver \"nvidia\"");

        assertThat(errors.map("create container a/b", new BadRequestException("plain text body"), Duration.ofSeconds(30)))
                .hasMessage("create container a/b: engine answered 400: plain text body");
    }

    @Test
    void aTimeoutAndAMissingSocketSayWhereAndHowLong() {
        ContainerException slow = errors.map("inspect container x",
                new UncheckedIOException(new SocketTimeoutException("Read timed out")), Duration.ofSeconds(30));
        assertThat(slow).hasMessage("inspect container x: no answer from the Docker engine at /run/docker.sock within 30 s");
        ContainerException gone = errors.map("inspect container x",
                new RuntimeException(new java.io.IOException("No such file or directory")), Duration.ofSeconds(30));
        assertThat(gone).hasMessage("inspect container x: Docker engine unreachable at /run/docker.sock: No such file or directory");
    }
}

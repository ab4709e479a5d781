package io.gpuagent.container.docker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How the agent reaches the Docker engine.
 *
 * @param socket         the engine's unix socket ({@code docker.socket} in the config)
 * @param connectTimeout how long to wait for the socket to accept
 * @param callTimeout    the longest any call may wait for the engine's answer (stop adds its grace)
 * @param pullTimeout    the longest an image pull may take in all
 */
public record DockerSettings(Path socket, Duration connectTimeout, Duration callTimeout, Duration pullTimeout) {

    /** Docker's usual socket (on Debian {@code /var/run} links to {@code /run}). */
    public static final Path DEFAULT_SOCKET = Path.of("/run/docker.sock");

    public DockerSettings {
        Objects.requireNonNull(socket, "socket");
        requirePositive(connectTimeout, "connectTimeout");
        requirePositive(callTimeout, "callTimeout");
        requirePositive(pullTimeout, "pullTimeout");
    }

    /** 5 s to connect, 30 s per call, 60 min per pull. */
    public static DockerSettings defaults(Path socket) {
        return new DockerSettings(socket, Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofMinutes(60));
    }

    private static void requirePositive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
    }
}

package io.gpuagent.container.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import io.gpuagent.container.ContainerConflictException;
import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerNotFoundException;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns docker-java's unchecked exceptions into the port's typed ones: 409 is a conflict, 404 is
 * not-found, everything else a {@link ContainerException}; each keeps the engine's own message
 * (docker-java wraps it as {@code Status 409: {"message":"..."}}), prefixed with what was tried.
 */
final class EngineErrors {
    private static final Pattern STATUS_BODY = Pattern.compile("(?s)^Status (\\d{3}): (.*)$");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path socket;

    EngineErrors(Path socket) {
        this.socket = socket;
    }

    ContainerException map(String what, RuntimeException e, Duration timeout) {
        if (e instanceof NotFoundException) {
            return withCause(new ContainerNotFoundException(what + ": " + engineMessage(e)), e);
        }
        if (e instanceof ConflictException) {
            return withCause(new ContainerConflictException(what + ": " + engineMessage(e)), e);
        }
        if (e instanceof DockerException de) {
            return new ContainerException(what + ": engine answered " + de.getHttpStatus() + ": " + engineMessage(e), e);
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SocketTimeoutException) {
                return new ContainerException(what + ": no answer from the Docker engine at " + socket
                        + " within " + timeout.toSeconds() + " s", e);
            }
            if (t instanceof ConnectException || (t instanceof IOException && t == rootCause(e))) {
                return new ContainerException(what + ": Docker engine unreachable at " + socket + ": " + t.getMessage(), e);
            }
        }
        return new ContainerException(what + ": " + e.getMessage(), e);
    }

    ContainerException interrupted(String what, InterruptedException e) {
        Thread.currentThread().interrupt();
        return new ContainerException(what + ": interrupted", e);
    }

    /** The engine's {@code message} field when the body is the usual JSON, else the raw text. */
    static String engineMessage(RuntimeException e) {
        String text = e.getMessage() == null ? "" : e.getMessage().strip();
        Matcher m = STATUS_BODY.matcher(text);
        if (!m.matches()) {
            return text;
        }
        String body = m.group(2).strip();
        try {
            JsonNode node = JSON.readTree(body);
            if (node != null && node.hasNonNull("message")) {
                return node.get("message").asText();
            }
        } catch (IOException notJson) {
            // the engine (or a proxy in front of it) answered plain text: report it as it is
        }
        return body;
    }

    private static Throwable rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    private static ContainerException withCause(ContainerException ce, Throwable cause) {
        ce.initCause(cause);
        return ce;
    }
}

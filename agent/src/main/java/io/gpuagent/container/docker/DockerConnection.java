package io.gpuagent.container.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Version;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.core.RemoteApiVersion;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import io.gpuagent.container.ContainerException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;

/**
 * The docker-java clients for one engine socket, and the API version they speak.
 *
 * <p>API version negotiation (as the Docker CLI does): on first use, {@code GET /version} without a
 * version prefix; then every request goes to {@code /v<N>/...} with N = the engine's
 * {@code ApiVersion}, capped at {@link #NEWEST_KNOWN} (the newest docker-java 3.7 models) and
 * never below the engine's {@code MinAPIVersion} (Docker 29 refuses anything older than 1.44). A
 * version the engine lacks is never sent. Negotiation is retried on the next call while the engine
 * is down, so constructing a runtime never fails for that.
 *
 * <p>Timeouts: every client has the connect timeout and a response timeout (the longest wait for
 * the engine's next bytes): the call timeout for ordinary calls, the pull timeout for pulls, and
 * grace + call timeout for one stop.
 */
final class DockerConnection implements AutoCloseable {
    static final RemoteApiVersion NEWEST_KNOWN = RemoteApiVersion.VERSION_1_44;

    private final DockerSettings settings;
    private final URI host;
    private final DockerHttpClient callHttp;
    private final DockerHttpClient pullHttp;
    private final EngineErrors errors;
    private volatile DockerClient calls;
    private volatile DockerClient pulls;
    private volatile String engineVersion;
    private volatile String apiVersion;

    DockerConnection(DockerSettings settings, EngineErrors errors) {
        this.settings = settings;
        this.errors = errors;
        this.host = URI.create("unix://" + settings.socket().toAbsolutePath());
        this.callHttp = http(settings.callTimeout());
        this.pullHttp = http(settings.pullTimeout());
    }

    /** The client for ordinary calls, negotiating the API version on first use. */
    DockerClient calls() throws ContainerException {
        DockerClient c = calls;
        return c != null ? c : negotiate();
    }

    DockerClient pulls() throws ContainerException {
        calls();
        return pulls;
    }

    /** A client of its own whose response timeout is {@code timeout}; the caller closes it. */
    DockerClient withResponseTimeout(Duration timeout) throws ContainerException {
        calls();
        return DockerClientImpl.getInstance(config(apiVersion), http(timeout));
    }

    String engineVersion() throws ContainerException {
        calls();
        return engineVersion;
    }

    String apiVersion() throws ContainerException {
        calls();
        return apiVersion;
    }

    private synchronized DockerClient negotiate() throws ContainerException {
        if (calls != null) {
            return calls;
        }
        Version v;
        try {
            // unversioned: the engine answers /version whatever API versions it supports
            v = DockerClientImpl.getInstance(config(null), callHttp).versionCmd().exec();
        } catch (RuntimeException e) {
            throw errors.map("negotiate the Docker API version", e, settings.callTimeout());
        }
        RemoteApiVersion engineMax = RemoteApiVersion.parseConfig(v.getApiVersion());
        RemoteApiVersion chosen = engineMax.isGreater(NEWEST_KNOWN) ? NEWEST_KNOWN : engineMax;
        if (v.getMinAPIVersion() != null) {
            RemoteApiVersion engineMin = RemoteApiVersion.parseConfig(v.getMinAPIVersion());
            if (engineMin.isGreater(chosen)) {
                chosen = engineMin;
            }
        }
        apiVersion = chosen.getVersion();
        engineVersion = v.getVersion();
        pulls = DockerClientImpl.getInstance(config(apiVersion), pullHttp);
        calls = DockerClientImpl.getInstance(config(apiVersion), callHttp);
        return calls;
    }

    private DockerClientConfig config(String version) {
        DefaultDockerClientConfig.Builder b = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(host.toString())
                .withDockerTlsVerify(false);
        // an explicit version always, so DOCKER_API_VERSION in the agent's environment cannot pin one
        b.withApiVersion(version == null ? RemoteApiVersion.unknown() : RemoteApiVersion.parseConfig(version));
        return b.build();
    }

    private DockerHttpClient http(Duration responseTimeout) {
        return new ZerodepDockerHttpClient.Builder()
                .dockerHost(host)
                .connectionTimeout(settings.connectTimeout())
                .responseTimeout(responseTimeout)
                .maxConnections(32)
                .build();
    }

    @Override
    public void close() {
        try {
            callHttp.close();
            pullHttp.close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing the Docker engine connection to " + host, e);
        }
    }
}

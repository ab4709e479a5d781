package io.gpuagent.metrics.http;

import io.gpuagent.metrics.MetricsEndpoint;
import io.gpuagent.gpu.FakeGpuDriver;
import io.gpuagent.gpu.GpuMonitor;
import io.gpuagent.util.Clock;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** Routing on an EmbeddedChannel, without sockets. */
class MetricsRequestHandlerTest {
    private final AtomicReference<String> notReady = new AtomicReference<>("starting");
    private final GpuMonitor gpus = GpuMonitor.open(new FakeGpuDriver(1), Clock.SYSTEM, Duration.ofSeconds(1),
            Duration.ofSeconds(5), false);
    private final MetricsEndpoint endpoint = new MetricsEndpoint(gpus, Clock.SYSTEM, "t", "h",
            () -> Optional.ofNullable(notReady.get()), false);

    @AfterEach
    void close() {
        gpus.close();
    }

    private FullHttpResponse request(HttpMethod method, String uri) {
        EmbeddedChannel ch = new EmbeddedChannel(new MetricsRequestHandler(endpoint));
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri));
        FullHttpResponse r = ch.readOutbound();
        ch.finishAndReleaseAll();
        return r;
    }

    private static String body(FullHttpResponse r) {
        try {
            return r.content().toString(StandardCharsets.UTF_8);
        } finally {
            r.release();
        }
    }

    @Test
    void readyzSays503WithTheReasonUntilReady() {
        FullHttpResponse starting = request(HttpMethod.GET, "/readyz");
        assertThat(starting.status().code()).isEqualTo(503);
        assertThat(body(starting)).isEqualTo("not ready: starting\n");
        notReady.set(null);
        FullHttpResponse ready = request(HttpMethod.GET, "/readyz");
        assertThat(ready.status().code()).isEqualTo(200);
        assertThat(body(ready)).isEqualTo("ready\n");
        FullHttpResponse alive = request(HttpMethod.GET, "/healthz");
        assertThat(alive.status().code()).isEqualTo(200);
        alive.release();
    }

    @Test
    void unknownPathsAndMethodsAreRefusedAndQueriesIgnored() {
        FullHttpResponse missing = request(HttpMethod.GET, "/metricz");
        assertThat(missing.status().code()).isEqualTo(404);
        assertThat(body(missing)).contains("/metricz").contains("/metrics, /healthz, /readyz, /status");
        FullHttpResponse put = request(HttpMethod.PUT, "/metrics");
        assertThat(put.status().code()).isEqualTo(405);
        assertThat(put.headers().get(HttpHeaderNames.ALLOW)).isEqualTo("GET, HEAD");
        put.release();
        FullHttpResponse metrics = request(HttpMethod.GET, "/metrics?name[]=x");
        assertThat(metrics.status().code()).isEqualTo(200);
        assertThat(metrics.headers().get(HttpHeaderNames.CONTENT_TYPE)).startsWith("text/plain; version=0.0.4");
        assertThat(body(metrics)).contains("gpu_agent_build_info");
        FullHttpResponse head = request(HttpMethod.HEAD, "/status");
        assertThat(head.status().code()).isEqualTo(200);
        assertThat(head.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isPositive();
        assertThat(body(head)).isEmpty();
    }
}

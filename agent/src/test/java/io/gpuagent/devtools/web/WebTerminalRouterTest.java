package io.gpuagent.devtools.web;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web terminal's routing without an agent: static files and what they refuse, the Origin check
 * that keeps other sites' pages out of the WebSocket, bad tunnel paths, and the request a tunnel
 * sends on (hop-by-hop headers dropped, {@code Connection: close}).
 */
class WebTerminalRouterTest {
    @TempDir
    Path dir;

    private static FullHttpRequest get(String uri, String... headers) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        r.headers().set("Host", "127.0.0.1:8088");
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().set(headers[i], headers[i + 1]);
        }
        return r;
    }

    private FullHttpResponse route(FullHttpRequest req) throws Exception {
        Files.writeString(dir.resolve("index.html"), "<p>page</p>");
        Files.createDirectories(dir.resolve("vendor"));
        Files.writeString(dir.resolve("vendor/xterm.js"), "// xterm");
        Files.writeString(dir.resolve(".secret.txt"), "hidden");
        WebTerminalServer.Target t = new WebTerminalServer.Target(null, "s-1", List.of(), Duration.ofSeconds(1), line -> { });
        EmbeddedChannel ch = new EmbeddedChannel(new WebTerminalRouter(t, new WebTerminalAssets(dir), null));
        ch.writeInbound(req);
        FullHttpResponse res = ch.readOutbound();
        ch.finishAndReleaseAll();
        return res;
    }

    private static String body(FullHttpResponse r) {
        try {
            return r.content().toString(StandardCharsets.UTF_8);
        } finally {
            r.release();
        }
    }

    @Test
    void servesThePageAndVendorFilesAndNothingElse() throws Exception {
        FullHttpResponse page = route(get("/"));
        assertThat(page.status().code()).isEqualTo(200);
        assertThat(page.headers().get("Content-Type")).isEqualTo("text/html; charset=utf-8");
        assertThat(body(page)).isEqualTo("<p>page</p>");
        FullHttpResponse js = route(get("/vendor/xterm.js"));
        assertThat(js.headers().get("Content-Type")).startsWith("text/javascript");
        assertThat(body(js)).isEqualTo("// xterm");
        for (String path : List.of("/.secret.txt", "/../index.html", "/vendor/../index.html", "/missing.js", "/index.exe")) {
            FullHttpResponse r = route(get(path));
            assertThat(r.status().code()).as(path).isEqualTo(404);
            r.release();
        }
        FullHttpRequest post = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/", Unpooled.EMPTY_BUFFER);
        FullHttpResponse refused = route(post);
        assertThat(refused.status().code()).isEqualTo(405);
        refused.release();
    }

    @Test
    void aWebSocketFromAnotherSitesPageIsRefused() throws Exception {
        FullHttpResponse r = route(get("/ws/terminal?cols=80&rows=24", "Upgrade", "websocket", "Origin", "http://evil.example"));
        assertThat(r.status().code()).isEqualTo(403);
        r.release();
        assertThat(WebTerminalRouter.sameOrigin(get("/ws/terminal", "Origin", "http://127.0.0.1:8088"))).isTrue();
        assertThat(WebTerminalRouter.sameOrigin(get("/ws/terminal"))).as("no Origin: not a browser").isTrue();
        assertThat(WebTerminalRouter.sameOrigin(get("/ws/terminal", "Origin", "http://127.0.0.1:9999"))).isFalse();
        assertThat(WebTerminalRouter.sameOrigin(get("/ws/terminal", "Origin", "null"))).isFalse();
        FullHttpRequest noPort = get("/ws/terminal", "Origin", "https://term.example");
        noPort.headers().set("Host", "term.example");
        assertThat(WebTerminalRouter.sameOrigin(noPort)).as("default ports on both sides").isTrue();
    }

    @Test
    void aTunnelPathNeedsAPortInRange() throws Exception {
        FullHttpResponse r = route(get("/tunnel/99999/"));
        assertThat(r.status().code()).isEqualTo(404);
        r.release();
        FullHttpResponse bare = route(get("/tunnel/abc"));
        assertThat(body(bare)).contains("/tunnel/PORT/");
    }

    @Test
    void aTunnelledRequestGoesOnWithoutHopByHopHeadersAndAsksTheServerToClose() {
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/tunnel/8080/api?x=1",
                Unpooled.copiedBuffer("body", StandardCharsets.UTF_8));
        req.headers().set("Host", "127.0.0.1:8088").set("Connection", "keep-alive, X-Secret-Hop").set("X-Secret-Hop", "1")
                .set("Keep-Alive", "timeout=5").set("Transfer-Encoding", "chunked").set("Accept", "text/plain");
        String sent = new String(TunnelProxy.encode(req, 8080, "/api?x=1"), StandardCharsets.ISO_8859_1);
        req.release();
        assertThat(sent).startsWith("POST /api?x=1 HTTP/1.1\r\n").contains("Host: 127.0.0.1:8088\r\n")
                .contains("Accept: text/plain\r\n").contains("X-Forwarded-Prefix: /tunnel/8080\r\n")
                .contains("Content-Length: 4\r\n").endsWith("Connection: close\r\n\r\nbody")
                .doesNotContain("keep-alive").doesNotContain("X-Secret-Hop").doesNotContain("Keep-Alive")
                .doesNotContain("chunked");
    }
}

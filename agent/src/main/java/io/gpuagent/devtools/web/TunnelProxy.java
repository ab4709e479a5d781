package io.gpuagent.devtools.web;

import io.gpuagent.market.client.ClientStream;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.protocol.Message;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;

/**
 * {@code /tunnel/PORT/PATH}: one HTTP request proxied to the container's {@code PORT} through a
 * {@code tunnel} stream of its own, as a reverse proxy would over TCP. The request goes on as
 * HTTP/1.1 with {@code Connection: close} and its body whole (the aggregator bounded it); the
 * answer comes back byte for byte, and the page's connection closes after it: the upstream's close
 * delimits the answer, so the gateway never parses it. {@code X-Forwarded-Prefix} tells the
 * container's server where it is mounted.
 *
 * <p>From the moment the stream opens the page's connection is a raw byte pipe: the HTTP codec
 * leaves its pipeline, and the page's socket is not read again.
 */
final class TunnelProxy {
    private static final Logger log = LoggerFactory.getLogger(TunnelProxy.class);
    /** Hop-by-hop headers (RFC 9110 7.6.1) and those the gateway sets itself. */
    private static final Set<String> DROPPED = Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
            "trailer", "upgrade", "proxy-authorization", "proxy-authenticate", "content-length", "x-forwarded-prefix");

    private final WebTerminalServer.Target target;
    private final ExecutorService uploads;

    TunnelProxy(WebTerminalServer.Target target, ExecutorService uploads) {
        this.target = target;
        this.uploads = uploads;
    }

    /** Takes over {@code req} (releases it) and the page's connection. */
    void proxy(ChannelHandlerContext ctx, FullHttpRequest req, int port, String pathAndQuery) {
        byte[] request = encode(req, port, pathAndQuery);
        String line = req.method().name() + " " + pathAndQuery;
        Channel page = ctx.channel();
        page.config().setAutoRead(false);
        CompletableFuture<ClientStream> ready = new CompletableFuture<>();
        ClientStream.Listener toPage = new ClientStream.Listener() {
            @Override
            public void data(int kind, byte[] bytes) throws IOException {
                if (!page.isActive()) {
                    throw new IOException("the page's connection closed");
                }
                int n = bytes.length;
                page.writeAndFlush(Unpooled.wrappedBuffer(bytes)).addListener(f -> {
                    if (f.isSuccess()) {
                        ready.thenAccept(s -> s.grant(n));
                    }
                });
            }

            @Override
            public void eof() {
                page.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        };
        SchedulerConnection conn = target.conn();
        Message.StreamOpen open = new Message.StreamOpen(target.session(), conn.nextStreamNumber(), "tunnel", null, null, null,
                null, null, port, null, null, null, null);
        conn.openStream(open, toPage, false).whenComplete((s, e) -> {
            if (e != null) {
                Throwable why = e.getCause() != null ? e.getCause() : e;
                log.warn("web terminal: tunnel to port {} of session {} refused: {}", port, target.session(), why.getMessage());
                page.eventLoop().execute(() -> WebTerminalRouter.respond(ctx, req, HttpResponseStatus.BAD_GATEWAY, "text/plain",
                        "the agent refused the tunnel to port " + port + ": " + why.getMessage() + "\n"));
                return;
            }
            ready.complete(s);
            target.events().accept("tunnel stream " + s.id() + " to port " + port + " of session " + target.session() + ": "
                    + line + " for " + page.remoteAddress());
            // queued on the page's event loop before any of the agent's bytes can be: the codec is gone when they come
            page.eventLoop().execute(() -> {
                req.release();
                ctx.pipeline().remove("http");
                ctx.pipeline().remove("aggregate");
                page.closeFuture().addListener(f -> {
                    if (!s.closed().isDone() && !s.eofReceived()) {
                        conn.send(new Message.StreamClose(s.id()));
                    }
                });
            });
            s.closed().whenComplete((c, x) -> page.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE));
            try {
                uploads.execute(() -> upload(s, request, page));
            } catch (RejectedExecutionException full) {
                log.warn("web terminal: too many tunnel uploads waiting; closing {}", page.remoteAddress());
                page.close();
            }
        });
    }

    private void upload(ClientStream s, byte[] request, Channel page) {
        try {
            s.write(request, target.timeout());
            s.eof(); // the request is whole: the server answers and closes, which ends the stream
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("web terminal: tunnel stream {}: the request did not go through: {}", s.id(), e.getMessage());
            page.close();
        }
    }

    /** The request as the container's server gets it: HTTP/1.1, the page's headers less hop-by-hop ones. */
    static byte[] encode(FullHttpRequest req, int port, String pathAndQuery) {
        StringBuilder head = new StringBuilder();
        head.append(req.method().name()).append(' ').append(pathAndQuery).append(" HTTP/1.1\r\n");
        // headers named in Connection are hop-by-hop too
        Set<String> named = new java.util.HashSet<>();
        for (String token : req.headers().get(HttpHeaderNames.CONNECTION, "").split(",")) {
            named.add(token.strip().toLowerCase(java.util.Locale.ROOT));
        }
        for (Map.Entry<String, String> h : req.headers()) {
            String name = h.getKey().toLowerCase(java.util.Locale.ROOT);
            if (DROPPED.contains(name) || named.contains(name) || h.getValue().contains("\n")) {
                continue;
            }
            head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        if (!req.headers().contains(HttpHeaderNames.HOST)) {
            head.append("Host: localhost:").append(port).append("\r\n");
        }
        head.append("X-Forwarded-Prefix: /tunnel/").append(port).append("\r\n");
        int body = req.content().readableBytes();
        if (body > 0) {
            head.append("Content-Length: ").append(body).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream(head.length() + body);
        out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(ByteBufUtil.getBytes(req.content()));
        return out.toByteArray();
    }
}

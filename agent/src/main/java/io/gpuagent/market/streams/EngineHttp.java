package io.gpuagent.market.streams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The few Docker Engine API calls streams need, over the engine's unix socket, without blocking:
 * each call is its own connection on the caller's event loop (the engine keeps none open for us,
 * and a hijacked or streaming connection is the stream's own). Unversioned paths: the engine
 * serves them at its own API version, and the calls used here (exec create/start/resize/inspect,
 * container inspect, logs) have not changed since API 1.24.
 */
final class EngineHttp {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path socket;
    private final Duration timeout;

    EngineHttp(Path socket, Duration timeout) {
        this.socket = socket;
        this.timeout = timeout;
    }

    Path socket() {
        return socket;
    }

    /** An answer: its status and JSON body (null when empty or not JSON). */
    record Answer(int status, JsonNode body, String text) {
        /** The engine's own words for a failure ({"message": ...}), or the text. */
        String message() {
            return body != null && body.hasNonNull("message") ? body.get("message").asText() : text.strip();
        }
    }

    private ChannelFuture connect(EventLoop loop, ChannelHandler handler) {
        return new Bootstrap().group(loop).channel(NioDomainSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeout.toMillis())
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handler(handler)
                .connect(UnixDomainSocketAddress.of(socket));
    }

    private StreamException unreachable(Throwable cause) {
        return new StreamException("engine_unavailable", "the Docker engine at " + socket + " does not answer ("
                + cause.getMessage() + "); streams open again once it is back", cause);
    }

    private static FullHttpRequest request(HttpMethod method, String path, Object body) {
        byte[] bytes;
        try {
            bytes = body == null ? new byte[0] : JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot write a request body for " + path, e);
        }
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path, Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.HOST, "docker");
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        if (body != null) {
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        }
        return r;
    }

    /** One request and its whole answer (small JSON answers only). */
    CompletableFuture<Answer> call(EventLoop loop, HttpMethod method, String path, Object body) {
        CompletableFuture<Answer> answer = new CompletableFuture<>();
        ChannelFuture f = connect(loop, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(4 << 20),
                        new SimpleChannelInboundHandler<FullHttpResponse>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                String text = r.content().toString(StandardCharsets.UTF_8);
                                JsonNode json = null;
                                try {
                                    json = text.isBlank() ? null : JSON.readTree(text);
                                } catch (IOException notJson) {
                                    // the engine answers plain text for some errors: kept as text
                                }
                                answer.complete(new Answer(r.status().code(), json, text));
                                ctx.close();
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                answer.completeExceptionally(new IOException("the engine closed the connection"));
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                answer.completeExceptionally(cause);
                                ctx.close();
                            }
                        });
            }
        });
        f.addListener(c -> {
            if (!c.isSuccess()) {
                answer.completeExceptionally(unreachable(c.cause()));
                return;
            }
            f.channel().writeAndFlush(request(method, path, body));
            loop.schedule(() -> {
                if (answer.completeExceptionally(new StreamException("engine_error", "the Docker engine did not answer "
                        + method + " " + path + " within " + timeout.toSeconds() + " s"))) {
                    f.channel().close();
                }
            }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        });
        return answer;
    }

    /**
     * A hijacking request ({@code Upgrade: tcp}): once the engine answers 101 (or 200, older
     * engines), the connection is the raw stream; its pipeline then holds {@code streamHandlers}
     * and a {@link ParkingHandler} that keeps what arrives until the relay attaches.
     */
    CompletableFuture<Channel> hijack(EventLoop loop, String path, Object body, ChannelHandler... streamHandlers) {
        CompletableFuture<Channel> out = new CompletableFuture<>();
        HttpHeadDecoder head = new HttpHeadDecoder();
        ChannelFuture f = connect(loop, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("head", head);
                ch.pipeline().addLast(streamHandlers);
                ch.pipeline().addLast("parking", new ParkingHandler());
            }
        });
        f.addListener(c -> {
            if (!c.isSuccess()) {
                out.completeExceptionally(unreachable(c.cause()));
                return;
            }
            FullHttpRequest r = request(HttpMethod.POST, path, body);
            r.headers().set(HttpHeaderNames.CONNECTION, "Upgrade");
            r.headers().set(HttpHeaderNames.UPGRADE, "tcp");
            // the request is written as raw bytes: the pipeline has no HTTP encoder, only the head decoder
            f.channel().writeAndFlush(encode(r));
            f.channel().read();
        });
        head.head.whenComplete((h, err) -> {
            if (err != null) {
                out.completeExceptionally(err instanceof StreamException ? err : new StreamException("engine_error",
                        "the Docker engine failed " + path + ": " + err.getMessage(), err));
                f.channel().close();
            } else if (h.status() != 101 && h.status() != 200) {
                out.completeExceptionally(new StreamException(h.status() == 404 || h.status() == 409
                        ? "session_not_running" : "engine_error", "the Docker engine answered " + path + " with "
                        + h.text().lines().findFirst().orElse("")));
                f.channel().close();
            } else {
                out.complete(f.channel());
            }
        });
        return out;
    }

    private static ByteBuf encode(FullHttpRequest r) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.method().name()).append(' ').append(r.uri()).append(" HTTP/1.1\r\n");
        r.headers().forEach(h -> sb.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n"));
        sb.append("\r\n");
        ByteBuf head = Unpooled.copiedBuffer(sb, StandardCharsets.ISO_8859_1);
        return Unpooled.wrappedBuffer(head, r.content());
    }

    /**
     * A GET whose answer's body is a stream (logs with follow): once the head says 200, the body's
     * bytes go to {@code bodyHandlers} as they come; its end closes the channel.
     */
    CompletableFuture<Channel> streamingGet(EventLoop loop, String path, ChannelHandler... bodyHandlers) {
        CompletableFuture<Channel> out = new CompletableFuture<>();
        ChannelFuture f = connect(loop, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("http", new HttpClientCodec());
                ch.pipeline().addLast("body", new BodyBytes(out, path));
                ch.pipeline().addLast(bodyHandlers);
                ch.pipeline().addLast("parking", new ParkingHandler());
            }
        });
        f.addListener(c -> {
            if (!c.isSuccess()) {
                out.completeExceptionally(unreachable(c.cause()));
                return;
            }
            f.channel().writeAndFlush(request(HttpMethod.GET, path, null));
            f.channel().read();
        });
        return out;
    }

    /** An HTTP answer's body as plain bytes; the status decides the future. */
    private static final class BodyBytes extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<Channel> out;
        private final String path;
        private boolean failed;
        private final StringBuilder error = new StringBuilder();
        private int status;

        BodyBytes(CompletableFuture<Channel> out, String path) {
            this.out = out;
            this.path = path;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpResponse r) {
                status = r.status().code();
                failed = status != 200;
                if (!failed) {
                    out.complete(ctx.channel());
                }
            }
            if (msg instanceof HttpContent c) {
                if (failed) {
                    error.append(c.content().toString(StandardCharsets.UTF_8));
                } else if (c.content().isReadable()) {
                    ctx.fireChannelRead(c.content().retain());
                }
                if (c instanceof LastHttpContent) {
                    if (failed) {
                        out.completeExceptionally(new StreamException(status == 404 ? "session_not_running" : "engine_error",
                                "the Docker engine answered " + path + " with " + status + ": " + error.toString().strip()));
                    }
                    ctx.close();
                }
            }
            ReferenceCountUtil.release(msg);
            if (failed) {
                ctx.read(); // the error's body, read whole whatever the relay would want
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            out.completeExceptionally(new IOException("the engine closed the connection before answering " + path));
            ctx.fireChannelInactive();
        }
    }
}

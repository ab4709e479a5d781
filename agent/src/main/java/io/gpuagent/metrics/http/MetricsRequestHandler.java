package io.gpuagent.metrics.http;

import io.gpuagent.metrics.MetricsEndpoint;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Routes one whole request: {@code GET|HEAD /metrics, /healthz, /readyz, /status}; any other path
 * is 404, any other method 405 with {@code Allow}; a request the codec could not decode (line or
 * headers too long, garbage) gets 414 / 431 / 400 and the connection is closed.
 */
@ChannelHandler.Sharable
final class MetricsRequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(MetricsRequestHandler.class);
    private static final String PATHS = "/metrics, /healthz, /readyz, /status";

    private static final int MIN_SCRAPE_BUFFER = 16 * 1024;

    private final MetricsEndpoint endpoint;
    /** The size of the latest scrape (shared by the event loops; a stale read only costs a regrowth). */
    private volatile int lastScrapeBytes = MIN_SCRAPE_BUFFER;

    MetricsRequestHandler(MetricsEndpoint endpoint) {
        this.endpoint = endpoint;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        DecoderResult decoded = req.decoderResult();
        if (!decoded.isSuccess()) {
            Throwable cause = decoded.cause();
            HttpResponseStatus status = cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                    : cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : HttpResponseStatus.BAD_REQUEST;
            respond(ctx, false, text(status, status.reasonPhrase() + "\n"), false);
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        HttpMethod method = req.method();
        boolean head = method.equals(HttpMethod.HEAD);
        if (!method.equals(HttpMethod.GET) && !head) {
            FullHttpResponse r = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET and HEAD are served\n");
            r.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            respond(ctx, keepAlive, r, false);
            return;
        }
        String path = new QueryStringDecoder(req.uri()).path();
        FullHttpResponse response = switch (path) {
            case "/metrics" -> metrics(ctx, req.headers().get(HttpHeaderNames.ACCEPT));
            case "/healthz" -> text(HttpResponseStatus.OK, "ok\n");
            case "/readyz" -> readyz();
            case "/status" -> json(endpoint.statusJson());
            default -> text(HttpResponseStatus.NOT_FOUND, "not found: " + path + " (served: " + PATHS + ")\n");
        };
        respond(ctx, keepAlive, response, head);
    }

    private FullHttpResponse metrics(ChannelHandlerContext ctx, String accept) {
        // sized from the last scrape: the body is written once, without growing (and copying) the buffer
        ByteBuf buf = ctx.alloc().buffer(lastScrapeBytes + lastScrapeBytes / 8);
        String contentType;
        try (ByteBufOutputStream out = new ByteBufOutputStream(buf)) {
            contentType = endpoint.scrape(accept, out);
        } catch (IOException | RuntimeException e) {
            buf.release();
            log.error("scrape failed", e);
            return text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "scrape failed: " + e + "\n");
        }
        lastScrapeBytes = Math.max(MIN_SCRAPE_BUFFER, buf.readableBytes());
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, buf);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        return r;
    }

    private FullHttpResponse readyz() {
        Optional<String> reason = endpoint.notReadyReason();
        return reason.map(r -> text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready: " + r + "\n"))
                .orElseGet(() -> text(HttpResponseStatus.OK, "ready\n"));
    }

    private static FullHttpResponse json(byte[] body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        return r;
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        return r;
    }

    private static void respond(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse r, boolean head) {
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        if (head) {
            r.content().clear();
        }
        if (keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        } else {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ChannelFuture f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // a reset by the peer or similar: nothing to answer, close quietly
        log.debug("metrics connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}

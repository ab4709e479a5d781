package io.gpuagent.devtools.web;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Routes each HTTP request of the web terminal: {@code /ws/...} on to the WebSocket handshake once
 * its {@code Origin} is the gateway itself, {@code /tunnel/PORT/...} to {@link TunnelProxy},
 * anything else to the static files. One per connection.
 */
final class WebTerminalRouter extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(WebTerminalRouter.class);
    private static final Pattern TUNNEL = Pattern.compile("/tunnel/(\\d{1,5})(/.*)?");

    private final WebTerminalServer.Target target;
    private final WebTerminalAssets assets;
    private final ExecutorService uploads;

    WebTerminalRouter(WebTerminalServer.Target target, WebTerminalAssets assets, ExecutorService uploads) {
        this.target = target;
        this.assets = assets;
        this.uploads = uploads;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ctx.fireChannelRead(msg);
            return;
        }
        String path = new QueryStringDecoder(req.uri()).path();
        if (path.equals(WebTerminalServer.WS_PATH) || path.startsWith(WebTerminalServer.WS_PATH + "/")) {
            if (!sameOrigin(req)) {
                // a page of another site must not drive a shell in the renter's session (cross-site WebSocket hijacking)
                respond(ctx, req, HttpResponseStatus.FORBIDDEN, "text/plain", "cross-origin WebSocket refused\n");
                return;
            }
            ctx.fireChannelRead(req);
            return;
        }
        Matcher m = TUNNEL.matcher(path);
        if (m.matches()) {
            int port = Integer.parseInt(m.group(1));
            if (port < 1 || port > 65535) {
                respond(ctx, req, HttpResponseStatus.NOT_FOUND, "text/plain", "no such port: " + port + "\n");
                return;
            }
            String rest = req.uri().substring(("/tunnel/" + m.group(1)).length());
            new TunnelProxy(target, uploads).proxy(ctx, req, port, rest.isEmpty() || rest.startsWith("?") ? "/" + rest : rest);
            return;
        }
        if (path.equals("/tunnel") || path.startsWith("/tunnel/")) {
            respond(ctx, req, HttpResponseStatus.NOT_FOUND, "text/plain", "tunnel paths are /tunnel/PORT/...\n");
            return;
        }
        if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
            respond(ctx, req, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain", "GET or HEAD\n");
            return;
        }
        WebTerminalAssets.Asset a = assets.find(path);
        if (a == null) {
            respond(ctx, req, HttpResponseStatus.NOT_FOUND, "text/plain", "not found: " + path + "\n");
            return;
        }
        respond(ctx, req, HttpResponseStatus.OK, a.contentType(), Unpooled.wrappedBuffer(a.bytes()));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // a malformed request, a file that cannot be read: this page's connection only
        log.warn("web terminal: {} on the connection of {}; closing it", cause.toString(), ctx.channel().remoteAddress());
        ctx.close();
    }

    /** No {@code Origin} (not a browser), or one whose host and port are the {@code Host} the page was loaded from. */
    static boolean sameOrigin(FullHttpRequest req) {
        String origin = req.headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null) {
            return true;
        }
        String host = req.headers().get(HttpHeaderNames.HOST);
        URI o;
        try {
            o = URI.create(origin);
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (host == null || o.getScheme() == null || o.getHost() == null) {
            return false; // "null" (a sandboxed frame, a file) is not our page
        }
        int defaultPort = o.getScheme().equalsIgnoreCase("https") ? 443 : 80;
        String origins = o.getHost() + ":" + (o.getPort() < 0 ? defaultPort : o.getPort());
        boolean hasPort = host.lastIndexOf(':') > host.lastIndexOf(']');
        return origins.equalsIgnoreCase(hasPort ? host : host + ":" + defaultPort);
    }

    static void respond(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String type, String body) {
        respond(ctx, req, status, type, Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    }

    static void respond(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String type, ByteBuf body) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        boolean head = req.method().equals(HttpMethod.HEAD);
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                head ? Unpooled.EMPTY_BUFFER : body);
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
                .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .set("X-Content-Type-Options", "nosniff");
        if (head) {
            body.release();
        }
        if (keepAlive) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        req.release();
        var f = ctx.writeAndFlush(res);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** After Netty's handshake: the socket's path picks the stream it is bridged to. */
    static final class Upgraded extends ChannelInboundHandlerAdapter {
        private final WebTerminalServer.Target target;

        Upgraded(WebTerminalServer.Target target) {
            this.target = target;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (!(evt instanceof WebSocketServerProtocolHandler.HandshakeComplete done)) {
                super.userEventTriggered(ctx, evt);
                return;
            }
            ctx.pipeline().remove("route");
            QueryStringDecoder uri = new QueryStringDecoder(done.requestUri());
            StreamSocketBridge bridge = switch (uri.path()) {
                case WebTerminalServer.WS_PATH + "/terminal" -> StreamSocketBridge.terminal(target, uri);
                case WebTerminalServer.WS_PATH + "/logs" -> StreamSocketBridge.logs(target, uri);
                default -> null;
            };
            if (bridge == null) {
                ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.POLICY_VIOLATION, "unknown socket " + uri.path()))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            ctx.pipeline().replace(this, "bridge", bridge);
        }
    }
}

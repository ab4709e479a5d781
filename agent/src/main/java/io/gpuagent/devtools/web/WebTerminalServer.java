package io.gpuagent.devtools.web;

import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.util.NamedThreadFactory;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The reference web terminal's HTTP side (docs/web-terminal.md): one Netty event loop serving the
 * page and xterm.js ({@link WebTerminalAssets}), WebSockets under {@value #WS_PATH} bridged to
 * {@code exec} and {@code logs} streams ({@link StreamSocketBridge}), and {@code /tunnel/PORT/...}
 * proxied through {@code tunnel} streams ({@link TunnelProxy}), all into the one session it was
 * started for, over one scheduler connection.
 *
 * <p>Pipeline, one handler per concern: {@link HttpServerCodec} &rarr; {@link HttpObjectAggregator}
 * (request bodies at most {@value #MAX_BODY} bytes: a tunnelled upload is buffered whole) &rarr;
 * {@link WebTerminalRouter} (the Origin check before any upgrade, then the route) &rarr; Netty's
 * WebSocket handshake and control frames &rarr; {@link WebSocketFrameAggregator}; after the
 * handshake the router hands the channel to a {@link StreamSocketBridge}.
 *
 * <p>Stream writes wait for the agent's window, so they never run on the event loop: each bridge
 * has a thread of its own (a terminal's keystrokes stay in order), tunnel uploads share a small pool.
 */
public final class WebTerminalServer implements AutoCloseable {
    static final String WS_PATH = "/ws";
    static final int MAX_BODY = 1 << 20;
    static final int MAX_WS_MESSAGE = 1 << 20;

    /**
     * What the handlers need: where the streams go and what they may open.
     *
     * @param events one line per stream opened and closed, for the operator (the command prints them to stderr)
     */
    public record Target(SchedulerConnection conn, String session, List<String> command, Duration timeout,
                         Consumer<String> events) {
    }

    private final EventLoopGroup group;
    private final ExecutorService uploads;
    private final Channel server;

    private WebTerminalServer(EventLoopGroup group, ExecutorService uploads, Channel server) {
        this.group = group;
        this.uploads = uploads;
        this.server = server;
    }

    /** Binds {@code address} and serves until {@link #close}. */
    public static WebTerminalServer start(InetSocketAddress address, Target target, WebTerminalAssets assets) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new NamedThreadFactory("web-terminal-http", true),
                NioIoHandler.newFactory());
        // bounded: a flood of uploads waits in the queue rather than spawning threads
        ThreadPoolExecutor uploads = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(256),
                new NamedThreadFactory("web-terminal-upload", true));
        uploads.allowCoreThreadTimeOut(true);
        WebSocketServerProtocolConfig ws = WebSocketServerProtocolConfig.newBuilder().websocketPath(WS_PATH)
                .checkStartsWith(true).maxFramePayloadLength(MAX_WS_MESSAGE).handleCloseFrames(true).build();
        try {
            Channel ch = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            c.pipeline().addLast("http", new HttpServerCodec(4096, 16384, 8192))
                                    .addLast("aggregate", new HttpObjectAggregator(MAX_BODY))
                                    .addLast("route", new WebTerminalRouter(target, assets, uploads))
                                    .addLast("ws", new WebSocketServerProtocolHandler(ws))
                                    .addLast("ws-aggregate", new WebSocketFrameAggregator(MAX_WS_MESSAGE))
                                    .addLast("ws-open", new WebTerminalRouter.Upgraded(target));
                        }
                    }).bind(address).syncUninterruptibly().channel();
            return new WebTerminalServer(group, uploads, ch);
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            uploads.shutdownNow();
            throw e;
        }
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) server.localAddress();
    }

    /** Stops accepting, closes every page's connection, stops the threads. */
    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        uploads.shutdownNow();
    }
}

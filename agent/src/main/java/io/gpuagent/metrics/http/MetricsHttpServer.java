package io.gpuagent.metrics.http;

import io.gpuagent.metrics.MetricsEndpoint;
import io.gpuagent.util.NamedThreadFactory;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The operator endpoint over Netty HTTP/1.1: {@code /metrics}, {@code /healthz}, {@code /readyz},
 * {@code /status}. One event-loop thread ({@code gpu-agent-metrics-http}); a scrape only reads
 * immutable snapshots, so scrapers never touch, let alone slow, the sampler. One thread is enough:
 * scrapes within a tick share the GPU families, so one costs ~0.14 ms of CPU on the unit's flags (a
 * second thread measured no better with 16 scrapers on 2 cores; docs/benchmarks.md).
 *
 * <p>Pipeline, one handler per concern: connection cap &rarr; {@link HttpServerCodec} (request
 * line at most {@value #MAX_INITIAL_LINE} bytes, headers at most {@value #MAX_HEADERS} bytes)
 * &rarr; {@link HttpObjectAggregator} (bodies at most {@value #MAX_BODY} bytes; larger: 413) &rarr;
 * {@link RequestDeadlineHandler} (the whole request within the configured time: slowloris is cut
 * off) &rarr; {@link MetricsRequestHandler} (routing, 404/405).
 */
public final class MetricsHttpServer implements AutoCloseable {
    static final int MAX_INITIAL_LINE = 4096;
    static final int MAX_HEADERS = 8192;
    static final int MAX_BODY = 1024;
    private static final Logger log = LoggerFactory.getLogger(MetricsHttpServer.class);

    private final EventLoopGroup group;
    private final Channel server;

    private MetricsHttpServer(EventLoopGroup group, Channel server) {
        this.group = group;
        this.server = server;
    }

    /**
     * Binds and starts serving.
     *
     * @throws MetricsServerException when the address cannot be bound (in use, not local)
     */
    public static MetricsHttpServer start(String host, int port, int maxConnections, Duration requestTimeout,
                                          MetricsEndpoint endpoint) throws MetricsServerException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                new NamedThreadFactory("gpu-agent-metrics-http", true), NioIoHandler.newFactory());
        ConnectionLimiter limiter = new ConnectionLimiter(maxConnections);
        MetricsRequestHandler handler = new MetricsRequestHandler(endpoint);
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 128)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("limit", limiter)
                                .addLast("http", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADERS, 8192))
                                .addLast("aggregate", new HttpObjectAggregator(MAX_BODY))
                                .addLast("deadline", new RequestDeadlineHandler(requestTimeout))
                                .addLast("route", handler);
                    }
                });
        try {
            Channel ch = b.bind(new InetSocketAddress(host, port)).syncUninterruptibly().channel();
            log.info("metrics endpoint on http://{}/metrics (also /healthz, /readyz, /status)",
                    hostPort((InetSocketAddress) ch.localAddress()));
            return new MetricsHttpServer(group, ch);
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new MetricsServerException("cannot listen on " + host + ":" + port + " for metrics ("
                    + e.getMessage() + "): another process may use the port (see `ss -ltnp`); change "
                    + "metrics.listen in agent.toml", e);
        }
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) server.localAddress();
    }

    private static String hostPort(InetSocketAddress a) {
        String h = a.getAddress().getHostAddress();
        return (h.contains(":") ? "[" + h + "]" : h) + ":" + a.getPort();
    }

    /** Stops accepting, closes connections, and waits up to {@code timeout} for the event loop. */
    public boolean stop(Duration timeout) throws InterruptedException {
        server.close().awaitUninterruptibly(timeout.toMillis());
        return group.shutdownGracefully(0, timeout.toMillis(), TimeUnit.MILLISECONDS)
                .await(timeout.toMillis() + 100);
    }

    @Override
    public void close() {
        try {
            stop(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes connections beyond the cap as they are accepted, before any byte is read. */
    @ChannelHandler.Sharable
    static final class ConnectionLimiter extends ChannelInboundHandlerAdapter {
        private final int max;
        private final AtomicInteger open = new AtomicInteger();
        private final AtomicInteger refused = new AtomicInteger();

        ConnectionLimiter(int max) {
            this.max = max;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            if (open.incrementAndGet() > max) {
                if (refused.getAndIncrement() % 100 == 0) {
                    log.warn("metrics endpoint: more than {} connections; closing {} (and further ones, logged every "
                            + "100)", max, ctx.channel().remoteAddress());
                }
                ctx.close();
                return;
            }
            super.channelActive(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            open.decrementAndGet();
            super.channelInactive(ctx);
        }
    }
}

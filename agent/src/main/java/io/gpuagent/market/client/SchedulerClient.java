package io.gpuagent.market.client;

import io.gpuagent.market.netty.EnvelopeDecoder;
import io.gpuagent.market.netty.EnvelopeEncoder;
import io.gpuagent.market.netty.FrameDecoder;
import io.gpuagent.util.NamedThreadFactory;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.gpuagent.market.netty.TlsContexts;
import io.netty.handler.ssl.SslHandler;

import java.net.InetSocketAddress;
import java.util.function.Consumer;

/**
 * A marketplace scheduler in Java, for tests, benchmarks, the demo and {@code gpu-agent scheduler}:
 * {@link #connect} dials an agent that listens; {@link #listen} accepts agents that dial out.
 * Either way the scheduler side of each connection is a {@link SchedulerConnection}.
 */
public final class SchedulerClient implements AutoCloseable {
    private final EventLoopGroup group;
    private final TlsContexts tls;
    private Channel server;

    /**
     * @param tls the scheduler's TLS context, or null for plaintext: {@link TlsContexts#scheduler} to
     *            {@link #connect} to listening agents, {@link TlsContexts#marketplace} to {@link #listen} for agents
     */
    public SchedulerClient(TlsContexts tls) {
        this.tls = tls;
        this.group = new MultiThreadIoEventLoopGroup(1, new NamedThreadFactory("scheduler-client-io", true),
                NioIoHandler.newFactory());
    }

    private void pipeline(Channel ch, SchedulerConnection conn, boolean client, InetSocketAddress peer) {
        ChannelPipeline p = ch.pipeline();
        if (tls != null) {
            p.addLast("tls", client ? tls.newHandler(ch, peer.getHostString(), peer.getPort()) : tls.newHandler(ch));
        }
        p.addLast("frames", new FrameDecoder(64 << 20));
        p.addLast("envelope", new EnvelopeDecoder().enableStreams());
        p.addLast("encoder", new EnvelopeEncoder());
        p.addLast("scheduler", conn);
    }

    /** Connects to an agent listening at {@code agent}; TLS (when set) is handshaken before this returns. */
    public SchedulerConnection connect(InetSocketAddress agent) throws InterruptedException {
        SchedulerConnection conn = new SchedulerConnection();
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel c) {
                        pipeline(c, conn, true, agent);
                    }
                }).connect(agent).sync().channel();
        conn.attach(ch);
        SslHandler ssl = ch.pipeline().get(SslHandler.class);
        if (ssl != null) {
            ssl.handshakeFuture().sync();
        }
        return conn;
    }

    /** Accepts agents that dial out to {@code address}; each accepted connection goes to {@code onAgent}. */
    public InetSocketAddress listen(InetSocketAddress address, Consumer<SchedulerConnection> onAgent)
            throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel c) {
                        SchedulerConnection conn = new SchedulerConnection();
                        conn.attach(c);
                        pipeline(c, conn, false, null);
                        SslHandler ssl = c.pipeline().get(SslHandler.class);
                        if (ssl == null) {
                            c.eventLoop().execute(() -> onAgent.accept(conn));
                        } else {
                            ssl.handshakeFuture().addListener(f -> {
                                if (f.isSuccess()) {
                                    onAgent.accept(conn);
                                } else {
                                    c.close();
                                }
                            });
                        }
                    }
                }).bind(address).sync().channel();
        return (InetSocketAddress) server.localAddress();
    }

    /** Stops accepting agents (the connections already made stay open). */
    public void stopListening() {
        if (server != null) {
            server.close().syncUninterruptibly();
        }
    }

    @Override
    public void close() {
        stopListening();
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}

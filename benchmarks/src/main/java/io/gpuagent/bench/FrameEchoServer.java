package io.gpuagent.bench;

import io.gpuagent.market.netty.FrameDecoder;
import io.gpuagent.market.netty.TlsContexts;
import io.gpuagent.util.NamedThreadFactory;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The baseline the scheduler link is compared with: a bare Netty server with the agent's framing
 * ({@link FrameDecoder}: 4-byte length, limit checked on the prefix) that sends every frame's payload
 * back in a new frame, the way the agent's encoder writes one (allocate, length, copy), flushing once
 * per read as Netty's own echo example does. Same transport
 * as {@code MarketLink}: NIO, two event-loop threads, TCP_NODELAY, the same write watermarks and,
 * when given, the same TLS context (the agent's listening role: TLS 1.3, client certificate required).
 * No JSON, no limits beyond the frame size, no per-message bookkeeping.
 */
final class FrameEchoServer implements AutoCloseable {
    /** The threads' name prefix, for CPU accounting. */
    static final String THREADS = "bench-echo-io";

    private final EventLoopGroup group;
    private final Channel server;

    FrameEchoServer(TlsContexts tls, int maxFrameBytes) throws InterruptedException {
        this(tls, maxFrameBytes, 0);
    }

    /**
     * @param answerBytes 0: the request's payload goes back as it is; more: padded with spaces (JSON
     *                    whitespace) to that many bytes, so that the answer is as large as the agent's
     *                    (a control for what the size of the answer costs, TLS above all)
     */
    FrameEchoServer(TlsContexts tls, int maxFrameBytes, int answerBytes) throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(2, new NamedThreadFactory(THREADS, true), NioIoHandler.newFactory());
        EchoHandler echo = new EchoHandler(answerBytes);
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 256)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 1024 * 1024))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch));
                        }
                        ch.pipeline().addLast("frames", new FrameDecoder(maxFrameBytes));
                        ch.pipeline().addLast("echo", echo);
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @ChannelHandler.Sharable
    private static final class EchoHandler extends ChannelInboundHandlerAdapter {
        private final int answerBytes;
        private final byte[] pad;

        EchoHandler(int answerBytes) {
            this.answerBytes = answerBytes;
            this.pad = " ".repeat(answerBytes).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf payload = (ByteBuf) msg;
            try {
                int n = Math.max(answerBytes, payload.readableBytes());
                ByteBuf out = ctx.alloc().ioBuffer(4 + n);
                out.writeInt(n);
                out.writeBytes(payload);
                out.writeBytes(pad, 0, 4 + n - out.writerIndex());
                ctx.write(out);
            } finally {
                payload.release();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush(); // as Netty's example/echo: the answers to one read leave in one write
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}

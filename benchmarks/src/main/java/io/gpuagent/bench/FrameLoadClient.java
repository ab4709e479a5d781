package io.gpuagent.bench;

import io.gpuagent.market.netty.FrameDecoder;
import io.gpuagent.market.netty.TlsContexts;
import io.gpuagent.util.NamedThreadFactory;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A closed-loop load generator speaking only the framing: each connection keeps {@code depth}
 * pre-encoded request frames outstanding and sends the next one when a response arrives. Responses
 * come back in order on a connection (the agent answers status and heartbeat on the event loop, the
 * echo server echoes), so the round trip of each is matched by position, without parsing JSON: the
 * client costs the same whichever server it loads. Every response's first bytes are compared with
 * what the server must send (type and id); a mismatch is counted and fails the run.
 *
 * <p>All connections share one event-loop thread ({@link #THREADS}), which owns their state.
 */
final class FrameLoadClient implements AutoCloseable {
    static final String THREADS = "bench-client-io";

    /** One measurement on a set of connections; the main thread flips the flags, the event loop reads them. */
    static final class Run {
        final ByteBuf request;
        final byte[] expect;
        final int depth;
        final long perConnection;
        final LongAdder completed = new LongAdder();
        final AtomicLong mismatches = new AtomicLong();
        final CountDownLatch done;
        volatile boolean recording;
        volatile boolean stop;

        /**
         * @param frame         the request frame (length prefix included), sent again and again
         * @param expect        the first bytes every response must have
         * @param perConnection round trips per connection before it stops on its own (Long.MAX_VALUE: until stopped)
         */
        Run(byte[] frame, byte[] expect, int depth, long perConnection, int connections) {
            this.request = Unpooled.unreleasableBuffer(Unpooled.directBuffer(frame.length).writeBytes(frame));
            this.expect = expect;
            this.depth = depth;
            this.perConnection = perConnection;
            this.done = new CountDownLatch(connections);
        }
    }

    private final EventLoopGroup group;
    private final TlsContexts tls;

    FrameLoadClient(TlsContexts tls) {
        this.tls = tls;
        this.group = new MultiThreadIoEventLoopGroup(1, new NamedThreadFactory(THREADS, true), NioIoHandler.newFactory());
    }

    /**
     * Opens {@code n} connections (TLS handshaken). With a hello frame, sends it on each and waits for
     * {@code framesAfterHello} frames back (the agent's welcome and first offer).
     */
    List<Conn> open(InetSocketAddress address, int n, byte[] hello, int framesAfterHello) throws Exception {
        List<Conn> conns = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Conn conn = new Conn(hello == null ? 0 : framesAfterHello);
            Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            if (tls != null) {
                                c.pipeline().addLast("tls", tls.newHandler(c, address.getHostString(), address.getPort()));
                            }
                            c.pipeline().addLast("frames", new FrameDecoder(1 << 20));
                            c.pipeline().addLast("load", conn);
                        }
                    }).connect(address).sync().channel();
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            if (ssl != null) {
                ssl.handshakeFuture().sync();
            }
            if (hello != null) {
                ch.writeAndFlush(Unpooled.wrappedBuffer(hello));
            }
            conns.add(conn);
        }
        for (Conn c : conns) {
            c.ready.get(10, TimeUnit.SECONDS);
        }
        return conns;
    }

    static void closeAll(List<Conn> conns) {
        conns.forEach(c -> c.channel.close().syncUninterruptibly());
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One connection's closed loop; all of its state is touched on its event loop only. */
    static final class Conn extends ChannelInboundHandlerAdapter {
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        private int helloFrames;
        private Channel channel;
        private ChannelHandlerContext ctx;
        private Run run;
        private long[] sentAt = new long[1];
        private int head;
        private int tail;
        private int outstanding;
        private long sent;
        private boolean finished;
        private long[] samples = new long[1024];
        private int sampleCount;

        Conn(int helloFrames) {
            this.helloFrames = helloFrames;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
            this.channel = ctx.channel();
            if (helloFrames == 0) {
                ready.complete(null);
            }
        }

        /** Starts {@code r} on this connection; samples of an earlier run are dropped. */
        void start(Run r) {
            channel.eventLoop().execute(() -> {
                run = r;
                sentAt = new long[Integer.highestOneBit(Math.max(1, r.depth - 1)) << 1];
                head = tail = outstanding = 0;
                sent = 0;
                finished = false;
                sampleCount = 0;
                for (int i = 0; i < r.depth && sent < r.perConnection; i++) {
                    send();
                }
            });
        }

        /** The round trips recorded while {@link Run#recording} was set, in nanoseconds (read after the run). */
        long[] samples() throws Exception {
            return CompletableFuture.supplyAsync(() -> Arrays.copyOf(samples, sampleCount), channel.eventLoop()).get();
        }

        private void send() {
            sentAt[tail++ & (sentAt.length - 1)] = System.nanoTime();
            outstanding++;
            sent++;
            ctx.writeAndFlush(run.request.retainedDuplicate());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            long now = System.nanoTime();
            ByteBuf frame = (ByteBuf) msg;
            try {
                if (helloFrames > 0) {
                    if (--helloFrames == 0) {
                        ready.complete(null);
                    }
                    return;
                }
                Run r = run;
                if (r == null || outstanding == 0) {
                    if (r != null) {
                        r.mismatches.incrementAndGet(); // an unsolicited frame: an event, or an extra answer
                    }
                    return;
                }
                long t = sentAt[head++ & (sentAt.length - 1)];
                outstanding--;
                if (!startsWith(frame, r.expect)) {
                    r.mismatches.incrementAndGet();
                }
                if (r.recording) {
                    if (sampleCount == samples.length) {
                        samples = Arrays.copyOf(samples, samples.length * 2);
                    }
                    samples[sampleCount++] = now - t;
                }
                r.completed.increment();
                if (!r.stop && sent < r.perConnection) {
                    send();
                } else if (outstanding == 0 && !finished) {
                    finished = true;
                    r.done.countDown();
                }
            } finally {
                frame.release();
            }
        }

        private static boolean startsWith(ByteBuf frame, byte[] prefix) {
            if (frame.readableBytes() < prefix.length) {
                return false;
            }
            int at = frame.readerIndex();
            for (int i = 0; i < prefix.length; i++) {
                if (frame.getByte(at + i) != prefix[i]) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ready.completeExceptionally(cause);
            System.err.println("load connection failed: " + cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            ready.completeExceptionally(new IllegalStateException("closed by the server"));
            Run r = run;
            if (r != null && !finished) {
                finished = true;
                r.mismatches.incrementAndGet();
                r.done.countDown();
            }
        }
    }

    /** The bytes a frame starts with, for {@link Run#expect}. */
    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}

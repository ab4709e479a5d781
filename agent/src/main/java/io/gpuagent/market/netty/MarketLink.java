package io.gpuagent.market.netty;

import io.gpuagent.market.MarketException;
import io.gpuagent.market.SchedulerPort;
import io.gpuagent.market.streams.StreamService;
import io.gpuagent.util.Backoff;
import io.gpuagent.util.Clock;
import io.gpuagent.util.NamedThreadFactory;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.gpuagent.market.netty.TlsContexts;
import io.gpuagent.market.tls.TlsSettings;
import io.gpuagent.market.tls.TlsSetupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The scheduler link: the listening server and/or the dial-out connection, serving the same
 * protocol through the same pipeline ({@link SchedulerChannelInitializer}) and the same
 * {@link SchedulerHub}.
 *
 * <p>Start order: the hub's timer, the event loops, the dispatch thread, then the listening
 * socket (bound before {@link #start} returns, so a taken port fails the start) and the first
 * dial. {@link #stop} runs in reverse: stop dialing, close the listening socket and every
 * connection, then the dispatch thread (finishing the command in hand), the loops and the timer.
 */
public final class MarketLink implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MarketLink.class);

    /**
     * @param listen   where to accept schedulers, or null
     * @param dial     the marketplace to connect out to, or null
     */
    public record Settings(InetSocketAddress listen, InetSocketAddress dial, int maxFrameBytes, long handshakeTimeoutMs,
                           long readTimeoutMs, long idleTimeoutMs, long messagesPerSecond, int maxConnections,
                           int maxConnectionsPerAddress, Duration heartbeat, Duration offerInterval,
                           Duration reconnectInitial, Duration reconnectMax) {
        SchedulerChannelInitializer.Limits limits() {
            return new SchedulerChannelInitializer.Limits(maxFrameBytes, handshakeTimeoutMs, readTimeoutMs, idleTimeoutMs,
                    messagesPerSecond);
        }
    }

    private static final WriteBufferWaterMark WATERMARK = new WriteBufferWaterMark(64 * 1024, 1024 * 1024);

    private final Settings settings;
    private final SchedulerHub hub;
    private final MarketStats stats;
    private final EventLoopGroup group;
    private final ExecutorService dispatch;
    private final ScheduledExecutorService timer;
    private final Backoff backoff;
    private final Clock clock;
    private volatile boolean stopping;
    private Channel server;
    private volatile Channel dialed;
    private int dialFailures;
    private Bootstrap dialer;
    private StreamService streams;

    private MarketLink(Settings settings, SchedulerHub hub, MarketStats stats, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.hub = hub;
        this.stats = stats;
        this.group = new MultiThreadIoEventLoopGroup(2, new NamedThreadFactory("gpu-agent-market-io", true),
                NioIoHandler.newFactory());
        // one thread: commands that write the journal run in arrival order; a bounded queue sheds load
        this.dispatch = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(1024),
                new NamedThreadFactory("gpu-agent-market-dispatch", true));
        this.timer = Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory("gpu-agent-market-timer", true));
        this.backoff = settings.dial() == null ? null : new Backoff(settings.reconnectInitial(), settings.reconnectMax());
    }

    /**
     * Starts the link.
     *
     * @param tls the TLS files and pins ({@code market.tls_*}), or null for plaintext (the validator allows it on
     *            loopback only)
     */
    public static MarketLink start(Settings settings, io.gpuagent.config.AgentConfig.Market tls, SchedulerPort port,
                                   Clock clock) throws MarketException {
        Tls contexts = prepareTls(settings, tls, clock);
        return start(settings, contexts.server(), contexts.client(), port, clock);
    }

    /** The link's TLS contexts (both null for plaintext), made before the link starts. */
    public record Tls(TlsContexts server, TlsContexts client) {
    }

    /**
     * Reads the TLS files and builds the contexts of the link's listening and dial-out sides (the
     * slowest part of its start: the JDK's TLS classes, the keys, the PKIX checks); the daemon runs
     * it beside the sessions' start and hands the result to {@link #start(Settings, TlsContexts,
     * TlsContexts, SchedulerPort, Clock)}. Also loads Netty's buffer classes, which every connection
     * needs.
     *
     * @param tls the TLS files and pins ({@code market.tls_*}), or null for plaintext
     */
    public static Tls prepareTls(Settings settings, io.gpuagent.config.AgentConfig.Market tls, Clock clock)
            throws MarketException {
        io.netty.buffer.ByteBufAllocator.DEFAULT.buffer(16).release();
        if (tls == null) {
            return new Tls(null, null);
        }
        try {
            TlsSettings files = TlsSettings.fromConfig(tls, clock.wallTime());
            files.warnings().forEach(w -> log.warn("scheduler link TLS: {}", w));
            return new Tls(settings.listen() == null ? null : TlsContexts.agentListen(files),
                    settings.dial() == null ? null : TlsContexts.agentDialOut(files));
        } catch (TlsSetupException e) {
            throw new MarketException(e.getMessage(), e);
        } catch (javax.net.ssl.SSLException e) {
            throw new MarketException("cannot set up TLS for the scheduler link: " + e.getMessage(), e);
        }
    }

    /**
     * Starts the link with TLS contexts made by the caller (tests).
     *
     * @param serverTls the TLS context of the listening side (null: plaintext)
     * @param clientTls the TLS context of the dial-out side (null: plaintext)
     */
    public static MarketLink start(Settings settings, TlsContexts serverTls, TlsContexts clientTls, SchedulerPort port,
                                   Clock clock) throws MarketException {
        return start(settings, serverTls, clientTls, port, clock, null);
    }

    /**
     * Starts the link serving streams too.
     *
     * @param streams the streams' far ends and limits, or null: no streams (welcome never offers them)
     */
    public static MarketLink start(Settings settings, TlsContexts serverTls, TlsContexts clientTls, SchedulerPort port,
                                   Clock clock, StreamService streams) throws MarketException {
        MarketStats stats = new MarketStats();
        SchedulerHub hub = new SchedulerHub(port, stats);
        MarketLink link = new MarketLink(settings, hub, stats, clock);
        link.streams = streams;
        hub.start(link.timer, settings.heartbeat(), settings.offerInterval());
        try {
            if (settings.listen() != null) {
                ConnectionLimiter limiter = new ConnectionLimiter(settings.maxConnections(),
                        settings.maxConnectionsPerAddress(), stats);
                ServerBootstrap b = new ServerBootstrap().group(link.group).channel(NioServerSocketChannel.class)
                        .option(ChannelOption.SO_BACKLOG, 256)
                        .childOption(ChannelOption.TCP_NODELAY, true)
                        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATERMARK)
                        .childHandler(new SchedulerChannelInitializer(serverTls, false, null, 0, limiter, settings.limits(),
                                port, hub, stats, clock, link.dispatch, "listen", streams));
                try {
                    link.server = b.bind(settings.listen()).sync().channel();
                } catch (Exception e) {
                    throw new MarketException("cannot listen for schedulers on " + settings.listen() + ": " + e.getMessage()
                            + " (is another agent running? change market.listen)", e);
                }
                log.info("serving schedulers on {}{}", link.server.localAddress(), serverTls == null ? " (PLAINTEXT: development only)" : " (TLS 1.3, mutual, TLS provider " + TlsContexts.describe(serverTls.sslContext()) + ")");
            }
            if (settings.dial() != null) {
                link.dialer = new Bootstrap().group(link.group).channel(NioSocketChannel.class)
                        .option(ChannelOption.TCP_NODELAY, true)
                        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, settings.handshakeTimeoutMs()))
                        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATERMARK)
                        .handler(new SchedulerChannelInitializer(clientTls, true, settings.dial().getHostString(),
                                settings.dial().getPort(), null, settings.limits(), port, hub, stats, clock, link.dispatch, "dial",
                                streams));
                link.dial();
            }
        } catch (MarketException | RuntimeException e) {
            link.close();
            throw e;
        }
        return link;
    }

    private void dial() {
        if (stopping) {
            return;
        }
        stats.dialAttempt();
        ChannelFuture f = dialer.connect(settings.dial());
        f.addListener(done -> {
            if (!done.isSuccess()) {
                retry("cannot connect: " + done.cause().getMessage());
                return;
            }
            Channel ch = f.channel();
            dialed = ch;
            long connectedAt = clock.monotonicNanos();
            log.info("connected to the marketplace at {}", settings.dial());
            ch.closeFuture().addListener(c -> {
                dialed = null;
                // a connection that lived a while resets the backoff; one that dies at once does not
                if (clock.monotonicNanos() - connectedAt > settings.reconnectMax().toNanos()) {
                    dialFailures = 0;
                }
                retry("connection closed");
            });
        });
    }

    private synchronized void retry(String why) {
        if (stopping) {
            return;
        }
        Duration d = backoff.delay(dialFailures++);
        log.info("marketplace {}: {}; reconnecting in {} ms (attempt {})", settings.dial(), why, d.toMillis(), dialFailures);
        timer.schedule(this::dial, d.toMillis(), TimeUnit.MILLISECONDS);
    }

    public SchedulerHub hub() {
        return hub;
    }

    public MarketStats stats() {
        return stats;
    }

    /** The streams served over the link, or null when none are. */
    public StreamService streams() {
        return streams;
    }

    /** The bound listening address (port 0 in tests binds a free one). */
    public Optional<InetSocketAddress> listenAddress() {
        return Optional.ofNullable(server).map(c -> (InetSocketAddress) c.localAddress());
    }

    /** Whether the dial-out connection is up now. */
    public boolean dialConnected() {
        Channel c = dialed;
        return c != null && c.isActive();
    }

    /** Stops in reverse start order; false when a step hit the timeout. */
    public boolean stop(Duration timeout) throws InterruptedException {
        stopping = true;
        // real time, not the injected clock: this deadline only splits the timeout among the JDK's and
        // Netty's own waits below, which count real time whatever clock the link was given
        long deadline = System.nanoTime() + timeout.toNanos();
        if (server != null) {
            server.close().await(timeout.toMillis());
        }
        hub.closeAll();
        Channel d = dialed;
        if (d != null) {
            d.close().await(timeout.toMillis());
        }
        timer.shutdownNow();
        if (streams != null) {
            streams.close();
        }
        dispatch.shutdown();
        boolean clean = dispatch.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        clean &= group.shutdownGracefully(0, Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS)
                .await(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        return clean;
    }

    @Override
    public void close() {
        try {
            stop(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

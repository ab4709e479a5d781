package io.gpuagent.market.netty;

import io.gpuagent.market.SchedulerPort;
import io.gpuagent.market.streams.StreamMux;
import io.gpuagent.market.streams.StreamService;
import io.gpuagent.util.Clock;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.gpuagent.market.netty.TlsContexts;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateHandler;

import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline of one scheduler connection, the same in both modes (listen and dial-out), one
 * handler per concern, in this order:
 * <pre>
 *   [limiter]     caps per address and in total (listen mode only), before TLS costs anything
 *   tls           TLS 1.3, peer certificate required, handshake timeout (absent only in plaintext mode)
 *   flushes       answers to requests read together leave in one flush (one TLS record, one write)
 *   deadline      a started frame must arrive whole within the read timeout (slow senders)
 *   frames        4-byte length, limit checked on the prefix before any payload is buffered
 *   idle          no whole frame for the idle timeout: close
 *   envelope      JSON payload to Envelope (bad ones answered, not acted on)
 *   encoder       Envelope to frame
 *   streams       stream frames to their streams (when negotiated); envelopes pass on
 *   scheduler     hello, rate limit, dispatch, heartbeats
 * </pre>
 */
final class SchedulerChannelInitializer extends ChannelInitializer<Channel> {
    /** Settings shared by both modes. */
    record Limits(int maxFrameBytes, long handshakeTimeoutMs, long readTimeoutMs, long idleTimeoutMs,
                  long messagesPerSecond) {
    }

    private static final EnvelopeEncoder ENCODER = new EnvelopeEncoder();

    private final TlsContexts tls;
    private final boolean client;
    private final String peerHost;
    private final int peerPort;
    private final ConnectionLimiter limiter;
    private final Limits limits;
    private final SchedulerPort port;
    private final SchedulerHub hub;
    private final MarketStats stats;
    private final Clock clock;
    private final Executor dispatch;
    private final String mode;
    private final StreamService streams;

    /** A pipeline without streams (tests). */
    SchedulerChannelInitializer(TlsContexts tls, boolean client, String peerHost, int peerPort, ConnectionLimiter limiter,
                                Limits limits, SchedulerPort port, SchedulerHub hub, MarketStats stats, Clock clock,
                                Executor dispatch, String mode) {
        this(tls, client, peerHost, peerPort, limiter, limits, port, hub, stats, clock, dispatch, mode, null);
    }

    SchedulerChannelInitializer(TlsContexts tls, boolean client, String peerHost, int peerPort, ConnectionLimiter limiter,
                                Limits limits, SchedulerPort port, SchedulerHub hub, MarketStats stats, Clock clock,
                                Executor dispatch, String mode, StreamService streams) {
        this.streams = streams;
        this.tls = tls;
        this.client = client;
        this.peerHost = peerHost;
        this.peerPort = peerPort;
        this.limiter = limiter;
        this.limits = limits;
        this.port = port;
        this.hub = hub;
        this.stats = stats;
        this.clock = clock;
        this.dispatch = dispatch;
        this.mode = mode;
    }

    @Override
    protected void initChannel(Channel ch) {
        ChannelPipeline p = ch.pipeline();
        if (limiter != null) {
            p.addLast("limiter", limiter);
        }
        if (tls != null) {
            // the handshake timeout comes with the handler (market.handshake_timeout_ms)
            p.addLast("tls", client ? tls.newHandler(ch, peerHost, peerPort) : tls.newHandler(ch));
        }
        // answers to requests read in one go leave in one flush (one TLS record, one write) at read complete
        p.addLast("flushes", new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, false));
        p.addLast("deadline", new FrameDeadlineHandler(limits.readTimeoutMs(), stats));
        p.addLast("frames", new FrameDecoder(limits.maxFrameBytes()));
        p.addLast("idle", new IdleStateHandler(limits.idleTimeoutMs(), 0, 0, TimeUnit.MILLISECONDS));
        p.addLast("envelope", new EnvelopeDecoder());
        p.addLast("encoder", ENCODER);
        SchedulerHandler handler = new SchedulerHandler(port, hub, stats, clock, dispatch, mode, limits.messagesPerSecond());
        if (streams != null) {
            StreamMux mux = new StreamMux(streams, clock, handler::replyNow);
            handler.streams(mux);
            p.addLast("streams", mux);
        }
        p.addLast("scheduler", handler);
    }
}

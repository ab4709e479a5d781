package io.gpuagent.market.netty;

import io.gpuagent.market.CommandException;
import io.gpuagent.market.SchedulerPort;
import io.gpuagent.market.streams.StreamMux;
import io.gpuagent.protocol.Envelope;
import io.gpuagent.protocol.ErrorCode;
import io.gpuagent.protocol.Message;
import io.gpuagent.protocol.MessageCodec;
import io.gpuagent.protocol.Outgoing;
import io.gpuagent.protocol.ProtocolException;
import io.gpuagent.util.Clock;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * One scheduler connection's conversation: hello first, then requests answered once each with
 * the same id, events pushed by the {@link SchedulerHub}. Read-only requests are answered on the
 * event loop; launch, stop and voucher run on the dispatch executor (they write the journal).
 * Bad input is answered with an {@code error} and changes nothing; only an oversized frame, a
 * timeout or a sustained flood closes the connection.
 */
final class SchedulerHandler extends SimpleChannelInboundHandler<Envelope> {
    private static final Logger log = LoggerFactory.getLogger(SchedulerHandler.class);

    private final SchedulerPort port;
    private final SchedulerHub hub;
    private final MarketStats stats;
    private final Clock clock;
    private final Executor dispatch;
    private final String mode;
    private final RateLimiter rate;
    private final long floodLimit;
    private final Map<String, Long> pings = new HashMap<>();
    private long refusedInWindow;
    private long windowStart;
    private boolean welcomed;
    private StreamMux streams;

    SchedulerHandler(SchedulerPort port, SchedulerHub hub, MarketStats stats, Clock clock, Executor dispatch,
                     String mode, long messagesPerSecond) {
        this.port = port;
        this.hub = hub;
        this.stats = stats;
        this.clock = clock;
        this.dispatch = dispatch;
        this.mode = mode;
        this.rate = new RateLimiter(messagesPerSecond, clock.monotonicNanos());
        this.floodLimit = 4 * messagesPerSecond;
    }

    /** The connection's streams (null: this agent serves none); set once, before the channel is active. */
    void streams(StreamMux mux) {
        this.streams = mux;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        stats.connected(mode);
        log.info("scheduler connection from {} ({})", ctx.channel().remoteAddress(), mode);
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        stats.disconnected(mode);
        hub.remove(ctx.channel());
        log.info("scheduler connection {} closed ({})", ctx.channel().remoteAddress(), mode);
        super.channelInactive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Envelope env) {
        long t0 = clock.monotonicNanos();
        stats.received(env.type());
        if (!admitted(ctx, env, t0)) {
            return;
        }
        if (env.id() != null && pings.containsKey(env.id())) {
            // the scheduler's answer to our heartbeat (checked first: an answer is not a new request)
            long sent = pings.remove(env.id());
            if (env.type().equals("heartbeat")) {
                stats.roundTrip(t0 - sent);
            }
            return;
        }
        Class<? extends Message> kind = MessageCodec.classOf(env.type());
        if (kind != null && !Message.Request.class.isAssignableFrom(kind)) {
            // a response or event sent to the agent: replayed or unsolicited; its body is not even read
            reply(ctx.channel(), error(ErrorCode.UNEXPECTED_MESSAGE.wire(), "\"" + env.type()
                    + "\" is not a request the agent serves" + (env.id() != null
                    ? " and answers no request of ours (replayed or unsolicited)" : "")), env.id(), t0);
            return;
        }
        Message m;
        try {
            m = MessageCodec.decode(env);
        } catch (ProtocolException e) {
            reply(ctx.channel(), error(e.code().wire(), e.getMessage()), e.correlationId(), t0);
            return;
        }
        if (env.id() == null && !(m instanceof Message.Heartbeat)) {
            reply(ctx.channel(), error(ErrorCode.MISSING_FIELD.wire(), "\"id\" is missing: requests carry "
                    + "an id that their response repeats"), null, t0);
            return;
        }
        Message.Request req = (Message.Request) m;
        if (m instanceof Message.Heartbeat) {
            if (env.id() != null) {
                reply(ctx.channel(), new Message.Heartbeat(clock.wallTime().toString()), env.id(), t0);
            }
            return;
        }
        if (req instanceof Message.Hello hello) {
            hello(ctx.channel(), hello, env.id(), t0);
            return;
        }
        if (!welcomed) {
            reply(ctx.channel(), error(ErrorCode.HELLO_REQUIRED.wire(), "send hello first"), env.id(), t0);
            return;
        }
        serve(ctx.channel(), req, env.id(), t0);
    }

    /** The rate limit: over it, the message is answered {@code rate_limited}; a sustained flood closes the connection. */
    private boolean admitted(ChannelHandlerContext ctx, Envelope env, long t0) {
        if (rate.tryAcquire(t0)) {
            return true;
        }
        if (t0 - windowStart > 1_000_000_000L) {
            windowStart = t0;
            refusedInWindow = 0;
        }
        if (++refusedInWindow > floodLimit) {
            log.warn("scheduler {} keeps flooding ({} messages over the rate within a second): closing",
                    ctx.channel().remoteAddress(), refusedInWindow);
            stats.closed("flood");
            ctx.close();
            return false;
        }
        reply(ctx.channel(), error(ErrorCode.RATE_LIMITED.wire(), "more than the allowed messages per "
                + "second on this connection; this one was dropped"), env.id(), t0);
        return false;
    }

    private void hello(Channel ch, Message.Hello hello, String id, long t0) {
        int chosen = hello.versions().stream().filter(v -> v == Envelope.VERSION).findFirst().orElse(-1);
        if (chosen < 0) {
            reply(ch, error(ErrorCode.UNSUPPORTED_VERSION.wire(), "none of versions " + hello.versions()
                    + " is spoken here; this agent speaks " + Envelope.VERSION), id, t0);
            return;
        }
        Message.Welcome w = port.welcome(hello, chosen);
        if (streams != null && !streams.enabled() && w.capabilities().contains("streams")) {
            // from the next frame on: stream frames are read, stream requests served
            streams.enable();
            ch.pipeline().get(EnvelopeDecoder.class).enableStreams();
        }
        reply(ch, w, id, t0);
        if (!welcomed) {
            welcomed = true;
            log.info("scheduler \"{}\" at {} said hello ({})", hello.scheduler(), ch.remoteAddress(), mode);
            hub.add(ch);
        }
    }

    private void serve(Channel ch, Message.Request req, String id, long t0) {
        if (req instanceof Message.GetOffer) {
            reply(ch, port.offer(), id, t0);
        } else if (req instanceof Message.Status s) {
            answer(ch, id, t0, () -> port.status(s));
        } else if (req instanceof Message.ListSessions) {
            reply(ch, port.list(), id, t0);
        } else if (req instanceof Message.Launch l) {
            offload(ch, id, t0, () -> port.launch(l));
        } else if (req instanceof Message.Stop s) {
            offload(ch, id, t0, () -> port.stop(s));
        } else if (req instanceof Message.Voucher v) {
            offload(ch, id, t0, () -> port.voucher(v));
        } else if (req instanceof Message.StreamOpen || req instanceof Message.StreamResize
                || req instanceof Message.StreamClose) {
            stream(ch, req, id, t0);
        } else {
            reply(ch, error(ErrorCode.UNEXPECTED_MESSAGE.wire(), "not served here"), id, t0);
        }
    }

    private void stream(Channel ch, Message.Request req, String id, long t0) {
        if (streams == null || !streams.enabled()) {
            reply(ch, error("streams_not_negotiated", "streams were not negotiated on this connection: ask for the "
                    + "\"streams\" capability in hello (an agent that offers them lists it in welcome)"), id, t0);
            return;
        }
        if (req instanceof Message.StreamOpen o) {
            streams.open(o, id);
        } else if (req instanceof Message.StreamResize r) {
            streams.resize(r, id);
        } else {
            streams.close((Message.StreamClose) req, id);
        }
    }

    /** An answer written later than the request's read (streams open asynchronously). */
    void replyNow(Channel ch, Message out, String id) {
        reply(ch, out, id, clock.monotonicNanos());
    }

    @FunctionalInterface
    private interface Command {
        Message run() throws CommandException;
    }

    private void offload(Channel ch, String id, long t0, Command c) {
        try {
            dispatch.execute(() -> answer(ch, id, t0, c));
        } catch (RejectedExecutionException e) {
            reply(ch, error(ErrorCode.UNAVAILABLE.wire(), "the agent is stopping or too busy; retry"), id, t0);
        }
    }

    private void answer(Channel ch, String id, long t0, Command c) {
        Message out;
        try {
            out = c.run();
        } catch (CommandException e) {
            out = error(e.code(), e.getMessage());
        } catch (RuntimeException e) {
            log.error("serving request {} from {} failed", id, ch.remoteAddress(), e);
            out = error(ErrorCode.INTERNAL.wire(), "internal error: " + e);
        }
        reply(ch, out, id, t0);
    }

    private static Message.Error error(String code, String message) {
        return new Message.Error(code, message);
    }

    /** Writes an answer; the encoder writes it straight from the record into the frame. */
    private void reply(Channel ch, Message out, String id, long t0) {
        Outgoing o = new Outgoing(out, id);
        stats.sent(o.type());
        if (out instanceof Message.Error e) {
            stats.error(e.code());
        }
        ch.writeAndFlush(o).addListener(ENCODE_FAILURE);
        stats.request(clock.monotonicNanos() - t0);
    }

    /**
     * Encoding happens in the encoder, after the answer left this handler: a record that cannot be
     * written (a bug) is logged there, not dropped without a word. A write to a closed channel is not.
     */
    private static final ChannelFutureListener ENCODE_FAILURE = f -> {
        if (!f.isSuccess() && f.cause() instanceof EncoderException) {
            log.error("an answer to {} could not be encoded", f.channel().remoteAddress(), f.cause());
        }
    };

    /** Sends the agent's heartbeat with an id; the scheduler's answer gives the round trip. */
    void ping(Channel ch, String id) {
        if (pings.size() > 64) {
            pings.clear(); // a scheduler that never answers must not grow this
        }
        pings.put(id, clock.monotonicNanos());
        stats.sent("heartbeat");
        ch.writeAndFlush(new Outgoing(new Message.Heartbeat(clock.wallTime().toString()), id));
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        // backpressure: a scheduler that does not read our responses gets its requests read no faster
        ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            log.info("scheduler {} sent nothing for the idle timeout: closing", ctx.channel().remoteAddress());
            stats.closed("idle_timeout");
            ctx.close();
            return;
        }
        if (evt instanceof SslHandshakeCompletionEvent hs && !hs.isSuccess()) {
            log.warn("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), hs.cause().getMessage());
            stats.rejected("tls_handshake");
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            stats.closed("frame_too_large");
            reply(ctx.channel(), error(ErrorCode.FRAME_TOO_LARGE.wire(), cause.getMessage()), null,
                    clock.monotonicNanos());
            ctx.channel().eventLoop().execute(ctx::close);
            return;
        }
        if (cause instanceof DecoderException d && d.getCause() instanceof ProtocolException p) {
            reply(ctx.channel(), error(p.code().wire(), p.getMessage()), p.correlationId(), clock.monotonicNanos());
            return;
        }
        if (cause instanceof DecoderException d && d.getCause() instanceof javax.net.ssl.SSLException) {
            log.warn("TLS with {} failed: {}", ctx.channel().remoteAddress(), d.getCause().getMessage());
            stats.rejected("tls");
            ctx.close();
            return;
        }
        log.info("scheduler connection {}: {}; closing", ctx.channel().remoteAddress(), cause.toString());
        stats.closed("error");
        ctx.close();
    }
}

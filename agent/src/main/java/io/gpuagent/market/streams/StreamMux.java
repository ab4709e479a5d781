package io.gpuagent.market.streams;

import io.gpuagent.protocol.Message;
import io.gpuagent.util.Clock;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * The streams of one scheduler connection (docs/protocol.md, "Streams"): opens them on the
 * scheduler's requests, routes its binary frames to them, keeps the connection's data budget, and
 * tells the scheduler when each ends. Sits in the connection's pipeline after the envelope
 * decoder: stream frames stop here, envelopes go on to the scheduler handler, which hands the
 * {@code stream.*} requests back to {@link #open}, {@link #resize} and {@link #close}.
 *
 * <p>Everything runs on the connection's event loop; far ends are registered on it too.
 */
public final class StreamMux extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(StreamMux.class);

    /** How the mux answers a request (the scheduler handler's reply, which counts and times it). */
    @FunctionalInterface
    public interface Replier {
        void reply(Channel ch, Message m, String id);
    }

    private final StreamService service;
    private final Clock clock;
    private final Replier replier;
    private final Map<Long, StreamRelay> streams = new LinkedHashMap<>();
    private Channel channel;
    private boolean enabled;
    private long inFlight;
    private long ignoredFrames;
    private ScheduledFuture<?> idleCheck;

    public StreamMux(StreamService service, Clock clock, Replier replier) {
        this.service = service;
        this.clock = clock;
        this.replier = replier;
    }

    /** Streams were negotiated in hello: from now on the connection carries them. */
    public void enable() {
        enabled = true;
    }

    public boolean enabled() {
        return enabled;
    }

    /** Streams open on this connection now. */
    public int size() {
        return streams.size();
    }

    StreamStats stats() {
        return service.stats();
    }

    long now() {
        return clock.monotonicNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof StreamFrame f)) {
            ctx.fireChannelRead(msg);
            return;
        }
        StreamRelay r = streams.get(f.stream());
        if (r == null || r.backend() == null) {
            // a frame in flight when the stream ended (or before it opened): dropped, as HTTP/2 does
            ignoredFrames++;
            f.release();
            return;
        }
        r.fromScheduler(f);
    }

    /** Frames for streams that were not open, dropped (tests). */
    public long ignoredFrames() {
        return ignoredFrames;
    }

    // ---- requests ------------------------------------------------------------------------------

    /** Serves {@code stream.open}; the answer ({@code stream.opened} or an error) follows when the far end is open. */
    public void open(Message.StreamOpen open, String id) {
        StreamRelay relay;
        try {
            relay = admit(open);
        } catch (StreamException e) {
            refuse(e, id, open);
            return;
        }
        StreamService.Target target = service.session(open.session()).orElseThrow();
        service.checkGrant(open).thenCompose(v -> service.backends().open(open, target.container(), channel.eventLoop()))
                .whenComplete((b, err) -> channel.eventLoop().execute(() -> opened(relay, open, b, err, id)));
    }

    private StreamRelay admit(Message.StreamOpen open) throws StreamException {
        if (streams.containsKey(open.stream())) {
            throw new StreamException("stream_in_use", "stream " + open.stream() + " is open on this connection; "
                    + "choose another number or wait for its stream.closed");
        }
        if (streams.size() >= service.limits().perConnection()) {
            throw new StreamException("stream_limit", streams.size() + " streams are open on this connection, the most "
                    + "market.stream_limit_per_connection allows; close one first");
        }
        StreamService.Target t = service.session(open.session()).orElseThrow(() ->
                new StreamException("unknown_session", "no session " + open.session()));
        if (!t.running() || t.container() == null) {
            throw new StreamException("session_not_running", "session " + open.session() + " is " + t.state()
                    + ": streams open only into running sessions");
        }
        if (!service.acquire(open.session())) {
            throw new StreamException("stream_limit", "session " + open.session() + " has "
                    + service.limits().perSession() + " streams open, the most market.stream_limit_per_session allows");
        }
        long sendWindow = open.window() == null ? service.limits().window() : open.window();
        StreamRelay r = new StreamRelay(this, open.stream(), open.session(), open.kind(), sendWindow,
                service.limits().window(), now());
        streams.put(open.stream(), r);
        return r;
    }

    private void refuse(StreamException e, String id, Message.StreamOpen open) {
        service.stats().refused(e.code());
        log.info("stream {} into session {} ({}) refused: {}: {}", open.stream(), open.session(), describe(open),
                e.code(), e.getMessage());
        replier.reply(channel, new Message.Error(e.code(), e.getMessage()), id);
    }

    private void opened(StreamRelay relay, Message.StreamOpen open, Backend b, Throwable err, String id) {
        if (err != null) {
            streams.remove(relay.id);
            service.release(relay.session);
            Throwable c = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
            StreamException se = c instanceof StreamException s ? s
                    : new StreamException("engine_error", "opening the " + open.kind() + " failed: " + c, c);
            refuse(se, id, open);
            return;
        }
        if (relay.closed()) {
            b.channel().close(); // the connection closed while the far end was opening: finish() released it
            return;
        }
        service.stats().opened(open.kind());
        log.info("stream {} opened into session {}: {}", open.stream(), open.session(), describe(open));
        replier.reply(channel, new Message.StreamOpened(open.stream(), open.session(), open.kind(),
                service.limits().window(), open.kind().equals("exec") ? b.tty() : null), id);
        relay.attach(b);
        scheduleIdleCheck();
    }

    private static String describe(Message.StreamOpen o) {
        return switch (o.kind()) {
            case "tunnel" -> "tunnel to port " + o.port();
            case "logs" -> "logs, tail " + (o.tail() == null ? "all" : o.tail()) + (Boolean.TRUE.equals(o.follow()) ? ", follow" : "");
            default -> "exec " + (o.command().isEmpty() ? "login shell" : String.join(" ", o.command()))
                    + (o.wantsTty() ? " (tty)" : "");
        };
    }

    /** Serves {@code stream.resize}. */
    public void resize(Message.StreamResize r, String id) {
        StreamRelay relay = streams.get(r.stream());
        if (relay == null || relay.backend() == null) {
            replier.reply(channel, unknown(r.stream()), id);
            return;
        }
        if (!relay.backend().tty()) {
            replier.reply(channel, new Message.Error("stream_not_tty", "stream " + r.stream() + " has no PTY to resize"), id);
            return;
        }
        relay.backend().resize(r.cols(), r.rows()).whenComplete((v, err) -> channel.eventLoop().execute(() ->
                replier.reply(channel, err == null ? new Message.StreamAck(r.stream()) : new Message.Error("engine_error",
                        "resizing stream " + r.stream() + " failed: " + rootMessage(err)), id)));
    }

    /** Serves {@code stream.close}: acknowledged, then {@code stream.closed} follows. */
    public void close(Message.StreamClose c, String id) {
        StreamRelay relay = streams.get(c.stream());
        if (relay == null || relay.backend() == null) {
            replier.reply(channel, unknown(c.stream()), id);
            return;
        }
        replier.reply(channel, new Message.StreamAck(c.stream()), id);
        finish(relay, "closed", null, "closed by the scheduler");
    }

    private static Message.Error unknown(long stream) {
        return new Message.Error("unknown_stream", "no stream " + stream + " is open on this connection");
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        return c.getMessage() == null ? c.toString() : c.getMessage();
    }

    // ---- the relays' calls -----------------------------------------------------------------------

    /** Whether the connection's data budget has room (see {@link StreamLimits#linkBudget()}). */
    boolean linkHasRoom() {
        return inFlight < service.limits().linkBudget() && channel.isActive();
    }

    void writeData(int kind, long stream, ByteBuf data) {
        int n = data.readableBytes();
        inFlight += n;
        channel.write(StreamFrame.header(channel.alloc(), kind, stream, n), channel.voidPromise());
        channel.write(data).addListener(f -> {
            boolean wasFull = !linkHasRoom();
            inFlight -= n;
            if (wasFull && linkHasRoom()) {
                resumeAll();
            }
        });
    }

    /** Sends what the relays wrote: one flush per far-end read, not per frame (fewer TLS records and syscalls). */
    void flush() {
        channel.flush();
    }

    void writeWindow(long stream, long bytes) {
        channel.writeAndFlush(StreamFrame.window(channel.alloc(), stream, bytes), channel.voidPromise());
    }

    void writeEof(long stream) {
        channel.writeAndFlush(StreamFrame.eof(channel.alloc(), stream), channel.voidPromise());
    }

    private void resumeAll() {
        for (StreamRelay r : new ArrayList<>(streams.values())) {
            if (!linkHasRoom()) {
                return;
            }
            r.pump();
        }
    }

    /** The far end's output ended and its EOF went out. */
    void farDone(StreamRelay r) {
        switch (r.kind) {
            case "exec" -> r.backend().exitCode().whenComplete((code, err) -> channel.eventLoop().execute(() ->
                    finish(r, err == null ? "exited" : "engine_error", err == null ? code : null,
                            err == null ? null : "reading the exit code failed: " + rootMessage(err))));
            case "logs" -> finish(r, "eof", null, null);
            default -> {
                if (r.schedulerEnded() || !r.backend().channel().isActive()) {
                    finish(r, "eof", null, null);
                }
            }
        }
    }

    /** The scheduler's EOF reached the far end. */
    void schedulerDone(StreamRelay r) {
        if (r.kind.equals("tunnel") && r.farEndedAndSent()) {
            finish(r, "eof", null, null);
        }
    }

    /** The far end's channel closed. */
    void farClosed(StreamRelay r) {
        if (r.kind.equals("tunnel") && r.farEndedAndSent()) {
            finish(r, "eof", null, null);
        }
    }

    /** Ends a stream and tells the scheduler why. */
    void finish(StreamRelay r, String reason, Integer exitCode, String message) {
        if (r.closed() || streams.get(r.id) != r) {
            return;
        }
        boolean wasOpen = r.backend() != null;
        r.close();
        streams.remove(r.id);
        service.release(r.session);
        if (!wasOpen) {
            return; // still opening: never counted as open, never answered; opened() closes the far end
        }
        service.stats().closed(r.kind, reason);
        log.info("stream {} into session {} ({}) ended: {}{}; {} bytes in, {} out", r.id, r.session, r.kind, reason,
                exitCode == null ? "" : " with exit code " + exitCode, r.bytesIn, r.bytesOut);
        if (channel.isActive()) {
            channel.writeAndFlush(new io.gpuagent.protocol.Outgoing(new Message.StreamClosed(r.id, r.session, r.kind,
                    reason, exitCode, r.bytesIn, r.bytesOut, message), null));
        }
    }

    // ---- lifetime --------------------------------------------------------------------------------

    private void scheduleIdleCheck() {
        long idle = service.limits().idleTimeout().toNanos();
        if (idleCheck != null || idle <= 0) {
            return;
        }
        long period = Math.max(1, Math.min(1000, idle / 1_000_000 / 4));
        idleCheck = channel.eventLoop().scheduleAtFixedRate(() -> {
            long now = now();
            for (StreamRelay r : new ArrayList<>(streams.values())) {
                if (r.backend() != null && now - r.lastActivityNanos > idle) {
                    finish(r, "idle_timeout", null, "no data either way for " + service.limits().idleTimeout().toSeconds()
                            + " s (market.stream_idle_timeout_s)");
                }
            }
        }, period, period, TimeUnit.MILLISECONDS);
    }

    /** Ends every stream of a session that ended (its container is going). */
    public void sessionEnded(String session) {
        for (StreamRelay r : new ArrayList<>(streams.values())) {
            if (r.session.equals(session)) {
                finish(r, "session_ended", null, "session " + session + " ended");
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (idleCheck != null) {
            idleCheck.cancel(false);
        }
        for (StreamRelay r : new ArrayList<>(streams.values())) {
            finish(r, "link_closed", null, null);
        }
        ctx.fireChannelInactive();
    }
}

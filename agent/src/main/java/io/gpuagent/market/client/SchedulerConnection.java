package io.gpuagent.market.client;

import io.gpuagent.market.streams.StreamFrame;
import io.gpuagent.protocol.Envelope;
import io.gpuagent.protocol.Message;
import io.gpuagent.protocol.MessageCodec;
import io.gpuagent.protocol.ProtocolException;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The scheduler's end of one connection to an agent (whichever side dialed): requests with
 * futures matched by id, events to a listener, and answers to the agent's heartbeats. Used by the
 * tests, the benchmarks and {@code gpu-agent scheduler}.
 */
public final class SchedulerConnection extends SimpleChannelInboundHandler<Envelope> implements AutoCloseable {
    private final Map<String, CompletableFuture<Message>> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile Consumer<Message> events = m -> {
    };
    private volatile Channel channel;
    private final Map<Long, ClientStream> streams = new ConcurrentHashMap<>();
    private final AtomicLong streamIds = new AtomicLong();

    /** A stream number not used yet on this connection by {@link #openStream} callers that take it from here. */
    public long nextStreamNumber() {
        return streamIds.incrementAndGet();
    }

    /** The agent answered with an {@code error}. */
    public static final class ErrorReply extends Exception {
        private final String code;

        public ErrorReply(String code, String message) {
            super(code + ": " + message);
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /** Where pushed events go (offer, session.state, session.usage, ...). */
    public SchedulerConnection onEvent(Consumer<Message> listener) {
        this.events = listener;
        return this;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        channel = ctx.channel();
        super.channelActive(ctx);
    }

    void attach(Channel ch) {
        channel = ch;
    }

    public Channel channel() {
        return channel;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof StreamFrame f) {
            ClientStream s = streams.get(f.stream());
            if (s == null) {
                f.release();
            } else {
                s.frame(f);
            }
            return;
        }
        super.channelRead(ctx, msg);
    }

    /**
     * Opens a stream (the connection's hello must have asked for {@code "streams"}); completes once
     * the agent answered {@code stream.opened}, or fails with {@link ErrorReply}.
     *
     * @param open      the request (the caller chooses its stream number, unused on this connection)
     * @param autoGrant grant the agent's data back as soon as the listener took it
     */
    public CompletableFuture<ClientStream> openStream(Message.StreamOpen open, ClientStream.Listener listener,
                                                      boolean autoGrant) {
        long id = open.stream();
        Message.StreamOpen o = open;
        long window = o.window() == null ? 256 * 1024 : o.window();
        ClientStream s = new ClientStream(this, id, listener, autoGrant, window);
        streams.put(id, s);
        return send(o).thenApply(m -> {
            if (m instanceof Message.StreamOpened ok) {
                s.opened(ok);
                return s;
            }
            streams.remove(id);
            Message.Error e = (Message.Error) m;
            throw new java.util.concurrent.CompletionException(new ErrorReply(e.code(), e.message()));
        });
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Envelope env) {
        Message m;
        try {
            m = MessageCodec.decode(env);
        } catch (ProtocolException e) {
            CompletableFuture<Message> f = env.id() == null ? null : pending.remove(env.id());
            if (f != null) {
                f.completeExceptionally(e);
            } else {
                // an event this client cannot read: surfaced, not dropped (a newer agent, or a bug)
                events.accept(new Message.Error(e.code().wire(), "undecodable " + env.type() + ": " + e.getMessage()));
            }
            return;
        }
        if (env.id() != null) {
            CompletableFuture<Message> f = pending.remove(env.id());
            if (f != null) {
                f.complete(m);
                return;
            }
            if (m instanceof Message.Heartbeat) {
                // the agent's own heartbeat: answer it so that it can measure the round trip
                ctx.writeAndFlush(MessageCodec.encode(new Message.Heartbeat(null), env.id()));
                return;
            }
        }
        if (m instanceof Message.StreamClosed c) {
            ClientStream s = streams.remove(c.stream());
            if (s != null) {
                s.closedBy(c);
            }
        }
        events.accept(m);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        IllegalStateException gone = new IllegalStateException("connection to the agent closed");
        streams.values().forEach(st -> st.closedBy(new Message.StreamClosed(st.id(), "", "", "link_closed", null, 0, 0,
                "the connection closed")));
        streams.clear();
        pending.values().forEach(f -> f.completeExceptionally(gone));
        pending.clear();
        closed.complete(null);
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    /** Sends a request; the future completes with the response (an {@code error} included). */
    public CompletableFuture<Message> send(Message.Request request) {
        String id = "s-" + ids.incrementAndGet();
        CompletableFuture<Message> f = new CompletableFuture<>();
        pending.put(id, f);
        channel.writeAndFlush(MessageCodec.encode(request, id)).addListener(w -> {
            if (!w.isSuccess()) {
                pending.remove(id);
                f.completeExceptionally(w.cause());
            }
        });
        return f;
    }

    /** Sends raw bytes (tests of bad input). */
    public void sendRaw(Envelope env) {
        channel.writeAndFlush(env);
    }

    /**
     * Sends a request and waits for its response of the expected type.
     *
     * @throws ErrorReply when the agent answered with an error
     */
    public <T extends Message> T call(Message.Request request, Class<T> type, Duration timeout)
            throws ErrorReply, TimeoutException, InterruptedException {
        Message m;
        try {
            m = send(request).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("request " + MessageCodec.typeOf(request) + " failed: " + e.getCause().getMessage(),
                    e.getCause());
        }
        if (m instanceof Message.Error err) {
            throw new ErrorReply(err.code(), err.message());
        }
        if (!type.isInstance(m)) {
            throw new IllegalStateException("expected " + type.getSimpleName() + " but the agent answered " + m);
        }
        return type.cast(m);
    }

    /** Completes when the connection closes. */
    public CompletableFuture<Void> closed() {
        return closed;
    }

    public boolean isOpen() {
        Channel c = channel;
        return c != null && c.isActive();
    }

    @Override
    public void close() {
        Channel c = channel;
        if (c != null) {
            c.close().syncUninterruptibly();
        }
    }
}

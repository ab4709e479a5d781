package io.gpuagent.devtools.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gpuagent.market.client.ClientStream;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.protocol.Message;
import io.gpuagent.util.NamedThreadFactory;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One browser WebSocket bridged to one stream of the session: a terminal ({@code /ws/terminal}, an
 * {@code exec} with a PTY) or the container's output ({@code /ws/logs}, {@code logs} with follow).
 * <pre>
 *   page to gateway   binary  bytes for the exec's stdin (terminal only)
 *                     text    {"type":"resize","cols":C,"rows":R}      the PTY's new size
 *   gateway to page   binary  the stream's output, as the agent sent it (UTF-8 may split between frames)
 *                     text    {"type":"opened","stream":N,"session":S,"cols":C,"rows":R}  once, first
 *                             {"type":"closed","reason":R,"exitCode":X,"message":M}   last, then a close frame
 *                             {"type":"error","message":M}        the agent refused the stream, then a close frame
 * </pre>
 * Flow control runs end to end: the agent's bytes are granted back only once the page's socket took
 * them (a slow browser stalls its own stream, not the link), and the page's socket stops being read
 * while {@value #HIGH} writes wait for the agent's window.
 */
final class StreamSocketBridge extends SimpleChannelInboundHandler<WebSocketFrame> {
    private static final Logger log = LoggerFactory.getLogger(StreamSocketBridge.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger BRIDGES = new AtomicInteger();
    /** Queued writes at which the page's socket stops being read, and below which it is read again. */
    static final int HIGH = 64;
    static final int LOW = 16;

    private final WebTerminalServer.Target target;
    private final Message.StreamOpen open;
    private final boolean acceptsInput;
    private final CompletableFuture<ClientStream> ready = new CompletableFuture<>();
    private final ExecutorService writer;
    private final AtomicInteger queued = new AtomicInteger();
    private volatile Channel channel;

    private StreamSocketBridge(WebTerminalServer.Target target, Message.StreamOpen open, boolean acceptsInput) {
        this.target = target;
        this.open = open;
        this.acceptsInput = acceptsInput;
        this.writer = Executors.newSingleThreadExecutor(new NamedThreadFactory("web-terminal-" + BRIDGES.incrementAndGet(), true));
    }

    /** A terminal: the gateway's command (or a login shell) with a PTY of the page's size. */
    static StreamSocketBridge terminal(WebTerminalServer.Target t, QueryStringDecoder uri) {
        SchedulerConnection c = t.conn();
        return new StreamSocketBridge(t, new Message.StreamOpen(t.session(), c.nextStreamNumber(), "exec", t.command(), true,
                param(uri, "cols", 80, 1, 1000), param(uri, "rows", 24, 1, 1000), null, null, null, null, null, null), true);
    }

    /** The container's output: the last {@code tail} lines (default 200), then as it is written. */
    static StreamSocketBridge logs(WebTerminalServer.Target t, QueryStringDecoder uri) {
        SchedulerConnection c = t.conn();
        return new StreamSocketBridge(t, new Message.StreamOpen(t.session(), c.nextStreamNumber(), "logs", null, null, null, null,
                null, null, param(uri, "tail", 200, 0, 100_000), true, null, null), false);
    }

    private static int param(QueryStringDecoder uri, String name, int dflt, int min, int max) {
        List<String> v = uri.parameters().get(name);
        if (v == null || v.isEmpty() || !v.get(0).matches("\\d{1,7}")) {
            return dflt;
        }
        return Math.max(min, Math.min(max, Integer.parseInt(v.get(0))));
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        target.conn().openStream(open, new Listener(), false).whenComplete((s, e) -> {
            if (e != null) {
                Throwable why = e.getCause() != null ? e.getCause() : e;
                log.warn("web terminal: the agent refused a {} stream into session {} for {}: {}", open.kind(), open.session(),
                        channel.remoteAddress(), why.getMessage());
                ready.completeExceptionally(why);
                ObjectNode m = JSON.createObjectNode().put("type", "error").put("message", why.getMessage());
                end(m, WebSocketCloseStatus.INTERNAL_SERVER_ERROR);
                return;
            }
            target.events().accept(open.kind() + " stream " + s.id() + " opened into session " + open.session() + " for "
                    + channel.remoteAddress());
            channel.writeAndFlush(new TextWebSocketFrame(JSON.createObjectNode().put("type", "opened").put("stream", s.id())
                    .put("session", open.session()).put("cols", open.cols()).put("rows", open.rows()).toString()));
            ready.complete(s);
            if (!channel.isActive()) {
                target.conn().send(new Message.StreamClose(s.id())); // the page left while the stream opened
            }
            s.closed().whenComplete((c, x) -> closed(s, c));
        });
    }

    private void closed(ClientStream s, Message.StreamClosed c) {
        target.events().accept(open.kind() + " stream " + s.id() + " of session " + open.session() + " closed: " + c.reason()
                + (c.exitCode() == null ? "" : " (exit code " + c.exitCode() + ")"));
        ObjectNode m = JSON.createObjectNode().put("type", "closed").put("reason", c.reason());
        if (c.exitCode() != null) {
            m.put("exitCode", c.exitCode());
        }
        if (c.message() != null) {
            m.put("message", c.message());
        }
        end(m, WebSocketCloseStatus.NORMAL_CLOSURE);
    }

    /** The last text message, then the close handshake; the writer thread ends with it. */
    private void end(ObjectNode last, WebSocketCloseStatus status) {
        Channel ch = channel;
        ch.writeAndFlush(new TextWebSocketFrame(last.toString()));
        ch.writeAndFlush(new CloseWebSocketFrame(status)).addListener(ChannelFutureListener.CLOSE);
        writer.shutdown();
    }

    /** The agent's bytes to the page; granted back once the page's socket has written them. */
    private final class Listener implements ClientStream.Listener {
        @Override
        public void data(int kind, byte[] bytes) throws IOException {
            Channel ch = channel;
            if (!ch.isActive()) {
                throw new IOException("the page's socket closed"); // ClientStream closes the stream
            }
            int n = bytes.length;
            ch.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes))).addListener(f -> {
                if (f.isSuccess()) {
                    ready.thenAccept(s -> s.grant(n));
                }
            });
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (frame instanceof BinaryWebSocketFrame && acceptsInput) {
            byte[] bytes = ByteBufUtil.getBytes(frame.content());
            submit(s -> s.write(bytes, target.timeout()));
        } else if (frame instanceof TextWebSocketFrame text) {
            JsonNode m;
            try {
                m = JSON.readTree(text.text());
            } catch (IOException e) {
                m = null;
            }
            if (m == null || !m.path("type").asText().equals("resize") || !m.path("cols").canConvertToInt()
                    || !m.path("rows").canConvertToInt() || !acceptsInput) {
                ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.INVALID_MESSAGE_TYPE,
                        "expected {\"type\":\"resize\",\"cols\":C,\"rows\":R}")).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            int cols = Math.max(1, Math.min(1000, m.get("cols").asInt()));
            int rows = Math.max(1, Math.min(1000, m.get("rows").asInt()));
            submit(s -> s.resize(cols, rows, target.timeout()));
        } else {
            ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.INVALID_MESSAGE_TYPE, "this socket takes no input"))
                    .addListener(ChannelFutureListener.CLOSE);
        }
    }

    private interface StreamTask {
        void run(ClientStream s) throws Exception;
    }

    /** Runs {@code task} on the writer thread once the stream is open; stops reading the page while too many wait. */
    private void submit(StreamTask task) {
        if (writer.isShutdown()) {
            return; // the stream has ended: late keystrokes go nowhere
        }
        if (queued.incrementAndGet() >= HIGH) {
            channel.config().setAutoRead(false);
        }
        try {
            writer.execute(() -> run(task));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            queued.decrementAndGet(); // the stream ended between the check and here
        }
    }

    private void run(StreamTask task) {
        try {
            task.run(ready.get(target.timeout().toMillis(), TimeUnit.MILLISECONDS));
        } catch (ExecutionException | IllegalStateException e) {
            // the open failed or the stream closed meanwhile: the page has been (or is being) told why
        } catch (TimeoutException e) {
            log.warn("web terminal: session {}: no open answer, or the agent's window stayed shut, for {} s; closing {}",
                    open.session(), target.timeout().toSeconds(), channel.remoteAddress());
            channel.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("web terminal: session {}: {} on its {} stream", open.session(), e.getMessage(), open.kind());
        } finally {
            if (queued.decrementAndGet() < LOW && !channel.config().isAutoRead()) {
                channel.config().setAutoRead(true);
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        // the page went away (tab closed, reload): end its stream too, so the shell does not linger
        try {
            writer.execute(() -> {
                ClientStream s = ready.getNow(null);
                if (s != null && !s.closed().isDone()) {
                    try {
                        s.close(target.timeout());
                    } catch (Exception e) {
                        log.debug("web terminal: closing stream {}: {}", s.id(), e.getMessage());
                    }
                }
            });
            writer.shutdown();
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the stream had ended already: nothing to close
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.warn("web terminal: {} on the page's socket {}; closing it", cause.toString(), ctx.channel().remoteAddress());
        ctx.close();
    }
}

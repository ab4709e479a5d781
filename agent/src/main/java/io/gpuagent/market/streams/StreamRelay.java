package io.gpuagent.market.streams;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;

/**
 * One open stream: the bytes between the scheduler connection and the stream's far end
 * ({@link Backend}), with a window in each direction (docs/protocol.md, "Flow control"). Runs on
 * the connection's event loop only (the far end is registered there too), so it holds no locks.
 *
 * <p>To the scheduler: the far end is read only while the scheduler's window has room and the
 * connection's data budget is not spent ({@link StreamMux#linkHasRoom}); what one read brought
 * beyond the window waits in {@link #queued} (at most one read, {@code ~64 KiB}), and the far end
 * is not read again until it has gone. A stream whose reader does not grant more simply stops:
 * the process in the container blocks on its write, and the agent holds one read's worth.
 *
 * <p>From the scheduler: DATA may not exceed the window the agent granted; bytes are written to
 * the far end and granted back once the far end's socket took them, so the agent holds at most
 * one window per stream. DATA beyond the window closes the stream ({@code window_exceeded}).
 */
final class StreamRelay {
    private final StreamMux mux;
    final long id;
    final String session;
    final String kind;
    private final long recvInitial;
    private Backend backend;
    private long sendWindow;
    private long recvWindow;
    private long ungranted;
    private int pendingWrites;
    private final ArrayDeque<StreamChunk> queued = new ArrayDeque<>();
    private boolean farEnded;
    private boolean schedulerEnded;
    private boolean eofSent;
    private boolean closed;
    long bytesIn;
    long bytesOut;
    long lastActivityNanos;

    StreamRelay(StreamMux mux, long id, String session, String kind, long sendWindow, long recvWindow, long now) {
        this.mux = mux;
        this.id = id;
        this.session = session;
        this.kind = kind;
        this.sendWindow = sendWindow;
        this.recvWindow = recvWindow;
        this.recvInitial = recvWindow;
        this.lastActivityNanos = now;
    }

    boolean closed() {
        return closed;
    }

    Backend backend() {
        return backend;
    }

    /** The far end is open: start relaying. */
    void attach(Backend b) {
        this.backend = b;
        Channel ch = b.channel();
        ch.pipeline().addLast("relay", new FarEnd());
        ParkingHandler parked = ch.pipeline().get(ParkingHandler.class);
        if (parked != null) {
            parked.release(ch.pipeline().context(parked));
        }
        if (!ch.isActive()) {
            farEnded();
        } else {
            updateFarRead();
        }
    }

    // ---- far end to scheduler ------------------------------------------------------------------

    private void fromFar(StreamChunk c) {
        if (closed) {
            c.data().release();
            return;
        }
        lastActivityNanos = mux.now();
        queued.add(c);
        pump();
    }

    /** Sends what the window and the connection's budget allow; then reads the far end again or not. */
    void pump() {
        if (closed) {
            return;
        }
        boolean wrote = false;
        while (!queued.isEmpty() && sendWindow > 0 && mux.linkHasRoom()) {
            StreamChunk head = queued.peek();
            ByteBuf data = head.data();
            int n = (int) Math.min(Math.min(data.readableBytes(), sendWindow), StreamLimits.MAX_CHUNK);
            if (n > 0) {
                mux.writeData(head.kind(), id, data.readRetainedSlice(n));
                wrote = true;
                sendWindow -= n;
                bytesOut += n;
                mux.stats().bytesOut(kind, n);
            }
            if (!data.isReadable()) {
                queued.poll().data().release();
            }
        }
        if (wrote) {
            mux.flush();
        }
        if (farEnded && queued.isEmpty() && !eofSent) {
            eofSent = true;
            mux.writeEof(id);
            mux.farDone(this);
        }
        updateFarRead();
    }

    private void updateFarRead() {
        if (backend == null || closed) {
            return;
        }
        boolean want = queued.isEmpty() && sendWindow > 0 && mux.linkHasRoom() && !farEnded;
        Channel ch = backend.channel();
        if (ch.config().isAutoRead() != want) {
            ch.config().setAutoRead(want);
        }
    }

    private void farEnded() {
        if (farEnded) {
            return;
        }
        farEnded = true;
        pump();
    }

    boolean farEndedAndSent() {
        return eofSent;
    }

    boolean schedulerEnded() {
        return schedulerEnded;
    }

    // ---- scheduler to far end ------------------------------------------------------------------

    /** A frame from the scheduler for this stream; takes ownership of it. */
    void fromScheduler(StreamFrame f) {
        try {
            if (closed) {
                return;
            }
            lastActivityNanos = mux.now();
            switch (f.kind()) {
                case StreamFrame.WINDOW -> {
                    sendWindow += f.increment();
                    if (sendWindow > 0x7FFF_FFFFL) {
                        mux.finish(this, "window_exceeded", null, "the scheduler's WINDOW frames granted more than 2^31-1 bytes");
                        return;
                    }
                    pump();
                }
                case StreamFrame.DATA -> data(f.data());
                case StreamFrame.EOF -> schedulerEof();
                default -> mux.finish(this, "invalid_frame", null, "a STDERR frame comes only from the agent");
            }
        } finally {
            f.release();
        }
    }

    private void data(ByteBuf data) {
        int n = data.readableBytes();
        if (!backend.acceptsInput() || schedulerEnded) {
            mux.finish(this, "invalid_frame", null, schedulerEnded ? "DATA after the scheduler's EOF"
                    : "a " + kind + " stream takes no input");
            return;
        }
        if (n > recvWindow) {
            mux.finish(this, "window_exceeded", null, n + " bytes of DATA with " + recvWindow + " left in the window");
            return;
        }
        if (n == 0) {
            return;
        }
        recvWindow -= n;
        bytesIn += n;
        mux.stats().bytesIn(kind, n);
        pendingWrites++;
        backend.channel().writeAndFlush(data.retain()).addListener(w -> {
            pendingWrites--;
            if (closed) {
                return;
            }
            if (!w.isSuccess()) {
                mux.finish(this, "engine_error", null, "writing to the " + kind + " failed: " + w.cause().getMessage());
                return;
            }
            ungranted += n;
            if (ungranted >= recvInitial / 4 || pendingWrites == 0) {
                recvWindow += ungranted;
                mux.writeWindow(id, ungranted);
                ungranted = 0;
            }
            if (pendingWrites == 0 && schedulerEnded) {
                shutdownFarInput();
            }
        });
    }

    private void schedulerEof() {
        if (schedulerEnded) {
            return;
        }
        schedulerEnded = true;
        if (pendingWrites == 0) {
            shutdownFarInput();
        }
    }

    private void shutdownFarInput() {
        Channel ch = backend.channel();
        if (ch instanceof DuplexChannel d && ch.isActive()) {
            d.shutdownOutput().addListener(f -> mux.schedulerDone(this));
        } else {
            mux.schedulerDone(this);
        }
    }

    /** Ends the stream: releases what waits, closes the far end. Called by the mux only. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        queued.forEach(c -> c.data().release());
        queued.clear();
        if (backend != null) {
            backend.channel().close();
        }
    }

    /** The relay's end of the far end's pipeline. */
    private final class FarEnd extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof StreamChunk c) {
                fromFar(c);
            } else if (msg instanceof ByteBuf b) {
                fromFar(new StreamChunk(StreamFrame.DATA, b));
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                farEnded();
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            farEnded();
            mux.farClosed(StreamRelay.this);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            mux.finish(StreamRelay.this, "engine_error", null, cause.toString());
        }
    }
}

package io.gpuagent.market.client;

import io.gpuagent.market.streams.StreamFrame;
import io.gpuagent.protocol.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The scheduler's end of one stream (docs/protocol.md, "Streams"): writes wait for the agent's
 * window, received data goes to a {@link Listener} and is granted back once the listener has
 * taken it (or when the caller says so, with {@code autoGrant} off: a slow reader).
 */
public final class ClientStream {
    /** Where a stream's bytes and its end go; called on the connection's I/O thread. */
    public interface Listener {
        /** @param kind {@link StreamFrame#DATA} or {@link StreamFrame#STDERR} */
        void data(int kind, byte[] bytes) throws java.io.IOException;

        default void eof() {
        }
    }

    private final SchedulerConnection conn;
    private final long id;
    private final Listener listener;
    private final boolean autoGrant;
    private final long receiveWindow;
    private final CompletableFuture<Message.StreamClosed> closed = new CompletableFuture<>();
    private long sendWindow;
    private long ungranted;
    private boolean eofReceived;
    private Message.StreamOpened opened;

    ClientStream(SchedulerConnection conn, long id, Listener listener, boolean autoGrant, long receiveWindow) {
        this.conn = conn;
        this.id = id;
        this.listener = listener;
        this.autoGrant = autoGrant;
        this.receiveWindow = receiveWindow;
    }

    public long id() {
        return id;
    }

    /** The agent's answer to the open (its window, whether the exec has a PTY). */
    public Message.StreamOpened opened() {
        return opened;
    }

    synchronized void opened(Message.StreamOpened o) {
        opened = o;
        sendWindow = o.window();
        notifyAll();
    }

    /** Completes with the agent's {@code stream.closed}. */
    public CompletableFuture<Message.StreamClosed> closed() {
        return closed;
    }

    void closedBy(Message.StreamClosed c) {
        synchronized (this) {
            notifyAll();
        }
        closed.complete(c);
    }

    void frame(StreamFrame f) {
        try {
            switch (f.kind()) {
                case StreamFrame.WINDOW -> {
                    synchronized (this) {
                        sendWindow += f.increment();
                        notifyAll();
                    }
                }
                case StreamFrame.EOF -> {
                    eofReceived = true;
                    listener.eof();
                }
                default -> {
                    byte[] bytes = new byte[f.data().readableBytes()];
                    f.data().readBytes(bytes);
                    try {
                        listener.data(f.kind(), bytes);
                    } catch (java.io.IOException e) {
                        // the listener's sink is gone (a closed terminal or socket): the stream is closed
                        conn.channel().writeAndFlush(io.gpuagent.protocol.MessageCodec.encode(
                                new Message.StreamClose(id), "close-" + id));
                        return;
                    }
                    if (autoGrant) {
                        grant(bytes.length);
                    }
                }
            }
        } finally {
            f.release();
        }
    }

    /** Grants the agent {@code bytes} more (with autoGrant off, as the caller consumes). */
    public void grant(long bytes) {
        long send;
        synchronized (this) {
            ungranted += bytes;
            if (ungranted < receiveWindow / 4) {
                return;
            }
            send = ungranted;
            ungranted = 0;
        }
        Channel ch = conn.channel();
        ch.writeAndFlush(StreamFrame.window(ch.alloc(), id, send));
    }

    /** Whether the agent's EOF arrived (its output ended). */
    public boolean eofReceived() {
        return eofReceived;
    }

    /**
     * Sends bytes (stdin, a tunnel's upstream), waiting for the agent's window as needed.
     *
     * @throws TimeoutException when the agent's window stayed shut for {@code timeout}
     */
    public void write(byte[] bytes, Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int off = 0;
        while (off < bytes.length) {
            int n;
            synchronized (this) {
                while (sendWindow <= 0 && !closed.isDone()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new TimeoutException("the agent's window on stream " + id + " stayed shut for " + timeout);
                    }
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                }
                if (closed.isDone()) {
                    throw new IllegalStateException("stream " + id + " is closed: " + closed.join().reason());
                }
                n = (int) Math.min(Math.min(sendWindow, bytes.length - off), 32 * 1024);
                sendWindow -= n;
            }
            Channel ch = conn.channel();
            ch.write(StreamFrame.header(ch.alloc(), StreamFrame.DATA, id, n));
            ch.writeAndFlush(Unpooled.wrappedBuffer(bytes, off, n));
            off += n;
        }
    }

    /** Sends raw data without regard to the window (tests of the agent's checks). */
    public void writeUnchecked(ByteBuf data) {
        Channel ch = conn.channel();
        ch.write(StreamFrame.header(ch.alloc(), StreamFrame.DATA, id, data.readableBytes()));
        ch.writeAndFlush(data);
    }

    /** Half-closes: no more data from this side (stdin EOF, a tunnel's write side). */
    public void eof() {
        Channel ch = conn.channel();
        ch.writeAndFlush(StreamFrame.eof(ch.alloc(), id));
    }

    /** Resizes the exec's PTY. */
    public void resize(int cols, int rows, Duration timeout) throws Exception {
        conn.call(new Message.StreamResize(id, cols, rows), Message.StreamAck.class, timeout);
    }

    /** Ends the stream both ways; waits for {@code stream.closed}. */
    public Message.StreamClosed close(Duration timeout) throws Exception {
        conn.call(new Message.StreamClose(id), Message.StreamAck.class, timeout);
        return closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}

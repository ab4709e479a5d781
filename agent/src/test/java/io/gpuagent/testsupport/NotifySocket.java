package io.gpuagent.testsupport;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real systemd-style notification socket (a unix datagram socket bound to a path) that records
 * every datagram, so tests see exactly what systemd would see. The JDK has no unix datagram
 * sockets; libc through JNA it is.
 */
public final class NotifySocket implements AutoCloseable {
    interface LibC extends Library {
        int socket(int domain, int type, int protocol);

        int bind(int fd, byte[] addr, int len);

        int setsockopt(int fd, int level, int name, long[] value, int len);

        NativeLong recv(int fd, byte[] buf, NativeLong len, int flags);

        int close(int fd);
    }

    private static final LibC C = Native.load("c", LibC.class);
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;

    private final Path path;
    private final int fd;
    private final List<String> messages = new CopyOnWriteArrayList<>();
    private final Thread reader;
    private volatile boolean open = true;

    public NotifySocket(Path path) {
        this.path = path;
        this.fd = C.socket(1, 2, 0);
        if (fd < 0) {
            throw new IllegalStateException("socket() failed: errno " + Native.getLastError());
        }
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        byte[] addr = new byte[110];
        addr[0] = 1;
        System.arraycopy(p, 0, addr, 2, p.length);
        if (C.bind(fd, addr, 2 + p.length + 1) != 0) {
            throw new IllegalStateException("bind(" + path + ") failed: errno " + Native.getLastError());
        }
        C.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, new long[] {0, 100_000}, 16);
        reader = new Thread(this::read, "test-notify-socket");
        reader.setDaemon(true);
        reader.start();
    }

    private void read() {
        byte[] buf = new byte[4096];
        while (open) {
            long n = C.recv(fd, buf, new NativeLong(buf.length), 0).longValue();
            if (n > 0) {
                messages.add(new String(buf, 0, (int) n, StandardCharsets.UTF_8));
            }
        }
    }

    public Path path() {
        return path;
    }

    /** Every datagram received so far, in order. */
    public List<String> messages() {
        return List.copyOf(messages);
    }

    public boolean received(String line) {
        return messages.stream().anyMatch(m -> m.lines().anyMatch(l -> l.equals(line) || l.startsWith(line)));
    }

    @Override
    public void close() {
        open = false;
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        C.close(fd);
    }
}

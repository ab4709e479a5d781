package io.gpuagent.daemon.systemd;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * The {@code sd_notify} protocol without libsystemd: a datagram to the unix socket named by
 * {@code $NOTIFY_SOCKET} (a path, or an abstract name starting with {@code @}). The JDK has no
 * unix datagram sockets, so the datagram goes through libc via JNA. Without
 * {@code NOTIFY_SOCKET} (not started by systemd) every call is a no-op.
 */
public final class SystemdNotifier {
    private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int SUN_PATH_MAX = 108;

    /** The few libc calls needed. */
    interface LibC extends Library {
        int socket(int domain, int type, int protocol);

        NativeLong sendto(int fd, byte[] buf, NativeLong len, int flags, byte[] addr, int addrlen);

        int close(int fd);
    }

    private final String socket;
    private volatile LibC libc;
    /** Consecutive failed sends: only the first is logged as a warning, so a vanished socket cannot flood the log. */
    private int failures;

    public SystemdNotifier(String notifySocket) {
        this.socket = notifySocket == null || notifySocket.isEmpty() ? null : notifySocket;
    }

    /** From the environment systemd gave us. */
    public static SystemdNotifier fromEnvironment() {
        return new SystemdNotifier(System.getenv("NOTIFY_SOCKET"));
    }

    public boolean enabled() {
        return socket != null;
    }

    public boolean ready(String status) {
        return send("READY=1\nSTATUS=" + status);
    }

    public boolean status(String status) {
        return send("STATUS=" + status);
    }

    public boolean watchdog() {
        return send("WATCHDOG=1");
    }

    public boolean stopping(String status) {
        return send("STOPPING=1\nSTATUS=" + status);
    }

    /**
     * Sends one notification.
     *
     * @return true when sent; false when not under systemd or the send failed (logged)
     */
    public synchronized boolean send(String message) {
        if (socket == null) {
            return false;
        }
        if (socket.length() >= SUN_PATH_MAX || !(socket.startsWith("/") || socket.startsWith("@"))) {
            log.warn("NOTIFY_SOCKET={} is not a usable unix socket address; not notifying systemd", socket);
            return false;
        }
        if (libc == null) {
            libc = Native.load("c", LibC.class);
        }
        byte[] path = socket.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = path[0] == '@';
        byte[] addr = new byte[2 + SUN_PATH_MAX];
        addr[0] = (byte) AF_UNIX; // sa_family_t, little-endian on x86-64 and arm64
        System.arraycopy(path, 0, addr, 2, path.length);
        if (abstractName) {
            addr[2] = 0;
        }
        int addrLen = 2 + path.length + (abstractName ? 0 : 1);
        int fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            log.warn("sd_notify: socket() failed (errno {})", Native.getLastError());
            return false;
        }
        try {
            byte[] msg = message.getBytes(StandardCharsets.UTF_8);
            long sent = libc.sendto(fd, msg, new NativeLong(msg.length), MSG_NOSIGNAL, addr, addrLen).longValue();
            if (sent != msg.length) {
                int errno = Native.getLastError();
                if (failures++ == 0) {
                    log.warn("sd_notify to {} failed (errno {}); further failures are logged at debug", socket, errno);
                } else {
                    log.debug("sd_notify to {} failed again (errno {}, {} in a row)", socket, errno, failures);
                }
                return false;
            }
            if (failures > 0) {
                log.info("sd_notify to {} works again after {} failures", socket, failures);
                failures = 0;
            }
            return true;
        } finally {
            libc.close(fd);
        }
    }
}

package io.gpuagent.daemon;

import io.gpuagent.session.SessionCore;
import io.gpuagent.util.OwnerOnlyFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The owner's control channel to the running daemon: a unix stream socket,
 * {@code <agent.state_dir>/control.sock}, mode 0600 (only the agent's user and root can use it;
 * unlike the metrics endpoint it can change what the agent does). One request line, one answer
 * line: {@code drain} / {@code undrain} answer {@code ok draining|taking sessions}; anything
 * else {@code error unknown command}. Thread {@code gpu-agent-control}.
 */
public final class ControlSocket implements AutoCloseable {
    /** The socket's file name in {@code agent.state_dir}. */
    public static final String FILE = "control.sock";
    private static final Logger log = LoggerFactory.getLogger(ControlSocket.class);

    private final Path path;
    private final ServerSocketChannel server;
    private final Thread thread;
    private final SessionCore sessions;

    private ControlSocket(Path path, ServerSocketChannel server, SessionCore sessions) {
        this.path = path;
        this.server = server;
        this.sessions = sessions;
        this.thread = new Thread(this::serve, "gpu-agent-control");
        this.thread.setDaemon(true);
    }

    static ControlSocket start(Path stateDir, SessionCore sessions) throws IOException {
        OwnerOnlyFiles.createDirectories(stateDir);
        Path path = stateDir.resolve(FILE);
        Files.deleteIfExists(path); // a stale socket from a killed agent
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        // bind(2) makes the socket 0777 & ~umask (0755 under umask 022: connecting needs write, so
        // still the owner's only); 0600 right after. No one else can reach it even in between: the
        // state directory is 0700
        Files.setPosixFilePermissions(path, OwnerOnlyFiles.FILE_MODE);
        ControlSocket c = new ControlSocket(path, server, sessions);
        c.thread.start();
        log.info("control socket {} (gpu-agent drain / undrain)", path);
        return c;
    }

    private void serve() {
        while (server.isOpen()) {
            try (SocketChannel ch = server.accept()) {
                String command = readLine(ch);
                String answer = switch (command) {
                    case "drain" -> {
                        sessions.drain(true);
                        yield "ok draining: no new sessions; running ones continue";
                    }
                    case "undrain" -> {
                        sessions.drain(false);
                        yield "ok taking sessions";
                    }
                    case "status" -> "ok " + (sessions.draining() ? "draining" : "taking sessions");
                    default -> "error unknown command " + command.replaceAll("[^ -~]", "?");
                };
                ch.write(ByteBuffer.wrap((answer + "\n").getBytes(StandardCharsets.UTF_8)));
            } catch (IOException e) {
                if (server.isOpen()) {
                    log.debug("control connection failed: {}", e.toString());
                }
            }
        }
    }

    /** Reads one line of at most 256 bytes. */
    static String readLine(SocketChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(256);
        while (buf.hasRemaining()) {
            if (ch.read(buf) < 0) {
                break;
            }
            int end = buf.position();
            for (int i = 0; i < end; i++) {
                if (buf.get(i) == '\n') {
                    return new String(buf.array(), 0, i, StandardCharsets.UTF_8).trim();
                }
            }
        }
        return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).trim();
    }

    /** Sends a command to a running daemon; returns its answer line. */
    public static String send(Path stateDir, String command) throws IOException {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(stateDir.resolve(FILE)))) {
            ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
            return readLine(ch);
        }
    }

    /** Stops serving and removes the socket file. */
    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.debug("closing the control socket: {}", e.toString());
        }
    }
}

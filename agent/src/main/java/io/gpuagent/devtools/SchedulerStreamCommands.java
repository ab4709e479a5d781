package io.gpuagent.devtools;

import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.market.client.ClientStream;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.market.streams.StreamFrame;
import io.gpuagent.protocol.Message;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code gpu-agent scheduler exec | tunnel | logs}: the developer's way into a session over the
 * scheduler link (docs/streams.md), as {@code docker exec -it}, {@code ssh -L} and
 * {@code docker logs -f} are: nothing of the container is published on the agent's host.
 */
final class SchedulerStreamCommands {
    private SchedulerStreamCommands() {
    }

    /** Opens a stream, mapping the agent's refusal to an exit. */
    static ClientStream open(SchedulerCommand.Session s, Message.StreamOpen open, ClientStream.Listener l, Duration timeout)
            throws SchedulerCommand.Exit, InterruptedException {
        if (!s.welcome.capabilities().contains("streams")) {
            throw new SchedulerCommand.Exit(SchedulerCommand.REFUSED, "the agent offers no streams (market.streams = false, "
                    + "sessions disabled, or an agent older than streams)");
        }
        try {
            return s.conn.openStream(open, l, true).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw new SchedulerCommand.Exit(SchedulerCommand.REFUSED, "the agent refused the stream: " + c.getMessage());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new SchedulerCommand.Exit(ExitCodes.UNREACHABLE, "no answer to stream.open within " + timeout.toSeconds() + " s");
        }
    }

    /** A stream's stdout to ours, its stderr to ours. */
    static void toConsole(int kind, byte[] bytes) {
        java.io.PrintStream o = kind == StreamFrame.STDERR ? System.err : System.out;
        o.write(bytes, 0, bytes.length);
        o.flush();
    }

    /** Copies an input stream into a stream until its end, then half-closes. */
    static Thread pump(InputStream in, ClientStream stream, String name) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    if (n > 0) {
                        stream.write(java.util.Arrays.copyOf(buf, n), Duration.ofDays(1));
                    }
                }
                stream.eof();
            } catch (IOException | java.util.concurrent.TimeoutException | IllegalStateException e) {
                // the stream or the socket ended: the other direction reports it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Runs {@code stty} on the controlling terminal; null when there is none. */
    private static String stty(String... args) {
        List<String> cmd = new ArrayList<>(List.of("stty"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectInput(new java.io.File("/dev/tty")).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Command(name = "exec", mixinStandardHelpOptions = true,
            description = {"Run a command, or a login shell, in a running session's container (like docker exec -it).",
                "With a terminal on both ends the local terminal is put in raw mode and the PTY gets its size at the start; "
                    + "the exit code is the command's."})
    static final class Exec implements java.util.concurrent.Callable<Integer> {
        @CommandLine.Mixin
        SchedulerCommand.Link link = new SchedulerCommand.Link();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Parameters(index = "0", paramLabel = "SESSION")
        String session;

        @CommandLine.Parameters(index = "1..*", paramLabel = "COMMAND", description = "absent: a login shell")
        List<String> command = new ArrayList<>();

        @CommandLine.Option(names = {"-t", "--tty"}, negatable = true,
                description = "a PTY (default: when stdin is a terminal)")
        Boolean tty;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            boolean local = System.console() != null;
            boolean pty = tty != null ? tty : local;
            Integer cols = null;
            Integer rows = null;
            String size = pty && local ? stty("size") : null;
            if (size != null && size.matches("\\d+ \\d+")) {
                rows = Math.max(1, Math.min(1000, Integer.parseInt(size.split(" ")[0])));
                cols = Math.max(1, Math.min(1000, Integer.parseInt(size.split(" ")[1])));
            }
            String saved = pty && local ? stty("-g") : null;
            try (SchedulerCommand.Session s = SchedulerCommand.open(link, m -> { })) {
                ClientStream.Listener sink = SchedulerStreamCommands::toConsole;
                Message.StreamOpen open = new Message.StreamOpen(session, s.conn.nextStreamNumber(), "exec", command, pty,
                        cols, rows, null, null, null, null, null, null);
                ClientStream stream = open(s, open, sink, link.timeout());
                if (saved != null) {
                    stty("raw", "-echo");
                }
                pump(System.in, stream, "gpu-agent-exec-stdin");
                Message.StreamClosed end = stream.closed().get();
                if (!end.reason().equals("exited")) {
                    err.println("gpu-agent: the stream ended: " + end.reason() + (end.message() == null ? "" : ": " + end.message()));
                    return SchedulerCommand.REFUSED;
                }
                return end.exitCode() == null ? 0 : end.exitCode();
            } catch (SchedulerCommand.Exit e) {
                err.println("gpu-agent: " + e.getMessage());
                return e.code;
            } finally {
                if (saved != null) {
                    stty(saved);
                }
            }
        }
    }

    @Command(name = "tunnel", mixinStandardHelpOptions = true,
            description = {"Forward a local TCP port to a port of a running session's container (like ssh -L), "
                + "over the scheduler link: nothing is published on the agent's host. Runs until interrupted."})
    static final class Tunnel implements java.util.concurrent.Callable<Integer> {
        @CommandLine.Mixin
        SchedulerCommand.Link link = new SchedulerCommand.Link();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Parameters(index = "0", paramLabel = "SESSION")
        String session;

        @CommandLine.Parameters(index = "1", paramLabel = "PORT", description = "the container's port")
        int port;

        @CommandLine.Option(names = "--local", paramLabel = "PORT", description = "the local port on 127.0.0.1 "
                + "(default: the container's; 0: any free one)")
        Integer localPort;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            try (SchedulerCommand.Session s = SchedulerCommand.open(link, m -> { });
                 ServerSocket server = new ServerSocket(localPort == null ? port : localPort, 50, InetAddress.getLoopbackAddress())) {
                err.println("forwarding 127.0.0.1:" + server.getLocalPort() + " -> session " + session + " port " + port);
                err.flush();
                while (s.conn.isOpen()) {
                    Socket local = server.accept();
                    local.setTcpNoDelay(true);
                    OutputStream toLocal = local.getOutputStream();
                    ClientStream.Listener sink = new ClientStream.Listener() {
                        @Override
                        public void data(int kind, byte[] bytes) {
                            try {
                                toLocal.write(bytes);
                                toLocal.flush();
                            } catch (IOException e) {
                                closeQuietly(local);
                            }
                        }

                        @Override
                        public void eof() {
                            try {
                                local.shutdownOutput();
                            } catch (IOException e) {
                                closeQuietly(local);
                            }
                        }
                    };
                    try {
                        ClientStream stream = open(s, new Message.StreamOpen(session, s.conn.nextStreamNumber(), "tunnel",
                                null, null, null, null, null, port, null, null, null, null), sink, link.timeout());
                        pump(local.getInputStream(), stream, "gpu-agent-tunnel-" + stream.id());
                        stream.closed().whenComplete((c, x) -> closeQuietly(local));
                    } catch (SchedulerCommand.Exit e) {
                        err.println("gpu-agent: " + e.getMessage());
                        err.flush();
                        closeQuietly(local);
                    }
                }
                return ExitCodes.UNREACHABLE;
            } catch (SchedulerCommand.Exit e) {
                err.println("gpu-agent: " + e.getMessage());
                return e.code;
            }
        }

        private static void closeQuietly(Socket s) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing a socket that failed: nothing left to do
            }
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true,
            description = "Print a running session's container output, stdout to stdout and stderr to stderr.")
    static final class Logs implements java.util.concurrent.Callable<Integer> {
        @CommandLine.Mixin
        SchedulerCommand.Link link = new SchedulerCommand.Link();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Parameters(index = "0", paramLabel = "SESSION")
        String session;

        @CommandLine.Option(names = "--tail", paramLabel = "LINES", description = "the last LINES lines (default: all)")
        Integer tail;

        @CommandLine.Option(names = {"-f", "--follow"}, description = "keep printing as the container writes")
        boolean follow;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            try (SchedulerCommand.Session s = SchedulerCommand.open(link, m -> { })) {
                ClientStream.Listener sink = SchedulerStreamCommands::toConsole;
                ClientStream stream = open(s, new Message.StreamOpen(session, s.conn.nextStreamNumber(), "logs", null, null,
                        null, null, null, null, tail, follow, null, null), sink, link.timeout());
                Message.StreamClosed end = stream.closed().get();
                return end.reason().equals("eof") || end.reason().equals("session_ended") ? ExitCodes.OK : SchedulerCommand.REFUSED;
            } catch (SchedulerCommand.Exit e) {
                err.println("gpu-agent: " + e.getMessage());
                return e.code;
            }
        }
    }
}

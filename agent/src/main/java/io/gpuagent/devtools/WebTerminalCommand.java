package io.gpuagent.devtools;

import io.gpuagent.config.ConfigException;
import io.gpuagent.config.HostPort;
import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.devtools.web.WebTerminalAssets;
import io.gpuagent.devtools.web.WebTerminalServer;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code gpu-agent web-terminal}: the reference web terminal (docs/web-terminal.md). Plays the
 * scheduler toward one agent (it connects, or with {@code --listen} waits for an agent that dials
 * out, as {@code gpu-agent scheduler} does) and serves a page with xterm.js whose keystrokes,
 * resizes and tunnelled HTTP requests go into one session's container as {@code exec},
 * {@code logs} and {@code tunnel} streams. It has no renter authentication: it binds loopback by
 * default and is a model to copy, not a service to expose.
 */
@Command(name = "web-terminal", mixinStandardHelpOptions = true,
        description = {"Serve a browser terminal into one session (xterm.js over a WebSocket, bridged to an exec stream "
                + "with a PTY), its logs, and /tunnel/PORT/... proxied to the container's ports (docs/web-terminal.md).",
            "A reference for marketplaces: it has no renter authentication, so keep --http on loopback.",
            "Exit codes: 2 bad option, 3 TLS files unusable or xterm.js missing, 7 agent unreachable or gone, "
                + "8 the agent refused (no streams)."})
final class WebTerminalCommand implements Callable<Integer> {
    @CommandLine.Mixin
    SchedulerCommand.Link link = new SchedulerCommand.Link();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--http", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8088",
            description = "where the page is served (default: ${DEFAULT-VALUE}; port 0: any free one)")
    String http;

    @CommandLine.Option(names = "--session", paramLabel = "ID", required = true,
            description = "the one session every terminal, log view and tunnel of this gateway enters")
    String session;

    @CommandLine.Option(names = "--assets", paramLabel = "DIR",
            description = "serve the page from DIR (index.html, terminal.js, terminal.css, vendor/) instead of the jar")
    Path assetsDir;

    @CommandLine.Parameters(paramLabel = "COMMAND", description = "what each terminal runs (default: a login shell)")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        WebTerminalAssets assets = new WebTerminalAssets(assetsDir);
        if (assets.find("/" + WebTerminalAssets.XTERM) == null) {
            err.println("gpu-agent: xterm.js is not in " + assets.origin() + " (" + WebTerminalAssets.XTERM + "): build the jar "
                    + "with npm on the PATH (scripts/web-terminal-assets.sh copies it in) or pass --assets");
            return ExitCodes.CONFIG;
        }
        HostPort at;
        try {
            at = HostPort.parse("--http", http);
        } catch (ConfigException e) {
            err.println("gpu-agent: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        if (!at.isLoopback()) {
            err.println("gpu-agent: warning: --http " + http + " is not loopback; this reference gateway lets anyone who "
                    + "reaches it into session " + session + " (docs/web-terminal.md, \"production\")");
        }
        try (SchedulerCommand.Session s = SchedulerCommand.open(link, m -> { })) {
            if (!s.welcome.capabilities().contains("streams")) {
                err.println("gpu-agent: the agent offers no streams (market.streams = false, sessions disabled, or an agent "
                        + "older than streams)");
                return ExitCodes.REFUSED;
            }
            WebTerminalServer.Target target = new WebTerminalServer.Target(s.conn, session, List.copyOf(command), link.timeout(),
                    line -> {
                        synchronized (err) {
                            err.println("web terminal: " + line);
                            err.flush();
                        }
                    });
            WebTerminalServer started;
            try {
                started = WebTerminalServer.start(at.socketAddress(), target, assets);
            } catch (Exception e) {
                if (!(e instanceof java.net.SocketException)) {
                    throw e;
                }
                // Netty rethrows the bind's checked exception as it is
                err.println("gpu-agent: cannot serve on --http " + http + ": " + e.getMessage());
                return ExitCodes.USAGE;
            }
            try (WebTerminalServer server = started) {
                java.net.InetSocketAddress bound = server.localAddress();
                // the first line on stderr, read by scripts and the integration test
                err.println("web terminal on http://" + bound.getHostString() + ":" + bound.getPort() + "/ for session "
                        + session + " (agent " + s.conn.channel().remoteAddress() + ", page from " + assets.origin() + ")");
                err.flush();
                s.conn.closed().join();
                err.println("gpu-agent: the connection to the agent closed");
                return ExitCodes.UNREACHABLE;
            }
        } catch (SchedulerCommand.Exit e) {
            err.println("gpu-agent: " + e.getMessage());
            return e.code;
        }
    }
}

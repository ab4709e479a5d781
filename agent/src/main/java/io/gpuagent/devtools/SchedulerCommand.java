package io.gpuagent.devtools;

import io.gpuagent.cli.CommandSupport;
import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigException;
import io.gpuagent.config.HostPort;
import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.market.netty.TlsContexts;
import io.gpuagent.market.tls.TlsSettings;
import io.gpuagent.market.tls.TlsSetupException;
import io.gpuagent.protocol.EnvelopeCodec;
import io.gpuagent.protocol.Message;
import io.gpuagent.protocol.MessageCodec;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code gpu-agent scheduler}: a developer's scheduler on the Java client. Connects to an agent
 * (or, with {@code --listen}, waits for one that dials out), says hello with a fresh challenge,
 * runs one command and prints every message as one JSON line, the wire form of docs/protocol.md.
 */
@Command(name = "scheduler", mixinStandardHelpOptions = true,
        description = {"Play the marketplace scheduler against an agent: print its offer, launch, stop, list and "
                + "follow sessions; a shell in a session (exec), a port forward (tunnel), its logs. Messages are printed one JSON object per line, as on the wire (docs/protocol.md).",
            "TLS by default, with the scheduler certificate from `gpu-agent tls init` (--tls-dir, default "
                + "<agent.state_dir>/tls); --plaintext for an agent configured with market.plaintext = true.",
            "Exit codes: 0 ok, 2 bad option, 3 TLS files unusable, 7 agent unreachable, 8 the agent answered an error."},
        subcommands = {SchedulerCommand.Offer.class, SchedulerCommand.ListSessions.class, SchedulerCommand.Status.class,
                SchedulerCommand.Launch.class, SchedulerCommand.Stop.class, SchedulerCommand.Follow.class,
                SchedulerStreamCommands.Exec.class, SchedulerStreamCommands.Tunnel.class, SchedulerStreamCommands.Logs.class,
                CommandLine.HelpCommand.class})
final class SchedulerCommand implements Runnable {
    static final int REFUSED = ExitCodes.REFUSED;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "a scheduler command is required (offer, list, status, launch, stop, follow, exec, tunnel, logs)");
    }

    /** How to reach the agent; mixed into every subcommand. */
    static final class Link {
        @CommandLine.Mixin
        CommandSupport.ConfigOptions options = new CommandSupport.ConfigOptions();

        @CommandLine.Option(names = "--connect", paramLabel = "HOST:PORT",
                description = "the agent's market.listen address (default: market.listen from the config, "
                        + "with a wildcard address read as loopback)")
        String connect;

        @CommandLine.Option(names = "--listen", paramLabel = "HOST:PORT",
                description = "instead of connecting: wait on this address for an agent that dials out (market.dial)")
        String listen;

        @CommandLine.Option(names = "--plaintext", description = "no TLS (the agent must have market.plaintext = true)")
        boolean plaintext;

        @CommandLine.Option(names = "--tls-dir", paramLabel = "DIR",
                description = "scheduler.pem, scheduler-key.pem and ca.pem from `gpu-agent tls init` "
                        + "(default: <agent.state_dir>/tls)")
        Path tlsDir;

        @CommandLine.Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
                description = "how long to wait for the agent (default: ${DEFAULT-VALUE})")
        long timeoutSeconds;

        Duration timeout() {
            return Duration.ofSeconds(timeoutSeconds);
        }
    }

    /** One connected, welcomed scheduler session; closes everything on close. */
    static final class Session implements AutoCloseable {
        final SchedulerClient client;
        final SchedulerConnection conn;
        final Message.Welcome welcome;
        final List<Message> early = new ArrayList<>();

        private Session(SchedulerClient client, SchedulerConnection conn, Message.Welcome welcome) {
            this.client = client;
            this.conn = conn;
            this.welcome = welcome;
        }

        @Override
        public void close() {
            conn.close();
            client.close();
        }
    }

    /** Thrown to end a command with an exit code after printing why. */
    static final class Exit extends Exception {
        final int code;

        Exit(int code, String message) {
            super(message);
            this.code = code;
        }
    }

    static Session open(Link link, java.util.function.Consumer<Message> events) throws Exit, InterruptedException {
        AgentConfig config;
        try {
            config = link.options.load();
        } catch (ConfigException e) {
            throw new Exit(ExitCodes.CONFIG, "configuration error: " + e.getMessage());
        }
        TlsContexts tls = null;
        if (!link.plaintext) {
            Path dir = link.tlsDir != null ? link.tlsDir : Path.of(config.agent().stateDir(), "tls");
            try {
                TlsSettings s = TlsSettings.load(dir.resolve("scheduler.pem"), dir.resolve("scheduler-key.pem"),
                        dir.resolve("ca.pem"), List.of(), config.market().handshakeTimeoutMs(), Instant.now());
                tls = link.listen != null ? TlsContexts.marketplace(s) : TlsContexts.scheduler(s);
            } catch (TlsSetupException e) {
                throw new Exit(ExitCodes.CONFIG, e.getMessage() + " (create the files with `gpu-agent tls init`, "
                        + "point --tls-dir at them, or use --plaintext for a plaintext agent)");
            } catch (javax.net.ssl.SSLException e) {
                throw new Exit(ExitCodes.CONFIG, "TLS setup failed: " + e.getMessage());
            }
        }
        SchedulerClient client = new SchedulerClient(tls);
        SchedulerConnection conn;
        try {
            if (link.listen != null) {
                java.util.concurrent.BlockingQueue<SchedulerConnection> q = new java.util.concurrent.LinkedBlockingQueue<>();
                InetSocketAddress at = client.listen(address("--listen", link.listen), q::add);
                System.err.println("waiting for an agent to dial " + at.getHostString() + ":" + at.getPort() + " ...");
                conn = q.poll(link.timeoutSeconds, TimeUnit.SECONDS);
                client.stopListening();
                if (conn == null) {
                    client.close();
                    throw new Exit(ExitCodes.UNREACHABLE, "no agent dialed in within " + link.timeoutSeconds + " s");
                }
            } else {
                if (link.connect == null && config.market().listen().isEmpty()) {
                    client.close();
                    throw new Exit(ExitCodes.USAGE, "no agent address: pass --connect HOST:PORT (market.listen is empty)");
                }
                conn = client.connect(link.connect != null ? address("--connect", link.connect)
                        : address("market.listen", config.market().listen()));
            }
        } catch (InterruptedException | Exit e) {
            client.close();
            throw e;
        } catch (Exception e) {
            // connect refused, or the TLS handshake failed (Netty rethrows its checked cause)
            client.close();
            throw new Exit(ExitCodes.UNREACHABLE, "cannot reach the agent: " + e
                    + (e instanceof javax.net.ssl.SSLException ? " (is ca.pem in --tls-dir the CA that signed the agent's "
                    + "certificate?)" : ""));
        }
        conn.onEvent(events::accept);
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        try {
            Message.Welcome w = conn.call(new Message.Hello(List.of(1), "gpu-agent scheduler", HexFormat.of().formatHex(challenge),
                    List.of("events", "streams")), Message.Welcome.class, link.timeout());
            return new Session(client, conn, w);
        } catch (SchedulerConnection.ErrorReply e) {
            conn.close();
            client.close();
            throw new Exit(REFUSED, "the agent refused hello: " + e.getMessage());
        } catch (java.util.concurrent.TimeoutException | IllegalStateException e) {
            conn.close();
            client.close();
            throw new Exit(ExitCodes.UNREACHABLE, "the agent did not answer hello: " + e.getMessage()
                    + (link.plaintext ? "" : " (a TLS agent refuses a scheduler whose certificate its CA did not sign)"));
        }
    }

    private static InetSocketAddress address(String option, String value) throws Exit {
        try {
            return HostPort.parse(option, value).dialable().socketAddress();
        } catch (ConfigException e) {
            throw new Exit(ExitCodes.USAGE, e.getMessage());
        }
    }

    static String json(Message m) {
        return new String(EnvelopeCodec.encode(MessageCodec.encode(m, null)), StandardCharsets.UTF_8);
    }

    /** Base of the one-request commands: connect, hello, one call, print. */
    abstract static class OneCall implements Callable<Integer> {
        @CommandLine.Mixin
        Link link = new Link();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        abstract Message.Request request() throws Exit;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try (Session s = open(link, m -> { })) {
                Message reply = s.conn.send(request()).get(link.timeoutSeconds, TimeUnit.SECONDS);
                out.println(json(reply));
                out.flush();
                if (reply instanceof Message.Error e) {
                    err.println("gpu-agent: the agent refused: " + e.code() + ": " + e.message());
                    return REFUSED;
                }
                return ExitCodes.OK;
            } catch (Exit e) {
                err.println("gpu-agent: " + e.getMessage());
                return e.code;
            } catch (java.util.concurrent.TimeoutException e) {
                err.println("gpu-agent: no answer within " + link.timeoutSeconds + " s");
                return ExitCodes.UNREACHABLE;
            }
        }
    }

    @Command(name = "offer", mixinStandardHelpOptions = true, description = "Print the agent's offer.")
    static final class Offer extends OneCall {
        @Override
        Message.Request request() {
            return new Message.GetOffer();
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Print every session the agent holds.")
    static final class ListSessions extends OneCall {
        @Override
        Message.Request request() {
            return new Message.ListSessions();
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Print one session.")
    static final class Status extends OneCall {
        @CommandLine.Parameters(paramLabel = "SESSION")
        String session;

        @Override
        Message.Request request() {
            return new Message.Status(session);
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop a session (idempotent).")
    static final class Stop extends OneCall {
        @CommandLine.Parameters(paramLabel = "SESSION")
        String session;

        @CommandLine.Option(names = "--reason", paramLabel = "TEXT", defaultValue = "stopped_by_scheduler")
        String reason;

        @Override
        Message.Request request() {
            return new Message.Stop(session, reason);
        }
    }

    @Command(name = "launch", mixinStandardHelpOptions = true,
            description = "Launch a session (idempotent by --session); the command to run follows `--`.")
    static final class Launch extends OneCall {
        @CommandLine.Option(names = "--session", required = true, paramLabel = "ID")
        String session;

        @CommandLine.Option(names = "--rental", paramLabel = "ID", description = "the escrow rental paying (default: the session id)")
        String rental;

        @CommandLine.Option(names = "--renter", paramLabel = "ADDRESS", defaultValue = "")
        String renter;

        @CommandLine.Option(names = "--gpus", paramLabel = "N", defaultValue = "1")
        int gpus;

        @CommandLine.Option(names = "--gpu", paramLabel = "UUID",
                description = "an exact unit, a GPU-... or MIG-... UUID from the offer's units (repeatable; overrides --gpus)")
        List<String> gpuUuids = new ArrayList<>();

        @CommandLine.Option(names = "--mig-profile", paramLabel = "PROFILE",
                description = "one MIG instance of this profile, e.g. 1g.10gb (instead of --gpus and --gpu)")
        String migProfile;

        @CommandLine.Option(names = "--topology", paramLabel = "WISH",
                description = "for --gpus > 1: any, prefer (the agent's default) or nvlink")
        String topology;

        @CommandLine.Option(names = "--image", required = true, paramLabel = "IMAGE")
        String image;

        @CommandLine.Option(names = "--env", paramLabel = "NAME=VALUE", description = "repeatable")
        Map<String, String> env = new LinkedHashMap<>();

        @CommandLine.Option(names = "--port", paramLabel = "PORT", description = "a container port to publish (repeatable)")
        List<Integer> ports = new ArrayList<>();

        @CommandLine.Option(names = "--ssh-key-file", paramLabel = "FILE", description = "an OpenSSH public key file")
        Path sshKeyFile;

        @CommandLine.Option(names = "--price", required = true, paramLabel = "BASE_UNITS",
                description = "the agreed price per second for the whole session, in token base units")
        String price;

        @CommandLine.Option(names = "--max-duration", paramLabel = "SECONDS", defaultValue = "3600")
        long maxDuration;

        @CommandLine.Parameters(paramLabel = "COMMAND", description = "the container's command (after --)")
        List<String> command = new ArrayList<>();

        @Override
        Message.Request request() throws Exit {
            String key = null;
            if (sshKeyFile != null) {
                try {
                    key = Files.readString(sshKeyFile).trim();
                } catch (IOException e) {
                    throw new Exit(ExitCodes.USAGE, "cannot read --ssh-key-file " + sshKeyFile + ": " + e.getMessage());
                }
            }
            try {
                return new Message.Launch(session, rental != null ? rental : session, renter,
                        gpuUuids.isEmpty() && migProfile == null ? gpus : null, gpuUuids, image, command, env, ports, key,
                        price, maxDuration, migProfile, topology);
            } catch (IllegalArgumentException e) {
                throw new Exit(ExitCodes.USAGE, "launch: " + e.getMessage());
            }
        }
    }

    @Command(name = "follow", mixinStandardHelpOptions = true,
            description = "Print every event the agent pushes (offers, session states and usage, GPU health, drain, "
                    + "claims) until interrupted or --for elapses.")
    static final class Follow implements Callable<Integer> {
        @CommandLine.Mixin
        Link link = new Link();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Option(names = "--for", paramLabel = "SECONDS", description = "stop after this long (default: until Ctrl-C)")
        Long forSeconds;

        @CommandLine.Option(names = "--no-usage", description = "leave out the per-second session.usage events")
        boolean noUsage;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            CountDownLatch gone = new CountDownLatch(1);
            try (Session s = open(link, m -> {
                if (noUsage && m instanceof Message.SessionUsage) {
                    return;
                }
                synchronized (out) {
                    out.println(json(m));
                    out.flush();
                }
            })) {
                synchronized (out) {
                    out.println(json(s.welcome));
                    out.flush();
                }
                s.conn.closed().thenRun(gone::countDown);
                if (forSeconds != null) {
                    gone.await(forSeconds, TimeUnit.SECONDS);
                } else {
                    gone.await();
                }
                return gone.getCount() == 0 ? ExitCodes.UNREACHABLE : ExitCodes.OK;
            } catch (Exit e) {
                spec.commandLine().getErr().println("gpu-agent: " + e.getMessage());
                return e.code;
            }
        }
    }
}

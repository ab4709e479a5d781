package io.gpuagent.market.streams;

import com.fasterxml.jackson.databind.JsonNode;
import io.gpuagent.protocol.Message;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpMethod;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The far ends of streams on a Docker engine (docs/streams.md):
 * <ul>
 *   <li>{@code exec}: {@code POST /containers/{id}/exec}, then {@code POST /exec/{id}/start} hijacked
 *       ({@code Upgrade: tcp}): the connection carries stdin one way and the output the other, raw
 *       with a PTY, multiplexed without ({@link EngineStreamDemuxer}); {@code /exec/{id}/resize};
 *       the exit code from {@code /exec/{id}/json} once the output ended;</li>
 *   <li>{@code tunnel}: a TCP connection from the agent to the container's address on its session
 *       network and the asked port: nothing is published on the host, and the renter reaches only
 *       that port of that container;</li>
 *   <li>{@code logs}: {@code GET /containers/{id}/logs} with tail and follow, the body relayed as it
 *       comes.</li>
 * </ul>
 */
public final class EngineStreams implements StreamBackends {
    /** A login shell: bash where the image has it, else sh. */
    static final List<String> LOGIN_SHELL = List.of("/bin/sh", "-c",
            "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi");

    private final EngineHttp engine;
    private final Duration connectTimeout;

    /** @param socket the Docker engine's unix socket ({@code docker.socket}) */
    public EngineStreams(Path socket, Duration timeout) {
        this.engine = new EngineHttp(socket, timeout);
        this.connectTimeout = timeout;
    }

    @Override
    public CompletableFuture<Backend> open(Message.StreamOpen open, String container, EventLoop loop) {
        return switch (open.kind()) {
            case "exec" -> exec(open, container, loop);
            case "tunnel" -> tunnel(open, container, loop);
            default -> logs(open, container, loop);
        };
    }

    private static StreamException gone(String container, EngineHttp.Answer a) {
        return new StreamException("session_not_running", "the session's container " + shortId(container)
                + " is not running (" + a.message() + ")");
    }

    private static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    // ---- exec ------------------------------------------------------------------------------------

    private CompletableFuture<Backend> exec(Message.StreamOpen open, String container, EventLoop loop) {
        boolean tty = open.wantsTty();
        List<String> env = new ArrayList<>();
        if (tty && !open.env().containsKey("TERM")) {
            env.add("TERM=xterm-256color");
        }
        open.env().forEach((k, v) -> env.add(k + "=" + v));
        Map<String, Object> create = new LinkedHashMap<>();
        create.put("AttachStdin", true);
        create.put("AttachStdout", true);
        create.put("AttachStderr", true);
        create.put("Tty", tty);
        create.put("Cmd", open.command().isEmpty() ? LOGIN_SHELL : open.command());
        create.put("Env", env);
        return engine.call(loop, HttpMethod.POST, "/containers/" + container + "/exec", create).thenCompose(a -> {
            if (a.status() == 404 || a.status() == 409) {
                throw new java.util.concurrent.CompletionException(gone(container, a));
            }
            if (a.status() != 201 || a.body() == null || !a.body().hasNonNull("Id")) {
                throw new java.util.concurrent.CompletionException(new StreamException("exec_failed",
                        "the Docker engine refused the exec: " + a.status() + " " + a.message()));
            }
            String exec = a.body().get("Id").asText();
            ChannelHandler[] handlers = tty ? new ChannelHandler[0] : new ChannelHandler[]{new EngineStreamDemuxer()};
            return engine.hijack(loop, "/exec/" + exec + "/start", Map.of("Detach", false, "Tty", tty), handlers)
                    .thenCompose(ch -> {
                        Backend b = new ExecBackend(ch, exec, tty, loop);
                        if (tty && open.cols() != null && open.rows() != null) {
                            // best effort: a process that ends at once cannot be resized, and that is no failure
                            return b.resize(open.cols(), open.rows()).handle((v, err) -> b);
                        }
                        return CompletableFuture.completedFuture(b);
                    });
        });
    }

    private final class ExecBackend implements Backend {
        private final Channel channel;
        private final String exec;
        private final boolean tty;
        private final EventLoop loop;

        ExecBackend(Channel channel, String exec, boolean tty, EventLoop loop) {
            this.channel = channel;
            this.exec = exec;
            this.tty = tty;
            this.loop = loop;
        }

        @Override
        public Channel channel() {
            return channel;
        }

        @Override
        public boolean acceptsInput() {
            return true;
        }

        @Override
        public boolean tty() {
            return tty;
        }

        @Override
        public CompletableFuture<Integer> exitCode() {
            CompletableFuture<Integer> out = new CompletableFuture<>();
            inspect(out, 0);
            return out;
        }

        /** The engine marks the exec ended a moment after its output closed: asked again for up to 5 s. */
        private void inspect(CompletableFuture<Integer> out, int attempt) {
            engine.call(loop, HttpMethod.GET, "/exec/" + exec + "/json", null).whenComplete((a, err) -> {
                if (err != null) {
                    out.completeExceptionally(err);
                } else if (a.status() != 200 || a.body() == null) {
                    out.completeExceptionally(new StreamException("engine_error", "inspecting exec " + exec + ": "
                            + a.status() + " " + a.message()));
                } else if (a.body().path("Running").asBoolean(false) && attempt < 100) {
                    loop.schedule(() -> inspect(out, attempt + 1), 50, TimeUnit.MILLISECONDS);
                } else {
                    JsonNode code = a.body().get("ExitCode");
                    out.complete(code == null || code.isNull() ? null : code.asInt());
                }
            });
        }

        @Override
        public CompletableFuture<Void> resize(int cols, int rows) {
            return engine.call(loop, HttpMethod.POST, "/exec/" + exec + "/resize?h=" + rows + "&w=" + cols, null)
                    .thenAccept(a -> {
                        if (a.status() / 100 != 2) {
                            throw new java.util.concurrent.CompletionException(new StreamException("engine_error",
                                    "the Docker engine refused the resize: " + a.status() + " " + a.message()));
                        }
                    });
        }
    }

    // ---- tunnel ----------------------------------------------------------------------------------

    private CompletableFuture<JsonNode> inspect(String container, EventLoop loop) {
        return engine.call(loop, HttpMethod.GET, "/containers/" + container + "/json", null).thenApply(a -> {
            if (a.status() == 404) {
                throw new java.util.concurrent.CompletionException(gone(container, a));
            }
            if (a.status() != 200 || a.body() == null) {
                throw new java.util.concurrent.CompletionException(new StreamException("engine_error",
                        "inspecting the session's container: " + a.status() + " " + a.message()));
            }
            if (!a.body().path("State").path("Running").asBoolean(false)) {
                throw new java.util.concurrent.CompletionException(new StreamException("session_not_running",
                        "the session's container " + shortId(container) + " is not running"));
            }
            return a.body();
        });
    }

    /** The container's address on its (first) network, or null when it has none (network mode none). */
    static String address(JsonNode inspect) {
        JsonNode nets = inspect.path("NetworkSettings").path("Networks");
        for (Iterator<JsonNode> it = nets.elements(); it.hasNext(); ) {
            String ip = it.next().path("IPAddress").asText("");
            if (!ip.isEmpty()) {
                return ip;
            }
        }
        String ip = inspect.path("NetworkSettings").path("IPAddress").asText("");
        return ip.isEmpty() ? null : ip;
    }

    private CompletableFuture<Backend> tunnel(Message.StreamOpen open, String container, EventLoop loop) {
        return inspect(container, loop).thenCompose(info -> {
            String ip = address(info);
            if (ip == null) {
                throw new java.util.concurrent.CompletionException(new StreamException("tunnel_unreachable",
                        "the session's container has no network address to tunnel to"));
            }
            CompletableFuture<Backend> out = new CompletableFuture<>();
            new Bootstrap().group(loop).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
                    .handler(new ParkingHandler())
                    .connect(new InetSocketAddress(ip, open.port())).addListener(f -> {
                        io.netty.channel.ChannelFuture cf = (io.netty.channel.ChannelFuture) f;
                        if (f.isSuccess()) {
                            out.complete(new PlainBackend(cf.channel(), true));
                        } else if (f.cause() instanceof ConnectException) {
                            out.completeExceptionally(new StreamException("tunnel_refused", "nothing accepts connections on "
                                    + "port " + open.port() + " in session " + open.session() + "'s container ("
                                    + f.cause().getMessage() + ")"));
                        } else {
                            out.completeExceptionally(new StreamException("tunnel_unreachable", "cannot reach port "
                                    + open.port() + " in session " + open.session() + "'s container: " + f.cause().getMessage()));
                        }
                    });
            return out;
        });
    }

    /** A tunnel's or a log's far end: no PTY, no exit code. */
    private record PlainBackend(Channel channel, boolean acceptsInput) implements Backend {
        @Override
        public boolean tty() {
            return false;
        }

        @Override
        public CompletableFuture<Integer> exitCode() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> resize(int cols, int rows) {
            return CompletableFuture.failedFuture(new StreamException("stream_not_tty", "no PTY"));
        }
    }

    // ---- logs ------------------------------------------------------------------------------------

    private CompletableFuture<Backend> logs(Message.StreamOpen open, String container, EventLoop loop) {
        return engine.call(loop, HttpMethod.GET, "/containers/" + container + "/json", null).thenCompose(a -> {
            if (a.status() == 404 || a.body() == null) {
                throw new java.util.concurrent.CompletionException(gone(container, a));
            }
            boolean tty = a.body().path("Config").path("Tty").asBoolean(false);
            String path = "/containers/" + container + "/logs?stdout=1&stderr=1&follow="
                    + (Boolean.TRUE.equals(open.follow()) ? 1 : 0) + "&tail=" + (open.tail() == null ? "all" : open.tail());
            ChannelHandler[] handlers = tty ? new ChannelHandler[0] : new ChannelHandler[]{new EngineStreamDemuxer()};
            return engine.streamingGet(loop, path, handlers).thenApply(ch -> (Backend) new PlainBackend(ch, false));
        });
    }
}

package io.gpuagent.testsupport;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.web3j.crypto.Hash;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JSON-RPC proxy on loopback between the agent and the node, with knobs:
 * {@link #cut()} closes its listening socket (connections are refused, as when the node or the
 * network is down) and {@link #restore()} opens it again on the same port;
 * {@link #dropSends(int)} answers the next eth_sendRawTransaction calls with the transaction's hash
 * without forwarding them: the agent sees "accepted" and the node never sees the transaction, which
 * is what a transaction evicted from the pool looks like from the agent's side.
 */
public final class RpcProxy implements AutoCloseable {
    private static final Pattern RAW = Pattern.compile("\"eth_sendRawTransaction\".*?\"(0x[0-9a-fA-F]+)\"", Pattern.DOTALL);
    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\"[^\"]*\"|\\d+)");

    private final URI upstream;
    private final int port;
    private final HttpClient client = HttpClient.newHttpClient();
    private final AtomicInteger dropSends = new AtomicInteger();
    private final AtomicInteger dropped = new AtomicInteger();
    private volatile HttpServer server;

    public RpcProxy(String upstreamUrl) throws IOException {
        this.upstream = URI.create(upstreamUrl);
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        restore();
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public synchronized void cut() {
        if (server != null) {
            server.stop(0);
            server = null;
        }
    }

    public synchronized void restore() throws IOException {
        if (server != null) {
            return;
        }
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 16);
        s.createContext("/", this::handle);
        s.start();
        server = s;
    }

    public void dropSends(int n) {
        dropSends.set(n);
    }

    public int dropped() {
        return dropped.get();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body = ex.getRequestBody().readAllBytes();
            String text = new String(body, StandardCharsets.UTF_8);
            Matcher raw = RAW.matcher(text);
            if (raw.find() && dropSends.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                dropped.incrementAndGet();
                Matcher id = ID.matcher(text);
                String answer = "{\"jsonrpc\":\"2.0\",\"id\":" + (id.find() ? id.group(1) : "1") + ",\"result\":\""
                        + Hash.sha3(raw.group(1)) + "\"}";
                reply(ex, 200, answer.getBytes(StandardCharsets.UTF_8));
                return;
            }
            HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(upstream).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
            reply(ex, r.statusCode(), r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void reply(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.getResponseHeaders().set("content-type", "application/json");
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
    }

    @Override
    public void close() {
        cut();
    }
}

package io.gpuagent.testsupport;

import org.web3j.crypto.Hash;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JSON-RPC proxy on loopback between the agent and the node, with knobs:
 * {@link #cut()} makes every connection fail (each is reset as soon as it is accepted: to the
 * agent, every call fails with an I/O error, as when the node or the network is down) and
 * {@link #restore()} serves again; {@link #dropSends(int)} answers the next
 * eth_sendRawTransaction calls with the transaction's hash without forwarding them: the agent sees
 * "accepted" and the node never sees the transaction, which is what a transaction evicted from the
 * pool looks like from the agent's side.
 *
 * <p>The listening socket is bound once, on a port the kernel picks, and held until
 * {@link #close()}, cut or not: a proxy that closed it to refuse connections and bound the port
 * again to restore could find it taken meanwhile by whatever else runs on the machine. HTTP/1.1
 * with {@code Content-Length} bodies and {@code Connection: close}, which is all a JSON-RPC
 * client sends.
 */
public final class RpcProxy implements AutoCloseable {
    private static final Pattern RAW = Pattern.compile("\"eth_sendRawTransaction\".*?\"(0x[0-9a-fA-F]+)\"", Pattern.DOTALL);
    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\"[^\"]*\"|\\d+)");
    private static final Pattern CONTENT_LENGTH = Pattern.compile("(?im)^content-length:\\s*(\\d+)\\s*$");

    private final URI upstream;
    private final ServerSocket listener;
    private final HttpClient client = HttpClient.newHttpClient();
    private final ExecutorService handlers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "rpc-proxy-request");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger dropSends = new AtomicInteger();
    private final AtomicInteger dropped = new AtomicInteger();
    private volatile boolean cut;

    public RpcProxy(String upstreamUrl) throws IOException {
        this.upstream = URI.create(upstreamUrl);
        this.listener = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::acceptLoop, "rpc-proxy-accept");
        accept.setDaemon(true);
        accept.start();
    }

    public String url() {
        return "http://127.0.0.1:" + listener.getLocalPort();
    }

    /** From now on every connection is reset at once (calls in flight still finish). */
    public void cut() {
        cut = true;
    }

    /** Serves again, on the same port. */
    public void restore() {
        cut = false;
    }

    public void dropSends(int n) {
        dropSends.set(n);
    }

    public int dropped() {
        return dropped.get();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket s;
            try {
                s = listener.accept();
            } catch (IOException closed) {
                return; // close()
            }
            if (cut) {
                reset(s);
            } else {
                handlers.execute(() -> serve(s));
            }
        }
    }

    private static void reset(Socket s) {
        try (s) {
            s.setSoLinger(true, 0); // the close sends RST, not FIN: the client's call fails at once
        } catch (IOException e) {
            // already gone: as good as reset
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setSoTimeout(30_000);
            InputStream in = new BufferedInputStream(s.getInputStream());
            String head = readHead(in);
            if (head == null) {
                return;
            }
            Matcher length = CONTENT_LENGTH.matcher(head);
            byte[] body = in.readNBytes(length.find() ? Integer.parseInt(length.group(1)) : 0);
            String text = new String(body, StandardCharsets.UTF_8);
            Matcher raw = RAW.matcher(text);
            if (raw.find() && dropSends.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                dropped.incrementAndGet();
                Matcher id = ID.matcher(text);
                String answer = "{\"jsonrpc\":\"2.0\",\"id\":" + (id.find() ? id.group(1) : "1") + ",\"result\":\""
                        + Hash.sha3(raw.group(1)) + "\"}";
                reply(s.getOutputStream(), 200, answer.getBytes(StandardCharsets.UTF_8));
                return;
            }
            HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(upstream).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
            reply(s.getOutputStream(), r.statusCode(), r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SocketException gone) {
            // the client went away, or close(): nothing to answer
        } catch (IOException e) {
            throw new IllegalStateException("rpc proxy: " + e.getMessage(), e);
        }
    }

    /** The request line and headers, up to the empty line; null when the client closed first. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private static void reply(OutputStream out, int status, byte[] body) throws IOException {
        out.write(("HTTP/1.1 " + status + " " + (status == 200 ? "OK" : "Upstream") + "\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException e) {
            // closing anyway
        }
        handlers.shutdownNow();
    }
}

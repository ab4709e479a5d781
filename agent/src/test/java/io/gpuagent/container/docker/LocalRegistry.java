package io.gpuagent.container.docker;

import io.gpuagent.container.ContainerSpec;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.GZIPOutputStream;

/**
 * The smallest Docker Registry HTTP API v2 that an engine pulls from: one image of one layer
 * (random bytes, so it does not compress), served slowly enough that the engine reports progress.
 * On 127.0.0.1, which Docker treats as an insecure registry by default: it tries HTTPS first, so a
 * TLS hello is answered with plain text at once (the engine then falls back to HTTP) instead of
 * waiting out its 10 s handshake timeout. One thread per connection, {@code Connection: close}.
 */
final class LocalRegistry implements AutoCloseable {
    private final ServerSocket server;
    private final Thread acceptor;
    private final Map<String, byte[]> blobs = new HashMap<>();
    private final byte[] manifest;
    private final String manifestDigest;
    private final long layerBytes;

    LocalRegistry(int payloadBytes) throws IOException {
        byte[] payload = new byte[payloadBytes];
        ThreadLocalRandom.current().nextBytes(payload);
        byte[] tar = TarArchive.of(List.of(new ContainerSpec.ContainerFile("/payload.bin", payload, 0644)));
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(tar);
        }
        byte[] layer = gz.toByteArray();
        layerBytes = layer.length;
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/payload.bin\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + digest(tar) + "\"]}}").getBytes(StandardCharsets.UTF_8);
        blobs.put(digest(layer), layer);
        blobs.put(digest(config), config);
        manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":" + config.length
                + ",\"digest\":\"" + digest(config) + "\"},"
                + "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":" + layer.length
                + ",\"digest\":\"" + digest(layer) + "\"}]}").getBytes(StandardCharsets.UTF_8);
        manifestDigest = digest(manifest);
        server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::accept, "local-registry");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "local-registry-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            in.mark(1);
            if (in.read() == 0x16) {
                out.write("HTTP/1.0 400 Bad Request\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                return;
            }
            in.reset();
            String request = readLine(in);
            while (!readLine(in).isEmpty()) {
                // headers: nothing in them matters here
            }
            String[] parts = request.split(" ");
            handle(parts[0], parts[1], out);
        } catch (IOException | RuntimeException e) {
            // the engine hung up (it cancels HTTPS probes and finished pulls): nothing to answer
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("connection closed mid-request");
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    /** {@code 127.0.0.1:<port>} */
    String host() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    long layerBytes() {
        return layerBytes;
    }

    private void handle(String method, String path, OutputStream out) throws IOException {
        boolean head = method.equals("HEAD");
        if (path.equals("/v2/")) {
            send(out, 200, "application/json", "{}".getBytes(StandardCharsets.UTF_8), Map.of(), head, false);
        } else if (path.contains("/manifests/")) {
            send(out, 200, "application/vnd.docker.distribution.manifest.v2+json", manifest,
                    Map.of("Docker-Content-Digest", manifestDigest), head, false);
        } else if (path.contains("/blobs/")) {
            String d = path.substring(path.lastIndexOf('/') + 1);
            byte[] blob = blobs.get(d);
            if (blob == null) {
                send(out, 404, "application/json", "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\"}]}".getBytes(StandardCharsets.UTF_8),
                        Map.of(), head, false);
            } else {
                send(out, 200, "application/octet-stream", blob, Map.of("Docker-Content-Digest", d), head, true);
            }
        } else {
            send(out, 404, "text/plain", new byte[0], Map.of(), head, false);
        }
    }

    private static void send(OutputStream out, int code, String type, byte[] body, Map<String, String> headers,
                             boolean head, boolean slow) throws IOException {
        StringBuilder h = new StringBuilder("HTTP/1.1 ").append(code).append(code == 200 ? " OK" : " Not Found").append("\r\n");
        h.append("Content-Type: ").append(type).append("\r\n");
        h.append("Content-Length: ").append(body.length).append("\r\n");
        h.append("Docker-Distribution-Api-Version: registry/2.0\r\n");
        headers.forEach((k, v) -> h.append(k).append(": ").append(v).append("\r\n"));
        h.append("Connection: close\r\n\r\n");
        out.write(h.toString().getBytes(StandardCharsets.US_ASCII));
        if (head) {
            out.flush();
            return;
        }
        int chunk = 64 * 1024;
        for (int off = 0; off < body.length; off += chunk) {
            out.write(body, off, Math.min(chunk, body.length - off));
            out.flush();
            if (slow) {
                pause();
            }
        }
    }

    /** Spreads a blob over about a second, so the engine's progress ticks several times. */
    private static void pause() throws IOException {
        try {
            Thread.sleep(15);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while serving a blob", e);
        }
    }

    private static String digest(byte[] data) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}

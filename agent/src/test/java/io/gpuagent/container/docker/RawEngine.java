package io.gpuagent.container.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The Engine API with nothing in between: HTTP/1.0 over the unix socket with the JDK alone, so
 * that what the IT checks is what the engine stored, not docker-java's reading of it.
 */
final class RawEngine {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path socket;

    RawEngine(Path socket) {
        this.socket = socket;
    }

    record Answer(int status, String body) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    Answer call(String method, String path) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            String req = method + " " + path + " HTTP/1.0\r\nHost: docker\r\n\r\n";
            ch.write(ByteBuffer.wrap(req.getBytes(StandardCharsets.US_ASCII)));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            while (ch.read(buf) >= 0) {
                buf.flip();
                out.write(buf.array(), 0, buf.limit());
                buf.clear();
            }
            String text = out.toString(StandardCharsets.UTF_8);
            int split = text.indexOf("\r\n\r\n");
            if (split < 0) {
                throw new IOException("no HTTP answer from " + socket + ": " + text);
            }
            int status = Integer.parseInt(text.substring(0, text.indexOf("\r\n")).split(" ")[1]);
            return new Answer(status, text.substring(split + 4));
        }
    }

    JsonNode get(String path) throws IOException {
        Answer a = call("GET", path);
        if (a.status() != 200) {
            throw new IOException("GET " + path + " answered " + a.status() + ": " + a.body());
        }
        return a.json();
    }
}

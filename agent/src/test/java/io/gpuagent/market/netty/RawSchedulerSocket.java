package io.gpuagent.market.netty;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Frames by hand on a plain socket, for the peers that misbehave in the link's limit tests. */
final class RawSchedulerSocket {
    private RawSchedulerSocket() {
    }

    static byte[] frame(String json) {
        byte[] p = json.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + p.length).putInt(p.length).put(p).array();
    }

    static String readFrame(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int n = d.readInt();
        byte[] b = new byte[n];
        d.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Reads frames until one has {@code "id":"<id>"} (events may come between). */
    static String answerTo(InputStream in, String id) throws IOException {
        for (int i = 0; i < 50; i++) {
            String f = readFrame(in);
            if (f.contains("\"id\":\"" + id + "\"")) {
                return f;
            }
        }
        throw new AssertionError("no answer to " + id);
    }

    /** Whether the agent closes (or resets) the connection within 3 s, reading whatever comes before. */
    static boolean closedByPeer(Socket s) {
        try {
            s.setSoTimeout(3000);
            InputStream in = s.getInputStream();
            while (true) {
                if (in.read() < 0) {
                    return true;
                }
            }
        } catch (IOException e) {
            return e.getMessage() != null && e.getMessage().contains("reset");
        }
    }
}

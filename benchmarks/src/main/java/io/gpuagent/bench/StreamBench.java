package io.gpuagent.bench;

import io.gpuagent.market.client.ClientStream;
import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.market.netty.TlsContexts;
import io.gpuagent.market.tls.TlsSettings;
import io.gpuagent.protocol.Message;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 10's stream figures against a running agent (scripts/bench-streams.sh starts it with the
 * unit's JVM flags, on the test engine, TLS on loopback): tunnel throughput against a direct TCP
 * read of the same container port, keystroke round trips through an exec with a PTY, heartbeat
 * round trips idle and with four saturated streams on the same connection, and the agent's memory
 * with 16 saturated and 16 stalled streams.
 *
 * <p>Usage: {@code StreamBench HOST:PORT TLS_DIR|- AGENT_PID} ({@code -}: a plaintext link)
 */
public final class StreamBench {
    private static final Duration T = Duration.ofSeconds(60);
    private static final AtomicLong IDS = new AtomicLong();
    private static final int FILE_MB = 64;

    private StreamBench() {
    }

    public static void main(String[] args) throws Exception {
        String[] hp = args[0].split(":");
        Path tls = Path.of(args[1]);
        long pid = Long.parseLong(args[2]);
        boolean plaintext = args[1].equals("-");
        TlsSettings s = plaintext ? null : TlsSettings.load(tls.resolve("scheduler.pem"), tls.resolve("scheduler-key.pem"),
                tls.resolve("ca.pem"), List.of(), 5000, Instant.now());
        System.out.println("== scheduler link: " + (plaintext ? "plaintext TCP" : "mutual TLS 1.3 (JDK provider)"));
        try (SchedulerClient client = new SchedulerClient(plaintext ? null : TlsContexts.scheduler(s));
             SchedulerConnection c = client.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])))) {
            c.call(new Message.Hello(List.of(1), "bench", null, List.of("streams")), Message.Welcome.class, T);
            String script = "mkdir -p /www && dd if=/dev/zero of=/www/big bs=1048576 count=" + FILE_MB
                    + " 2>/dev/null && httpd -p 8080 -h /www && echo ready && sleep 36000";
            c.call(new Message.Launch("bench-1", "0x" + "ab".repeat(32), "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2", 1, null,
                    "gpu-agent-test/busybox:1", List.of("sh", "-c", script), null, null, null, "1000", 36000L),
                    Message.SessionReply.class, T);
            long until = System.nanoTime() + T.toNanos();
            while (!c.call(new Message.Status("bench-1"), Message.SessionReply.class, T).session().state().equals("running")) {
                if (System.nanoTime() > until) {
                    throw new IllegalStateException("the session did not start");
                }
                Thread.sleep(100);
            }
            Thread.sleep(1500); // dd and httpd
            String ip = run(c, "hostname", "-i").strip().split("\\s+")[0];
            System.out.println("== container " + ip + ", " + FILE_MB + " MiB served by busybox httpd on 8080");
            throughput(c, ip);
            keystrokes(c);
            heartbeats(c);
            memory(c, pid);
            c.call(new Message.Stop("bench-1", "bench"), Message.SessionReply.class, T);
        }
    }

    private static Message.StreamOpen exec(List<String> cmd, Boolean tty, Long window) {
        return new Message.StreamOpen("bench-1", IDS.incrementAndGet(), "exec", cmd, tty, 80, 24, null, null, null, null,
                window, null);
    }

    private static String run(SchedulerConnection c, String... cmd) throws Exception {
        StringBuilder out = new StringBuilder();
        ClientStream st = c.openStream(exec(List.of(cmd), false, null), (k, b) -> {
            synchronized (out) {
                out.append(new String(b, StandardCharsets.UTF_8));
            }
        }, true).get(30, TimeUnit.SECONDS);
        st.closed().get(30, TimeUnit.SECONDS);
        return out.toString();
    }

    private static final byte[] GET = "GET /big HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private static double direct(String ip) throws Exception {
        long t0 = System.nanoTime();
        long n = 0;
        try (Socket sock = new Socket(ip, 8080)) {
            sock.getOutputStream().write(GET);
            InputStream in = sock.getInputStream();
            byte[] buf = new byte[64 * 1024];
            for (int r; (r = in.read(buf)) >= 0; ) {
                n += r;
            }
        }
        return mbps(n, System.nanoTime() - t0);
    }

    private static double tunnel(SchedulerConnection c) throws Exception {
        AtomicLong n = new AtomicLong();
        long t0 = System.nanoTime();
        ClientStream t = c.openStream(new Message.StreamOpen("bench-1", IDS.incrementAndGet(), "tunnel", null, null, null, null,
                null, 8080, null, null, 4L << 20, null), (k, b) -> n.addAndGet(b.length), true).get(30, TimeUnit.SECONDS);
        t.write(GET, T);
        while (!t.eofReceived()) {
            Thread.sleep(1);
        }
        long dt = System.nanoTime() - t0;
        t.eof();
        t.closed().get(30, TimeUnit.SECONDS);
        return mbps(n.get(), dt);
    }

    private static double mbps(long bytes, long nanos) {
        return bytes / 1048576.0 / (nanos / 1e9);
    }

    private static void throughput(SchedulerConnection c, String ip) throws Exception {
        direct(ip);
        tunnel(c); // warm-up
        List<Double> d = new ArrayList<>();
        List<Double> t = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            d.add(direct(ip));
            t.add(tunnel(c));
            t.add(tunnel(c));
            d.add(direct(ip));
        }
        double md = median(d);
        double mt = median(t);
        System.out.printf("== 1. tunnel throughput, %d MiB GET, 6 runs each (ABBA): direct TCP median %.0f MiB/s %s, "
                + "tunnel over TLS median %.0f MiB/s %s, ratio %.2f%n", FILE_MB, md, fmt(d), mt, fmt(t), mt / md);
    }

    private static void keystrokes(SchedulerConnection c) throws Exception {
        Object lock = new Object();
        AtomicLong seen = new AtomicLong();
        ClientStream st = c.openStream(exec(List.of("cat"), true, null), (k, b) -> {
            synchronized (lock) {
                seen.addAndGet(b.length);
                lock.notifyAll();
            }
        }, true).get(30, TimeUnit.SECONDS);
        Thread.sleep(300);
        long[] rtt = new long[2000];
        for (int i = -300; i < rtt.length; i++) {
            long before = seen.get();
            long t0 = System.nanoTime();
            st.write(new byte[]{'x'}, T);
            synchronized (lock) {
                while (seen.get() == before) {
                    lock.wait(1000);
                }
            }
            if (i >= 0) {
                rtt[i] = System.nanoTime() - t0;
            }
            if (i % 100 == 99) {
                st.write(new byte[]{'\n'}, T); // keep the line short; cat echoes it back once more
                Thread.sleep(5);
            }
        }
        st.close(T);
        Arrays.sort(rtt);
        System.out.printf("== 2. keystroke round trip through exec with a PTY (tty echo), %d keys: p50 %.2f ms, "
                + "p99 %.2f ms, max %.2f ms%n", rtt.length, ms(rtt[rtt.length / 2]), ms(rtt[rtt.length * 99 / 100]),
                ms(rtt[rtt.length - 1]));
    }

    private static long[] heartbeatRtts(SchedulerConnection c, int n) throws Exception {
        long[] r = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            c.call(new Message.Heartbeat(null), Message.Heartbeat.class, T);
            r[i] = System.nanoTime() - t0;
            Thread.sleep(5);
        }
        Arrays.sort(r);
        return r;
    }

    private static void heartbeats(SchedulerConnection c) throws Exception {
        long[] idle = heartbeatRtts(c, 600);
        for (long window : new long[] {256 * 1024, 64 * 1024}) {
            saturated(c, idle, window);
        }
    }

    /** Heartbeats beside four floods whose windows (the scheduler's choice) are {@code window} bytes each. */
    private static void saturated(SchedulerConnection c, long[] idle, long window) throws Exception {
        AtomicLong bytes = new AtomicLong();
        List<ClientStream> floods = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            floods.add(c.openStream(exec(List.of("cat", "/dev/zero"), false, window), (k, b) -> bytes.addAndGet(b.length), true)
                    .get(30, TimeUnit.SECONDS));
        }
        Thread.sleep(1000);
        long b0 = bytes.get();
        long t0 = System.nanoTime();
        long[] busy = heartbeatRtts(c, 600);
        double rate = mbps(bytes.get() - b0, System.nanoTime() - t0);
        for (ClientStream f : floods) {
            f.close(T);
        }
        System.out.printf("== 3. heartbeat round trip, 600 each: idle p50 %.2f ms p99 %.2f ms; with 4 saturated exec "
                + "streams (cat /dev/zero, windows of %d KiB, %.0f MiB/s together) p50 %.2f ms p99 %.2f ms max %.2f ms%n",
                ms(idle[300]), ms(idle[594]), window / 1024, rate, ms(busy[300]), ms(busy[594]), ms(busy[599]));
    }

    private static void memory(SchedulerConnection c, long pid) throws Exception {
        String before = heap(pid);
        long rss0 = rss(pid);
        AtomicLong bytes = new AtomicLong();
        List<ClientStream> fast = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            fast.add(c.openStream(exec(List.of("cat", "/dev/zero"), false, null), (k, b) -> bytes.addAndGet(b.length), true)
                    .get(30, TimeUnit.SECONDS));
        }
        Thread.sleep(5000);
        long b0 = bytes.get();
        Thread.sleep(5000);
        String during = heap(pid);
        long rss1 = rss(pid);
        System.out.printf("== 4a. 16 saturated streams: %.0f MiB/s together; agent heap before %s, during %s; RSS %d -> %d MiB%n",
                (bytes.get() - b0) / 1048576.0 / 5, before, during, rss0 >> 20, rss1 >> 20);
        for (ClientStream f : fast) {
            f.close(T);
        }
        List<CompletableFuture<ClientStream>> stalled = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            stalled.add(c.openStream(exec(List.of("cat", "/dev/zero"), false, 256L * 1024), (k, b) -> { }, false));
        }
        for (CompletableFuture<ClientStream> f : stalled) {
            f.get(30, TimeUnit.SECONDS);
        }
        Thread.sleep(5000);
        System.out.printf("== 4b. 16 stalled streams (windows shut, 256 KiB each): agent heap %s; RSS %d MiB%n", heap(pid),
                rss(pid) >> 20);
        for (CompletableFuture<ClientStream> f : stalled) {
            f.get().close(T);
        }
    }

    /** The agent's heap used after a full collection, and Netty's direct memory (NMT "Other"), via jcmd. */
    private static String heap(long pid) throws Exception {
        jcmd(pid, "GC.run");
        String info = jcmd(pid, "GC.heap_info");
        String used = info.replaceAll("(?s).*?used (\\d+K).*", "$1");
        String nmt = jcmd(pid, "VM.native_memory", "summary");
        String other = nmt.replaceAll("(?s).*-\\s+Other \\(reserved=\\d+KB, committed=(\\d+KB)\\).*", "$1");
        return "used " + used + " (direct " + (other.length() < 20 ? other : "n/a") + ")";
    }

    private static String jcmd(long pid, String... cmd) throws Exception {
        List<String> c = new ArrayList<>(List.of("jcmd", Long.toString(pid)));
        c.addAll(List.of(cmd));
        Process p = new ProcessBuilder(c).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    private static long rss(long pid) throws Exception {
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        return -1;
    }

    private static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        return (s.get(s.size() / 2) + s.get((s.size() - 1) / 2)) / 2;
    }

    private static String fmt(List<Double> v) {
        return v.stream().map(x -> String.format("%.0f", x)).toList().toString();
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}

package io.gpuagent.bench;

import io.gpuagent.devtools.DevCertificateAuthority;
import io.gpuagent.devtools.DevTlsFiles;
import io.gpuagent.market.netty.FrameDecoder;
import io.gpuagent.market.netty.MarketLink;
import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.market.netty.TlsContexts;
import io.gpuagent.market.tls.TlsSettings;
import io.gpuagent.protocol.EnvelopeCodec;
import io.gpuagent.protocol.Message;
import io.gpuagent.protocol.MessageCodec;
import io.gpuagent.util.Clock;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The scheduler link's round trip and throughput on loopback, next to a bare Netty echo server with
 * the same framing and the same TLS ({@link FrameEchoServer}), in one JVM run, with and without TLS
 * (mutual TLS 1.3 with the dev CA's EC P-256 certificates, JDK provider, as the agent runs it).
 *
 * <ul>
 *   <li>latency: one connection, one request outstanding, round trips recorded one by one (sorted
 *       samples, no histogram buckets), after a warm-up; agent and echo alternate in blocks so that
 *       machine noise hits both. {@code status} is answered on the agent's event loop (decode,
 *       port call, encode); {@code heartbeat} likewise, with the agent's clock in the answer. The echo
 *       server sends the request's own bytes back.</li>
 *   <li>throughput: closed loop, C connections x D requests outstanding each, for a fixed time per
 *       server (two blocks each, ABBA order), after a warm-up. Also the CPU time of the server's and
 *       the client's event-loop threads per request (ThreadMXBean), the figure least disturbed by
 *       sharing the cores.</li>
 * </ul>
 * The load client ({@link FrameLoadClient}) sends pre-encoded frames and matches answers by position,
 * so it costs the same against either server. The agent runs {@link MarketLink} with a fixed port
 * ({@link BenchSchedulerPort}), its rate limit raised to the validator's maximum (1,000,000 messages a
 * second; the default of 200 would answer most of this load with {@code rate_limited}) and the
 * per-address cap raised (64 connections from one address; the default allows 8).
 *
 * <p>Usage: {@code java -cp benchmarks.jar io.gpuagent.bench.ProtocolRoundTrip [--samples N]
 * [--warmup N] [--seconds S] [--loads 1x1,1x16,64x1|none] [--echo-answer-bytes N]} (scripts/bench-protocol.sh);
 * {@code --echo-answer-bytes 676} pads the echo's answers to the size of the agent's status answer,
 * a control that separates what the protocol costs from what the larger answer costs.
 */
public final class ProtocolRoundTrip {
    private static final String AGENT_THREADS = "gpu-agent-market-io";
    private static final String ID = "b-000001";

    private int samples = 20_000;
    private int warmup = 20_000;
    private int seconds = 10;
    private List<int[]> loads = List.of(new int[] {1, 1}, new int[] {1, 16}, new int[] {64, 1});
    private int echoAnswerBytes;
    private long failures;

    private ProtocolRoundTrip() {
    }

    private enum Kind { AGENT, ECHO }

    /** One server under test and a client for it. */
    private record Target(Kind kind, boolean tls, InetSocketAddress address, FrameLoadClient client) {
        String name() {
            return (kind == Kind.AGENT ? "agent" : "echo") + (tls ? " TLS" : " plain");
        }

        String threads() {
            return kind == Kind.AGENT ? AGENT_THREADS : FrameEchoServer.THREADS;
        }
    }

    public static void main(String[] args) throws Exception {
        ProtocolRoundTrip b = new ProtocolRoundTrip();
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--samples" -> b.samples = Integer.parseInt(args[i + 1]);
                case "--warmup" -> b.warmup = Integer.parseInt(args[i + 1]);
                case "--seconds" -> b.seconds = Integer.parseInt(args[i + 1]);
                case "--echo-answer-bytes" -> b.echoAnswerBytes = Integer.parseInt(args[i + 1]);
                case "--loads" -> b.loads = args[i + 1].equals("none") ? List.of() : Arrays.stream(args[i + 1].split(","))
                        .map(l -> Arrays.stream(l.split("x")).mapToInt(Integer::parseInt).toArray()).toList();
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--samples N --warmup N --seconds S --loads CxD,... --echo-answer-bytes N)");
            }
        }
        System.exit(b.run() ? 0 : 1);
    }

    private static MarketLink.Settings settings() {
        return new MarketLink.Settings(new InetSocketAddress("127.0.0.1", 0), null, FrameDecoder.DEFAULT_MAX_PAYLOAD, 10_000,
                30_000, 600_000, 1_000_000, 1024, 1024, Duration.ofHours(1), Duration.ofHours(1), Duration.ofSeconds(1),
                Duration.ofMinutes(1));
    }

    private boolean run() throws Exception {
        Path dir = Files.createTempDirectory("gpu-agent-protocol-bench");
        Instant now = Instant.now();
        DevCertificateAuthority ca = DevCertificateAuthority.create("gpu-agent bench CA", now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(30)));
        DevTlsFiles.write(dir.resolve("tls"), ca, leaf(ca, "agent", now), leaf(ca, "scheduler", now), false);
        TlsContexts agentTls = TlsContexts.agentListen(tlsSettings(dir.resolve("tls"), "agent", now));
        TlsContexts schedulerTls = TlsContexts.scheduler(tlsSettings(dir.resolve("tls"), "scheduler", now));

        BenchSchedulerPort port = new BenchSchedulerPort();
        MarketLink agentWithTls = MarketLink.start(settings(), agentTls, null, port, Clock.SYSTEM);
        MarketLink agentPlain = MarketLink.start(settings(), null, null, port, Clock.SYSTEM);
        // the hub's first periodic offer check would push an offer to every connection: have it now, with none
        agentWithTls.hub().offer(false);
        agentPlain.hub().offer(false);
        try (FrameEchoServer echoWithTls = new FrameEchoServer(agentTls, FrameDecoder.DEFAULT_MAX_PAYLOAD, echoAnswerBytes);
             FrameEchoServer echoPlain = new FrameEchoServer(null, FrameDecoder.DEFAULT_MAX_PAYLOAD, echoAnswerBytes);
             FrameLoadClient tlsClient = new FrameLoadClient(schedulerTls);
             FrameLoadClient plainClient = new FrameLoadClient(null)) {
            List<Target[]> pairs = List.of(
                    new Target[] {new Target(Kind.AGENT, true, agentWithTls.listenAddress().orElseThrow(), tlsClient),
                            new Target(Kind.ECHO, true, echoWithTls.address(), tlsClient)},
                    new Target[] {new Target(Kind.AGENT, false, agentPlain.listenAddress().orElseThrow(), plainClient),
                            new Target(Kind.ECHO, false, echoPlain.address(), plainClient)});
            System.out.printf(Locale.ROOT, "frames: status request %d B, status answer %d B, heartbeat request %d B, "
                    + "heartbeat answer ~%d B (payload, without the 4-byte prefix)%n", payload(status()).length,
                    payload(MessageCodec.encode(port.status(new Message.Status("s-1")), ID)).length,
                    payload(heartbeat()).length,
                    payload(MessageCodec.encode(new Message.Heartbeat(Instant.now().toString()), ID)).length);
            System.out.printf(Locale.ROOT, "echo answers: %s; TLS cipher suite order: %s%n", echoAnswerBytes == 0
                    ? "the request's own payload" : "the request padded with spaces to " + echoAnswerBytes + " B",
                    TlsContexts.CIPHER_SUITES);
            // JIT warm-up of every path (both servers, both requests, TLS and not) before anything is recorded
            for (Target[] pair : pairs) {
                for (Target t : pair) {
                    List<FrameLoadClient.Conn> conns = open(t, 1);
                    for (String request : List.of("status", "heartbeat")) {
                        FrameLoadClient.Run r = newRun(t, request, 16, Long.MAX_VALUE, 1);
                        conns.get(0).start(r);
                        Thread.sleep(1500);
                        r.stop = true;
                        await(r);
                    }
                    FrameLoadClient.closeAll(conns);
                }
            }
            System.out.printf(Locale.ROOT, "%n== latency: 1 connection, 1 outstanding, %d round trips each after %d of warm-up"
                    + " (us)%n", samples, warmup);
            System.out.printf(Locale.ROOT, "%-12s %-10s %8s %8s %8s %8s %8s%n", "server", "request", "p50", "p90", "p99",
                    "p99.9", "max");
            for (Target[] pair : pairs) {
                for (String request : List.of("status", "heartbeat")) {
                    latency(pair, request);
                }
            }
            javaClientLatency(agentWithTls, schedulerTls, "agent TLS");
            javaClientLatency(agentPlain, null, "agent plain");
            for (int[] load : loads) {
                System.out.printf(Locale.ROOT, "%n== throughput: status, closed loop, %d connection(s) x %d outstanding, "
                        + "%d s per server (2 blocks, ABBA) after 2 s of warm-up each%n", load[0], load[1], seconds);
                System.out.printf(Locale.ROOT, "%-12s %10s %8s %8s %14s %14s %12s%n", "server", "req/s", "p50 us", "p99 us",
                        "server CPU/req", "client CPU/req", "server alloc");
                for (Target[] pair : pairs) {
                    throughput(pair, load[0], load[1]);
                }
            }
            for (MarketLink link : List.of(agentWithTls, agentPlain)) {
                Map<String, Long> errors = link.stats().errors();
                System.out.println("agent " + (link == agentWithTls ? "TLS" : "plain") + " link: sent " + link.stats().sent()
                        + ", errors " + errors + ", closed " + link.stats().closed() + ", refused " + link.stats().rejected());
                if (!errors.isEmpty()) {
                    failures++;
                }
            }
        } finally {
            agentWithTls.close();
            agentPlain.close();
        }
        if (failures > 0) {
            System.out.println("FAILED: " + failures + " unexpected answers or errors; the figures above do not count");
        }
        return failures == 0;
    }

    private static DevCertificateAuthority.Issued leaf(DevCertificateAuthority ca, String name, Instant now)
            throws Exception {
        return ca.issue(name, List.of("localhost"), List.of("127.0.0.1"), now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(30)));
    }

    private static TlsSettings tlsSettings(Path dir, String who, Instant now) throws Exception {
        return TlsSettings.load(dir.resolve(who + ".pem"), dir.resolve(who + "-key.pem"), dir.resolve(DevTlsFiles.CA),
                List.of(), 10_000, now);
    }

    // ---- frames -------------------------------------------------------------------------------

    private static io.gpuagent.protocol.Envelope status() {
        return MessageCodec.encode(new Message.Status("s-1"), ID);
    }

    private static io.gpuagent.protocol.Envelope heartbeat() {
        return MessageCodec.encode(new Message.Heartbeat(null), ID);
    }

    private static byte[] payload(io.gpuagent.protocol.Envelope e) {
        return EnvelopeCodec.encode(e);
    }

    private static byte[] frame(io.gpuagent.protocol.Envelope e) {
        byte[] p = payload(e);
        return ByteBuffer.allocate(4 + p.length).putInt(p.length).put(p).array();
    }

    private static byte[] hello() {
        return frame(MessageCodec.encode(new Message.Hello(List.of(1), "bench", null, List.of()), "hello-1"));
    }

    private static FrameLoadClient.Run newRun(Target t, String request, int depth, long perConnection, int connections) {
        String answerType = t.kind() == Kind.ECHO ? request : request.equals("status") ? "session" : "heartbeat";
        byte[] expect = FrameLoadClient.ascii("{\"v\":1,\"type\":\"" + answerType + "\",\"id\":\"" + ID + "\"");
        byte[] frame = frame(request.equals("status") ? status() : heartbeat());
        return new FrameLoadClient.Run(frame, expect, depth, perConnection, connections);
    }

    private static List<FrameLoadClient.Conn> open(Target t, int n) throws Exception {
        // the agent answers hello with welcome, then pushes its offer; the echo server needs no hello
        return t.kind() == Kind.AGENT ? t.client().open(t.address(), n, hello(), 2) : t.client().open(t.address(), n, null, 0);
    }

    // ---- latency ------------------------------------------------------------------------------

    private void latency(Target[] pair, String request) throws Exception {
        List<List<FrameLoadClient.Conn>> conns = new ArrayList<>();
        for (Target t : pair) {
            conns.add(open(t, 1));
        }
        int blocks = 50; // short blocks: a burst from a neighbour on a shared machine lands on both servers
        long[][] all = new long[pair.length][];
        for (int i = 0; i < pair.length; i++) {
            all[i] = new long[0];
        }
        for (int phase = 0; phase < 2; phase++) {
            boolean measure = phase == 1;
            int perBlock = Math.max(1, (measure ? samples : warmup) / blocks);
            for (int b = 0; b < blocks; b++) {
                for (int k = 0; k < pair.length; k++) {
                    int i = b % 2 == 0 ? k : pair.length - 1 - k; // ABBA: neither server always goes first
                    FrameLoadClient.Run r = newRun(pair[i], request, 1, perBlock, 1);
                    r.recording = measure;
                    FrameLoadClient.Conn c = conns.get(i).get(0);
                    c.start(r);
                    await(r);
                    if (measure) {
                        long[] s = c.samples();
                        long[] merged = Arrays.copyOf(all[i], all[i].length + s.length);
                        System.arraycopy(s, 0, merged, all[i].length, s.length);
                        all[i] = merged;
                    }
                }
            }
        }
        for (int i = 0; i < pair.length; i++) {
            printLatency(pair[i].name(), request, all[i]);
        }
        System.out.printf(Locale.ROOT, "%-12s %-10s %8.2f %8s %8.2f   (agent/echo, p50 and p99)%n", "ratio", request,
                percentile(all[0], 0.5) / (double) percentile(all[1], 0.5), "",
                percentile(all[0], 0.99) / (double) percentile(all[1], 0.99));
        conns.forEach(FrameLoadClient::closeAll);
    }

    private void await(FrameLoadClient.Run r) throws InterruptedException {
        if (!r.done.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("a run did not finish in 120 s");
        }
        if (r.mismatches.get() > 0) {
            System.out.println("!! " + r.mismatches.get() + " answers were not the expected ones");
            failures += r.mismatches.get();
        }
    }

    private static void printLatency(String server, String request, long[] s) {
        Arrays.sort(s);
        System.out.printf(Locale.ROOT, "%-12s %-10s %8.1f %8.1f %8.1f %8.1f %8.1f%n", server, request,
                percentile(s, 0.5) / 1e3, percentile(s, 0.9) / 1e3, percentile(s, 0.99) / 1e3, percentile(s, 0.999) / 1e3,
                s[s.length - 1] / 1e3);
    }

    /** The nearest-rank percentile of sorted samples. */
    private static long percentile(long[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** The round trip a Java scheduler sees: {@link SchedulerConnection#call}, Jackson on both ends. */
    private void javaClientLatency(MarketLink link, TlsContexts tls, String name) throws Exception {
        try (SchedulerClient client = new SchedulerClient(tls);
             SchedulerConnection c = client.connect(link.listenAddress().orElseThrow())) {
            c.call(new Message.Hello(List.of(1), "bench", null, List.of()), Message.Welcome.class, Duration.ofSeconds(10));
            Message.Status req = new Message.Status("s-1");
            long[] s = new long[samples];
            for (int i = -warmup; i < samples; i++) {
                long t0 = System.nanoTime();
                c.call(req, Message.SessionReply.class, Duration.ofSeconds(10));
                if (i >= 0) {
                    s[i] = System.nanoTime() - t0;
                }
            }
            printLatency(name, "status*", s);
        }
    }

    // ---- throughput ---------------------------------------------------------------------------

    private void throughput(Target[] pair, int connections, int depth) throws Exception {
        List<List<FrameLoadClient.Conn>> conns = new ArrayList<>();
        for (Target t : pair) {
            conns.add(open(t, connections));
        }
        long[] completed = new long[pair.length];
        long[] nanos = new long[pair.length];
        long[] serverCpu = new long[pair.length];
        long[] clientCpu = new long[pair.length];
        long[] serverAlloc = new long[pair.length];
        List<List<long[]>> lat = new ArrayList<>();
        for (int i = 0; i < pair.length; i++) {
            lat.add(new ArrayList<>());
        }
        for (int i = 0; i < pair.length; i++) {
            block(pair[i], conns.get(i), depth, 2_000, false, null);
        }
        int[] order = {0, 1, 1, 0};
        for (int i : order) {
            long[] m = block(pair[i], conns.get(i), depth, seconds * 500L, true, lat.get(i));
            completed[i] += m[0];
            nanos[i] += m[1];
            serverCpu[i] += m[2];
            clientCpu[i] += m[3];
            serverAlloc[i] += m[4];
        }
        double[] rps = new double[pair.length];
        for (int i = 0; i < pair.length; i++) {
            long[] s = lat.get(i).stream().flatMapToLong(Arrays::stream).toArray();
            Arrays.sort(s);
            rps[i] = completed[i] * 1e9 / nanos[i];
            System.out.printf(Locale.ROOT, "%-12s %10.0f %8.1f %8.1f %11.1f us %11.1f us %10.0f B%n", pair[i].name(),
                    rps[i], percentile(s, 0.5) / 1e3, percentile(s, 0.99) / 1e3, serverCpu[i] / 1e3 / completed[i],
                    clientCpu[i] / 1e3 / completed[i], serverAlloc[i] / (double) completed[i]);
        }
        System.out.printf(Locale.ROOT, "%-12s %10.2f %8s %8s %11.2f x%n", "ratio", rps[0] / rps[1], "", "",
                (serverCpu[0] / (double) completed[0]) / (serverCpu[1] / (double) completed[1]));
        conns.forEach(FrameLoadClient::closeAll);
    }

    /** One timed block; returns {completed, elapsed ns, server CPU ns, client CPU ns, server bytes allocated}. */
    private long[] block(Target t, List<FrameLoadClient.Conn> conns, int depth, long millis, boolean measure,
                         List<long[]> latencies) throws Exception {
        FrameLoadClient.Run r = newRun(t, "status", depth, Long.MAX_VALUE, conns.size());
        conns.forEach(c -> c.start(r));
        Thread.sleep(Math.min(500, millis / 4)); // every connection running before the window opens
        long c0 = r.completed.sum();
        long s0 = cpu(t.threads());
        long k0 = cpu(FrameLoadClient.THREADS);
        long a0 = allocated(t.threads());
        long t0 = System.nanoTime();
        r.recording = measure;
        Thread.sleep(millis);
        r.recording = false;
        long t1 = System.nanoTime();
        long c1 = r.completed.sum();
        long s1 = cpu(t.threads());
        long k1 = cpu(FrameLoadClient.THREADS);
        long a1 = allocated(t.threads());
        r.stop = true;
        await(r);
        if (latencies != null) {
            for (FrameLoadClient.Conn c : conns) {
                latencies.add(c.samples());
            }
        }
        return new long[] {c1 - c0, t1 - t0, s1 - s0, k1 - k0, a1 - a0};
    }

    /** CPU time of every live thread whose name starts with {@code prefix}, in nanoseconds. */
    private static long cpu(String prefix) {
        return sum(prefix, false);
    }

    /** Bytes allocated by every live thread whose name starts with {@code prefix}. */
    private static long allocated(String prefix) {
        return sum(prefix, true);
    }

    private static long sum(String prefix, boolean bytes) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long total = 0;
        for (ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith(prefix)) {
                long id = info.getThreadId();
                total += Math.max(0, bytes ? mx.getThreadAllocatedBytes(id) : mx.getThreadCpuTime(id));
            }
        }
        return total;
    }
}

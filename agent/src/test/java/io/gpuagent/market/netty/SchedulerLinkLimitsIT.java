package io.gpuagent.market.netty;

import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.protocol.Message;
import io.gpuagent.util.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;

import static io.gpuagent.market.netty.RawSchedulerSocket.closedByPeer;
import static io.gpuagent.market.netty.RawSchedulerSocket.frame;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The limits in time of a listening scheduler link on real loopback sockets, the real clock and
 * Netty's real timers: a slow sender is cut off at the read timeout, an idle peer at the idle
 * timeout while a peer that sends heartbeats stays, a flood is rate limited then cut off; after
 * each the link still serves a well-behaved scheduler. The same limits to the millisecond on a
 * mock ticker: {@link SchedulerPipelineLimitsTest}. Every wait here is for a condition, with a
 * deadline.
 */
class SchedulerLinkLimitsIT {
    private final StubSchedulerPort port = new StubSchedulerPort();
    private final SchedulerClient client = new SchedulerClient(null);
    private MarketLink link;
    private InetSocketAddress address;

    private void startLink(long idleTimeoutMs) throws Exception {
        MarketLink.Settings s = new MarketLink.Settings(new InetSocketAddress("127.0.0.1", 0), null, 4096, 2000, 400,
                idleTimeoutMs, 50, 6, 3, Duration.ofMillis(200), Duration.ofSeconds(30), Duration.ofMillis(50),
                Duration.ofMillis(500));
        link = MarketLink.start(s, null, null, port, Clock.SYSTEM);
        address = link.listenAddress().orElseThrow();
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        if (link != null) {
            link.stop(Duration.ofSeconds(5));
        }
    }

    private void aGoodSchedulerIsStillServed() throws Exception {
        try (SchedulerConnection c = client.connect(address)) {
            c.call(new Message.Hello(List.of(1), "good", null, List.of()), Message.Welcome.class, Duration.ofSeconds(5));
            assertThat(c.call(new Message.ListSessions(), Message.Sessions.class, Duration.ofSeconds(5)).sessions()).hasSize(1);
        }
    }

    @Test
    void aTruncatedFrameFromASlowSenderIsCutOffAtTheReadTimeout() throws Exception {
        startLink(30_000);
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            OutputStream out = s.getOutputStream();
            byte[] f = frame("{\"v\":1,\"type\":\"list\",\"id\":\"slow\"}");
            long t0 = System.nanoTime();
            out.write(f, 0, 6); // the prefix and two bytes, then silence (a slowloris, or a truncated frame)
            out.flush();
            assertThat(closedByPeer(s)).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(2500));
        }
        await().untilAsserted(() -> assertThat(link.stats().closed()).containsKey("read_timeout"));
        aGoodSchedulerIsStillServed();
    }

    @Test
    void anIdleConnectionIsClosedButHeartbeatsKeepOneOpen() throws Exception {
        startLink(1500);
        try (Socket idle = new Socket(address.getAddress(), address.getPort());
             SchedulerConnection live = client.connect(address)) {
            live.call(new Message.Hello(List.of(1), "live", null, List.of()), Message.Welcome.class, Duration.ofSeconds(5));
            InputStream silent = idle.getInputStream();
            // the live one sends a heartbeat every 200 ms until the idle one is closed and 2.5 s have passed
            // (past the 1.5 s idle timeout); within the 5.5 s the test gave it before (2.5 s, then 3 s to close)
            long start = System.nanoTime();
            await().atMost(Duration.ofMillis(5500)).pollInSameThread().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        live.call(new Message.Heartbeat(null), Message.Heartbeat.class, Duration.ofSeconds(2));
                        return closedWithin(idle, silent, Duration.ofMillis(1))
                                && System.nanoTime() - start >= Duration.ofMillis(2500).toNanos();
                    });
            assertThat(live.isOpen()).isTrue();
        }
        assertThat(link.stats().closed()).containsKey("idle_timeout");
        await().untilAsserted(() -> assertThat(link.stats().roundTrip().count())
                .as("the client answered the agent's heartbeats").isPositive());
    }

    /** Reads {@code s} for up to {@code wait}: true once the agent has closed (or reset) it. */
    private static boolean closedWithin(Socket s, InputStream in, Duration wait) throws IOException {
        s.setSoTimeout((int) wait.toMillis());
        try {
            while (true) {
                if (in.read() < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("reset")) {
                return true;
            }
            throw e;
        }
    }

    @Test
    void aFloodIsRateLimitedThenCutOff() throws Exception {
        startLink(30_000);
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            OutputStream out = s.getOutputStream();
            ByteBuffer burst = ByteBuffer.allocate(1000 * 40);
            byte[] hb = frame("{\"v\":1,\"type\":\"heartbeat\",\"id\":\"x\"}");
            while (burst.remaining() >= hb.length) {
                burst.put(hb);
            }
            try {
                out.write(burst.array(), 0, burst.position());
                out.write(burst.array(), 0, burst.position());
            } catch (IOException closed) {
                // the agent closed the connection mid-flood: that is the point
            }
            assertThat(closedByPeer(s)).isTrue();
        }
        assertThat(link.stats().errors()).containsKey("rate_limited");
        assertThat(link.stats().closed()).containsKey("flood");
        aGoodSchedulerIsStillServed();
    }
}

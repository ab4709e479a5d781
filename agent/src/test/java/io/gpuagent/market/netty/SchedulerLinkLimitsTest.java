package io.gpuagent.market.netty;

import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.protocol.Message;
import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.gpuagent.market.netty.RawSchedulerSocket.answerTo;
import static io.gpuagent.market.netty.RawSchedulerSocket.closedByPeer;
import static io.gpuagent.market.netty.RawSchedulerSocket.frame;
import static io.gpuagent.market.netty.RawSchedulerSocket.readFrame;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The limits of a listening scheduler link on real loopback sockets (plaintext; TLS has its own
 * tests): bad frames are answered and change nothing, oversized prefixes and connections over the
 * caps are cut off, and after each the link still serves a well-behaved scheduler. Nothing here
 * waits for time to pass: the limits in time (frame deadline, idle timeout, rate limit) are
 * {@link SchedulerPipelineLimitsTest} on a mock ticker, and {@code SchedulerLinkLimitsIT} on real
 * sockets and real time. Waits for the link's own threads are conditions with a deadline.
 */
class SchedulerLinkLimitsTest {
    private final StubSchedulerPort port = new StubSchedulerPort();
    private MarketLink link;
    private SchedulerClient client;
    private InetSocketAddress address;

    @BeforeEach
    void start() throws Exception {
        MarketLink.Settings s = new MarketLink.Settings(new InetSocketAddress("127.0.0.1", 0), null, 4096, 2000, 400,
                30_000, 50, 6, 3, Duration.ofMillis(200), Duration.ofSeconds(30), Duration.ofMillis(50),
                Duration.ofMillis(500));
        // the link's clock stands still: its rate limit never refills, and no test here sends a burst's worth
        link = MarketLink.start(s, null, null, port, new ManualClock());
        address = link.listenAddress().orElseThrow();
        client = new SchedulerClient(null);
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        link.stop(Duration.ofSeconds(5));
    }

    private void aGoodSchedulerIsStillServed() throws Exception {
        try (SchedulerConnection c = client.connect(address)) {
            c.call(new Message.Hello(List.of(1), "good", null, List.of()), Message.Welcome.class, Duration.ofSeconds(5));
            assertThat(c.call(new Message.ListSessions(), Message.Sessions.class, Duration.ofSeconds(5)).sessions()).hasSize(1);
        }
    }

    @Test
    void requestsBeforeHelloAreRefusedAndHelloNegotiatesTheVersion() throws Exception {
        try (SchedulerConnection c = client.connect(address)) {
            Message reply = c.send(new Message.ListSessions()).get();
            assertThat(reply).isEqualTo(new Message.Error("hello_required", "send hello first"));
            Message bad = c.send(new Message.Hello(List.of(7, 9), "future", null, List.of())).get();
            assertThat(((Message.Error) bad).code()).isEqualTo("unsupported_version");
            Message.Welcome w = c.call(new Message.Hello(List.of(2, 1), "s", null, List.of()), Message.Welcome.class,
                    Duration.ofSeconds(5));
            assertThat(w.version()).isEqualTo(1);
        }
        assertThat(port.commands).isEmpty();
    }

    @Test
    void malformedFramesAreAnsweredWithTheirCodeAndTheConnectionKeepsServing() throws Exception {
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(frame("{\"v\":1,\"type\":\"hello\",\"id\":\"h\",\"body\":{\"versions\":[1]}}"));
            assertThat(answerTo(in, "h")).contains("\"type\":\"welcome\"");
            String[][] cases = {
                    {"{not json", "malformed_json"},
                    {"[1,2]", "not_an_object"},
                    {"{\"v\":1,\"id\":\"a\"}", "missing_field"},
                    {"{\"v\":\"1\",\"type\":\"list\",\"id\":\"b\"}", "wrong_type"},
                    {"{\"v\":2,\"type\":\"list\",\"id\":\"c\"}", "unsupported_version"},
                    {"{\"v\":1,\"type\":\"format_disk\",\"id\":\"d\"}", "unknown_type"},
                    {"{\"v\":1,\"type\":\"launch\",\"id\":\"e\",\"body\":{\"session\":\"x\",\"gpus\":\"all\"}}", "wrong_type"},
                    {"{\"v\":1,\"type\":\"session\",\"id\":\"f\",\"body\":{\"session\":{}}}", "unexpected_message"},
                    {"{\"v\":1,\"type\":\"voucher.ack\",\"id\":\"g\",\"body\":{}}", "unexpected_message"},
                    {"{\"v\":1,\"type\":\"stop\",\"body\":{\"session\":\"s-1\"}}", "is missing: requests carry"},
                    {"{\"v\":1,\"type\":\"heartbeat\",\"id\":\"replayed-1\"}", "\"type\":\"heartbeat\""},
            };
            for (String[] c : cases) {
                out.write(frame(c[0]));
                String reply;
                do {
                    reply = readFrame(in);
                } while (reply.contains("\"type\":\"offer\"") || reply.contains("\"type\":\"session.usage\"")
                        || reply.contains("\"id\":\"agent-hb"));
                assertThat(reply).as(c[0]).contains(c[1]);
            }
            out.write(frame("{\"v\":1,\"type\":\"list\",\"id\":\"z\"}"));
            assertThat(answerTo(in, "z")).contains("\"type\":\"sessions\"");
        }
        assertThat(port.commands).as("nothing was launched or stopped").isEmpty();
        assertThat(link.stats().errors()).containsKeys("malformed_json", "unknown_type", "unexpected_message");
    }

    @Test
    void anOversizedLengthPrefixClosesTheConnectionBeforeThePayloadIsRead() throws Exception {
        for (int prefix : new int[] {4097, -1, Integer.MAX_VALUE}) {
            try (Socket s = new Socket(address.getAddress(), address.getPort())) {
                s.getOutputStream().write(ByteBuffer.allocate(4).putInt(prefix).array());
                String reply = readFrame(s.getInputStream());
                assertThat(reply).contains("frame_too_large");
                assertThat(closedByPeer(s)).as("prefix %d closes", prefix).isTrue();
            }
        }
        aGoodSchedulerIsStillServed();
    }

    @Test
    void connectionsOverTheCapsAreClosedAtOnceAndTheOthersKeepServing() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Socket s = new Socket(address.getAddress(), address.getPort());
                held.add(s);
                // served (a heartbeat answered) before the next: the kernel accepts before the agent counts
                s.getOutputStream().write(frame("{\"v\":1,\"type\":\"heartbeat\",\"id\":\"w" + i + "\"}"));
                assertThat(answerTo(s.getInputStream(), "w" + i)).contains("heartbeat");
            }
            try (Socket fourth = new Socket(address.getAddress(), address.getPort())) {
                assertThat(closedByPeer(fourth)).as("the 4th from one address is over max_connections_per_address").isTrue();
            }
            await().untilAsserted(() -> assertThat(link.stats().rejected()).containsKey("max_connections_per_address"));
            OutputStream out = held.get(0).getOutputStream();
            out.write(frame("{\"v\":1,\"type\":\"heartbeat\",\"id\":\"hb\"}"));
            assertThat(answerTo(held.get(0).getInputStream(), "hb")).contains("heartbeat");
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
        await().untilAsserted(this::aGoodSchedulerIsStillServed);
    }

    @Test
    void eventsArePushedAfterHelloAndOfferChangesGoOutAtOnce() throws Exception {
        List<Message> events = new CopyOnWriteArrayList<>();
        try (SchedulerConnection c = client.connect(address)) {
            c.onEvent(events::add);
            c.call(new Message.Hello(List.of(1), "s", null, List.of()), Message.Welcome.class, Duration.ofSeconds(5));
            await().until(() -> events.stream().anyMatch(e -> e instanceof Message.Offer o && o.freeGpus() == 8));
            port.freeGpus = 5;
            link.hub().offer(false);
            await().until(() -> events.stream().anyMatch(e -> e instanceof Message.Offer o && o.freeGpus() == 5));
            port.draining = true;
            await().until(() -> events.stream().anyMatch(e -> e instanceof Message.Drain d && d.draining()));
            // the live meter's usage reaches schedulers through the event bridge, once per meter tick
            new io.gpuagent.market.EventBridge(link.hub()).onUsage(List.of(new io.gpuagent.session.SessionView("s-1", "r",
                    "renter", "img", io.gpuagent.session.SessionState.RUNNING, List.of("GPU-0"), List.of(), "c", null, null,
                    5, null, null, null, false, null, io.gpuagent.session.SessionUsage.NONE)));
            await().until(() -> events.stream().anyMatch(e -> e instanceof Message.SessionUsage u && u.billedSeconds() == 5));
        }
    }

    @Test
    void commandsAreDispatchedAndRefusalsKeepTheirCode() throws Exception {
        try (SchedulerConnection c = client.connect(address)) {
            c.call(new Message.Hello(List.of(1), "s", null, List.of()), Message.Welcome.class, Duration.ofSeconds(5));
            Message.Launch l = new Message.Launch("s-9", "r", "x", 1, null, "img", null, null, null, null, "611", 60L);
            assertThat(c.call(l, Message.SessionReply.class, Duration.ofSeconds(5)).session().session()).isEqualTo("s-9");
            port.refuseLaunchWith = "policy_image";
            Message refused = c.send(l).get();
            assertThat(((Message.Error) refused).code()).isEqualTo("policy_image");
            assertThat(((Message.Error) c.send(new Message.Status("nope")).get()).code()).isEqualTo("unknown_session");
        }
        assertThat(port.commands).hasSize(1);
    }
}

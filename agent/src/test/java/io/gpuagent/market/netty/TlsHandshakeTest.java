package io.gpuagent.market.netty;

import io.gpuagent.market.tls.Fingerprints;
import io.gpuagent.market.tls.TlsSettings;
import io.gpuagent.market.tls.TlsSetupException;
import io.gpuagent.devtools.DevCertificateAuthority;
import io.gpuagent.testsupport.TlsFixtures;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real TLS over loopback sockets (Netty NIO, in this JVM): which peers each role accepts and
 * refuses. Every refusal is checked on the side that must refuse, and every test that refuses
 * someone then shows the same server still accepts a good peer. No test measures time: when the
 * handshake timeout falls is checked on an {@link EmbeddedChannel} with a mock ticker.
 */
class TlsHandshakeTest {
    private static final String PING = "ping\n";

    @TempDir
    static Path dir;

    static EventLoopGroup group;
    static DevCertificateAuthority ca;
    static DevCertificateAuthority otherCa;
    static DevCertificateAuthority.Issued agentLeaf;
    static DevCertificateAuthority.Issued schedulerLeaf;
    static DevCertificateAuthority.Issued secondScheduler;
    static DevCertificateAuthority.Issued rogueScheduler;
    static DevCertificateAuthority.Issued expiredScheduler;
    static DevCertificateAuthority.Issued marketElsewhere;
    static TlsFixtures.Paths agent;
    static TlsFixtures.Paths scheduler;
    static TlsFixtures.Paths second;
    static TlsFixtures.Paths market;
    static Path caFile;

    @BeforeAll
    static void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        ca = TlsFixtures.ca("handshake CA");
        otherCa = TlsFixtures.ca("another CA");
        agentLeaf = TlsFixtures.leaf(ca, "agent-1");
        schedulerLeaf = TlsFixtures.leaf(ca, "scheduler-1");
        secondScheduler = TlsFixtures.leaf(ca, "scheduler-2");
        rogueScheduler = TlsFixtures.leaf(otherCa, "scheduler-1");
        Instant now = Instant.now();
        expiredScheduler = ca.issue("scheduler-old", List.of("localhost"), List.of("127.0.0.1"),
                now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)));
        marketElsewhere = ca.issue("market", List.of("market.example"), List.of("192.0.2.10"),
                TlsFixtures.YESTERDAY, TlsFixtures.NEXT_YEAR);
        agent = TlsFixtures.write(dir, "agent", ca, agentLeaf);
        scheduler = TlsFixtures.write(dir, "scheduler", ca, schedulerLeaf);
        second = TlsFixtures.write(dir, "scheduler-2", ca, secondScheduler);
        market = TlsFixtures.write(dir, "market", ca, marketElsewhere);
        caFile = TlsFixtures.writeCa(dir, "ca", ca.certificate());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private static TlsSettings settings(TlsFixtures.Paths side, Path caPath, List<String> pins, long timeoutMs)
            throws TlsSetupException {
        return TlsSettings.load(side.cert(), side.key(), caPath, pins, timeoutMs, Instant.now());
    }

    private static TlsSettings settings(TlsFixtures.Paths side) throws TlsSetupException {
        return settings(side, caFile, List.of(), 5000);
    }

    /**
     * A client context outside the agent's rules, for peers that misbehave. It presents its
     * certificate whatever CA names the server asks for (the JDK's own key manager would send none
     * for a certificate from another CA, and the server's check would go untested).
     */
    private static SslContext rawClient(String protocol, DevCertificateAuthority.Issued identity) throws Exception {
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols(protocol)
                .trustManager(ca.certificate());
        if (identity != null) {
            b.keyManager(new AlwaysPresents(identity));
        }
        return b.build();
    }

    /** A key manager with one identity that it offers to every server. */
    private static final class AlwaysPresents extends X509ExtendedKeyManager {
        private final DevCertificateAuthority.Issued identity;

        AlwaysPresents(DevCertificateAuthority.Issued identity) {
            this.identity = identity;
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return "id";
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, java.net.Socket socket) {
            return "id";
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[] {"id"};
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, java.net.Socket socket) {
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return new X509Certificate[] {identity.certificate()};
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return identity.key();
        }
    }

    // ---------------------------------------------------------------------------------------------

    @Test
    void mutualTlsWithTheDevCaSucceedsAndEachSideSeesTheOthersIdentity() throws Exception {
        try (Server server = new Server(TlsContexts.agentListen(settings(agent)))) {
            TlsContexts client = TlsContexts.scheduler(settings(scheduler));
            assertThat(client.verifiesHostname()).as("no pins: the scheduler checks the agent's name").isTrue();
            Result r = connect(ch -> client.newHandler(ch, "127.0.0.1", server.port()), server.port());
            assertThat(r.echo()).as(String.valueOf(r.failure())).isEqualTo(PING);
            assertThat(r.serverPeer().commonName()).isEqualTo("agent-1");
            assertThat(r.serverPeer().sha256Fingerprint()).isEqualTo(Fingerprints.sha256(agentLeaf.certificate()));
            assertThat(r.serverPeer().protocol()).isEqualTo("TLSv1.3");
            TlsPeer seen = server.acceptedPeer();
            assertThat(seen.commonName()).isEqualTo("scheduler-1");
            assertThat(seen.sha256Fingerprint()).isEqualTo(Fingerprints.sha256(schedulerLeaf.certificate()));
            assertThat(seen.certificate()).isEqualTo(schedulerLeaf.certificate());
            assertThat(seen.toString()).startsWith("CN=scheduler-1 sha256=").contains("TLSv1.3");
        }
    }

    @Test
    void theProviderPropertyForcesTheJdksTlsAndABadValueIsNamed() throws Exception {
        String before = System.getProperty(TlsContexts.PROVIDER_PROPERTY);
        try {
            System.setProperty(TlsContexts.PROVIDER_PROPERTY, "jdk");
            TlsContexts c = TlsContexts.agentListen(settings(agent));
            assertThat(c.sslContext()).isInstanceOf(JdkSslContext.class);
            assertThat(TlsContexts.describe(c.sslContext())).isEqualTo("JDK");
            System.setProperty(TlsContexts.PROVIDER_PROPERTY, "gnutls");
            assertThatThrownBy(() -> TlsContexts.agentListen(settings(agent))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("\"gnutls\"").hasMessageContaining("auto, openssl or jdk");
        } finally {
            if (before == null) {
                System.clearProperty(TlsContexts.PROVIDER_PROPERTY);
            } else {
                System.setProperty(TlsContexts.PROVIDER_PROPERTY, before);
            }
        }
    }

    @Test
    void everyRoleUsesBoringSslWhereItLoadsAndTlsOneThreeOnly() throws Exception {
        assertThat(OpenSsl.isAvailable()).as("the bundled BoringSSL loads on this Linux x86-64 machine: "
                + OpenSsl.unavailabilityCause()).isTrue();
        assertThat(TlsContexts.provider()).isEqualTo(io.netty.handler.ssl.SslProvider.OPENSSL);
        for (TlsContexts c : List.of(TlsContexts.agentListen(settings(agent)), TlsContexts.agentDialOut(settings(agent)),
                TlsContexts.scheduler(settings(scheduler)))) {
            assertThat(c.sslContext()).as(c.role().toString()).isInstanceOf(io.netty.handler.ssl.OpenSslContext.class);
            assertThat(TlsContexts.describe(c.sslContext())).startsWith("BoringSSL");
            SslHandler h = c.role().isClient() ? c.newHandler(io.netty.buffer.ByteBufAllocator.DEFAULT, "localhost", 1)
                    : c.newHandler(io.netty.buffer.ByteBufAllocator.DEFAULT);
            // Netty's OpenSSL engine always lists the SSLv2Hello pseudo-protocol, which BoringSSL never speaks
            assertThat(h.engine().getEnabledProtocols()).filteredOn(p -> !p.equals("SSLv2Hello")).containsExactly("TLSv1.3");
            assertThat(h.engine().getUseClientMode()).isEqualTo(c.role().isClient());
            assertThat(h.getHandshakeTimeoutMillis()).isEqualTo(5000);
            if (!c.role().isClient()) {
                assertThat(h.engine().getNeedClientAuth()).as("ClientAuth.REQUIRE").isTrue();
            }
        }
        TlsContexts server = TlsContexts.agentListen(settings(agent));
        assertThatThrownBy(() -> server.newHandler(io.netty.buffer.ByteBufAllocator.DEFAULT, "h", 1))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aClientWithoutACertificateIsRefusedAndTheServerStillAcceptsAGoodOne() throws Exception {
        try (Server server = new Server(TlsContexts.agentListen(settings(agent)))) {
            SslContext anonymous = rawClient("TLSv1.3", null);
            Result r = connect(ch -> anonymous.newHandler(ch.alloc(), "127.0.0.1", server.port()), server.port());
            assertThat(r.echo()).as("no application data without a client certificate").isNull();
            assertThat(messages(server.refusal())).containsIgnoringCase("certificate");
            server.assertStillAccepts();
        }
    }

    @Test
    void aClientWithACertificateFromAnotherCaIsRefused() throws Exception {
        try (Server server = new Server(TlsContexts.agentListen(settings(agent)))) {
            SslContext rogue = rawClient("TLSv1.3", rogueScheduler);
            Result r = connect(ch -> rogue.newHandler(ch.alloc(), "127.0.0.1", server.port()), server.port());
            assertThat(r.echo()).isNull();
            assertThat(messages(server.refusal())).contains("PKIX");
            server.assertStillAccepts();
        }
    }

    @Test
    void withPinsTheCaMustSignTheLeafAndTheLeafMustBePinned() throws Exception {
        String pin = Fingerprints.sha256(schedulerLeaf.certificate());
        try (Server server = new Server(TlsContexts.agentListen(settings(agent, caFile, List.of(pin), 5000)))) {
            TlsContexts pinnedOne = TlsContexts.scheduler(settings(scheduler));
            assertThat(connect(ch -> pinnedOne.newHandler(ch, "127.0.0.1", server.port()), server.port()).echo()).isEqualTo(PING);
            assertThat(server.acceptedPeer().commonName()).isEqualTo("scheduler-1");

            TlsContexts samecaUnpinned = TlsContexts.scheduler(settings(second));
            Result r = connect(ch -> samecaUnpinned.newHandler(ch, "127.0.0.1", server.port()), server.port());
            assertThat(r.echo()).as("signed by the CA but not pinned").isNull();
            assertThat(messages(server.refusal())).contains("CN=scheduler-2").contains("is not in tls_pins");

            SslContext rogue = rawClient("TLSv1.3", rogueScheduler);
            assertThat(connect(ch -> rogue.newHandler(ch.alloc(), "127.0.0.1", server.port()), server.port()).echo()).isNull();
            assertThat(messages(server.refusal())).as("another CA fails before the pin is looked at").contains("PKIX");
            server.assertStillAccepts(pinnedOne);
        }
    }

    @Test
    void withPinsOnlyThePinnedLeafIsAcceptedWhateverSignedIt() throws Exception {
        String roguePin = Fingerprints.sha256(rogueScheduler.certificate());
        try (Server server = new Server(TlsContexts.agentListen(settings(agent, null, List.of(roguePin), 5000)))) {
            SslContext rogue = rawClient("TLSv1.3", rogueScheduler);
            assertThat(connect(ch -> rogue.newHandler(ch.alloc(), "127.0.0.1", server.port()), server.port()).echo())
                    .as("pinned, though no configured CA signed it").isEqualTo(PING);
            assertThat(server.acceptedPeer().sha256Fingerprint()).isEqualTo(roguePin);

            TlsContexts unpinned = TlsContexts.scheduler(settings(scheduler));
            assertThat(connect(ch -> unpinned.newHandler(ch, "127.0.0.1", server.port()), server.port()).echo()).isNull();
            assertThat(messages(server.refusal())).contains("is not in tls_pins");
            assertThat(connect(ch -> rogue.newHandler(ch.alloc(), "127.0.0.1", server.port()), server.port()).echo()).isEqualTo(PING);
        }
    }

    @Test
    void aTlsOneTwoOnlyClientIsRefused() throws Exception {
        try (Server server = new Server(TlsContexts.agentListen(settings(agent)))) {
            SslContext old = rawClient("TLSv1.2", schedulerLeaf);
            Result r = connect(ch -> old.newHandler(ch.alloc(), "127.0.0.1", server.port()), server.port());
            assertThat(r.echo()).isNull();
            assertThat(r.handshakeFailure()).as("the client learns in the handshake").isNotNull();
            assertThat(messages(server.refusal())).containsIgnoringCase("protocol");
            server.assertStillAccepts();
        }
    }

    @Test
    void aPeerThatConnectsAndSendsNothingIsCutOffAtTheHandshakeTimeout() throws Exception {
        // on real sockets: closed and refused with the handshake timeout (only that timer raises it), the
        // server still accepting; exactly when, to the millisecond, is the embedded test below
        try (Server server = new Server(TlsContexts.agentListen(settings(agent, caFile, List.of(), 1000)))) {
            try (Socket silent = new Socket()) {
                silent.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
                silent.setSoTimeout(15_000);
                InputStream in = silent.getInputStream();
                int b = in.read();
                while (b >= 0) { // nothing should come before the close; drain whatever alert does
                    b = in.read();
                }
            }
            assertThat(server.refusal()).isInstanceOf(SslHandshakeTimeoutException.class);
            server.assertStillAccepts();
        }
    }

    @Test
    void theHandshakeTimeoutFallsExactlyAtTheConfiguredTimeOnTheChannelsClock() throws Exception {
        // Netty's EmbeddedChannel on a mock ticker: the handler's own timer, moved by the test, not waited for
        MockTicker ticker = Ticker.newMockTicker();
        SslHandler tls = TlsContexts.agentListen(settings(agent, caFile, List.of(), 1000)).newHandler(ByteBufAllocator.DEFAULT);
        EmbeddedChannel silent = EmbeddedChannel.builder().ticker(ticker).handlers(tls).build();
        try {
            ticker.advance(999, TimeUnit.MILLISECONDS);
            silent.runScheduledPendingTasks();
            silent.runPendingTasks();
            assertThat(tls.handshakeFuture().isDone()).as("not cut off before the timeout").isFalse();
            assertThat(silent.isOpen()).isTrue();
            ticker.advance(1, TimeUnit.MILLISECONDS);
            silent.runScheduledPendingTasks();
            silent.runPendingTasks();
            assertThat(tls.handshakeFuture().cause()).isInstanceOf(SslHandshakeTimeoutException.class);
            assertThat(silent.isOpen()).as("closed at the timeout").isFalse();
        } finally {
            silent.finishAndReleaseAll();
        }
    }

    @Test
    void aPeerWithAnExpiredCertificateIsRefusedWithOrWithoutACa() throws Exception {
        SslContext expired = rawClient("TLSv1.3", expiredScheduler);
        try (Server server = new Server(TlsContexts.agentListen(settings(agent)))) {
            assertThat(connect(ch -> expired.newHandler(ch.alloc(), "127.0.0.1", server.port()), server.port()).echo()).isNull();
            assertThat(messages(server.refusal())).containsIgnoringCase("expired");
            server.assertStillAccepts();
        }
        String pin = Fingerprints.sha256(expiredScheduler.certificate());
        try (Server server = new Server(TlsContexts.agentListen(settings(agent, null, List.of(pin), 5000)))) {
            assertThat(connect(ch -> expired.newHandler(ch.alloc(), "127.0.0.1", server.port()), server.port()).echo())
                    .as("a pin does not excuse expiry").isNull();
            assertThat(messages(server.refusal())).contains("the client's certificate CN=scheduler-old").contains("expired on");
        }
    }

    @Test
    void dialOutChecksTheMarketplaceHostNameUnlessPinned() throws Exception {
        // the marketplace is a TLS server too: the same server role, with its own certificate
        try (Server good = new Server(TlsContexts.agentListen(settings(scheduler)));
             Server elsewhere = new Server(TlsContexts.agentListen(settings(market)))) {
            TlsContexts dial = TlsContexts.agentDialOut(settings(agent));
            assertThat(dial.verifiesHostname()).isTrue();
            Result ok = connect(ch -> dial.newHandler(ch, "localhost", good.port()), good.port());
            assertThat(ok.echo()).isEqualTo(PING);
            assertThat(ok.serverPeer().commonName()).isEqualTo("scheduler-1");
            assertThat(good.acceptedPeer().commonName()).as("the agent presents its certificate when dialling").isEqualTo("agent-1");

            Result wrongName = connect(ch -> dial.newHandler(ch, "127.0.0.1", elsewhere.port()), elsewhere.port());
            assertThat(wrongName.echo()).isNull();
            assertThat(messages(wrongName.handshakeFailure())).contains("127.0.0.1");

            String pin = Fingerprints.sha256(marketElsewhere.certificate());
            TlsContexts pinned = TlsContexts.agentDialOut(settings(agent, caFile, List.of(pin), 5000));
            assertThat(pinned.verifiesHostname()).isFalse();
            Result byPin = connect(ch -> pinned.newHandler(ch, "127.0.0.1", elsewhere.port()), elsewhere.port());
            assertThat(byPin.echo()).as("pinned: the name is not checked").isEqualTo(PING);
            assertThat(byPin.serverPeer().sha256Fingerprint()).isEqualTo(pin);

            Result wrongPin = connect(ch -> pinned.newHandler(ch, "localhost", good.port()), good.port());
            assertThat(wrongPin.echo()).as("the pin holds on the client side too").isNull();
            assertThat(messages(wrongPin.handshakeFailure())).contains("is not in tls_pins");
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** All messages and class names of a throwable's cause chain, for asserting on the reason. */
    private static String messages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getClass().getName()).append(": ").append(c.getMessage()).append(" | ");
        }
        return sb.toString();
    }

    /** What a client saw: its handshake's failure (null: none), the server's identity, the echo or why none came. */
    record Result(Throwable handshakeFailure, TlsPeer serverPeer, String echo, Throwable failure) {
    }

    private Result connect(Function<Channel, SslHandler> tls, int port) throws Exception {
        CompletableFuture<String> echo = new CompletableFuture<>();
        SslHandler[] handler = new SslHandler[1];
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel c) {
                        handler[0] = tls.apply(c);
                        c.pipeline().addLast(handler[0], new Collector(echo));
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
        try {
            try {
                handler[0].handshakeFuture().get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                return new Result(e.getCause(), null, null, e.getCause());
            }
            TlsPeer peer = TlsPeer.of(handler[0]);
            ch.writeAndFlush(Unpooled.copiedBuffer(PING, StandardCharsets.US_ASCII));
            try {
                return new Result(null, peer, echo.get(10, TimeUnit.SECONDS), null);
            } catch (ExecutionException e) {
                return new Result(null, peer, null, e.getCause());
            }
        } finally {
            ch.close().sync();
        }
    }

    /** Completes with the first line read, or exceptionally when the connection fails or closes first. */
    private static final class Collector extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<String> echo;
        private final StringBuilder text = new StringBuilder();

        Collector(CompletableFuture<String> echo) {
            this.echo = echo;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            text.append(b.toString(StandardCharsets.US_ASCII));
            b.release();
            if (text.indexOf("\n") >= 0) {
                echo.complete(text.toString());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            echo.completeExceptionally(cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            echo.completeExceptionally(new IllegalStateException("closed before the echo"));
        }
    }

    /** A TLS echo server on an ephemeral loopback port; records how each handshake ended. */
    private final class Server implements AutoCloseable {
        private final Channel channel;
        private final BlockingQueue<Object> outcomes = new LinkedBlockingQueue<>();

        Server(TlsContexts contexts) throws InterruptedException {
            channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            SslHandler h = contexts.newHandler(c);
                            h.handshakeFuture().addListener(f -> {
                                if (f.isSuccess()) {
                                    outcomes.add(TlsPeer.of(c));
                                } else {
                                    outcomes.add(f.cause());
                                }
                            });
                            c.pipeline().addLast("tls", h).addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    ctx.writeAndFlush(msg);
                                }

                                @Override
                                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                    ctx.close(); // the handshake future already recorded why
                                }
                            });
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
        }

        int port() {
            return ((InetSocketAddress) channel.localAddress()).getPort();
        }

        private Object next() throws InterruptedException, TimeoutException {
            Object o = outcomes.poll(15, TimeUnit.SECONDS);
            if (o == null) {
                throw new TimeoutException("no handshake ended on the server");
            }
            return o;
        }

        TlsPeer acceptedPeer() throws Exception {
            Object o = next();
            if (o instanceof Throwable t) {
                throw new AssertionError("the server refused a peer it should accept: " + messages(t), t);
            }
            return (TlsPeer) o;
        }

        Throwable refusal() throws Exception {
            Object o = next();
            assertThat(o).as("the server should have refused this peer").isInstanceOf(Throwable.class);
            return (Throwable) o;
        }

        /** After a refusal, the server still serves the dev CA's scheduler. */
        void assertStillAccepts() throws Exception {
            assertStillAccepts(TlsContexts.scheduler(settings(scheduler)));
        }

        void assertStillAccepts(TlsContexts client) throws Exception {
            Result r = connect(ch -> client.newHandler(ch, "127.0.0.1", port()), port());
            assertThat(r.echo()).as("a good client after a refused one: " + r.failure()).isEqualTo(PING);
            assertThat(acceptedPeer().commonName()).isEqualTo("scheduler-1");
        }

        @Override
        public void close() throws InterruptedException {
            channel.close().sync();
        }
    }
}

package io.gpuagent.market.netty;

import io.gpuagent.devtools.DevCertificateAuthority;
import io.gpuagent.market.tls.TlsSettings;
import io.gpuagent.testsupport.TlsFixtures;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLParameters;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cipher suite order of the scheduler link: AES-GCM first where C2's intrinsics make it cheap,
 * ChaCha20-Poly1305 first on a C1-only JVM like the agent's unit, where AES-GCM is plain Java and
 * about four times dearer (docs/benchmarks.md, issue 13); and the agent's order, as TLS server, is
 * the one that counts with the JDK's TLS. With BoringSSL (the default where it loads) every suite is
 * native and the peer's first choice is taken.
 */
class TlsCipherSuitesTest {
    private static final String AES_128 = "TLS_AES_128_GCM_SHA256";
    private static final String CHACHA20 = "TLS_CHACHA20_POLY1305_SHA256";

    @TempDir
    Path dir;

    @Test
    void chaCha20ComesFirstOnlyWhereTheJvmHasNoC2() {
        String server = "OpenJDK 64-Bit Server VM";
        assertThat(TlsContexts.cipherSuites("mixed mode, sharing", server)).containsExactly(AES_128, "TLS_AES_256_GCM_SHA384",
                CHACHA20);
        assertThat(TlsContexts.cipherSuites("mixed mode", server).get(0)).isEqualTo(AES_128);
        assertThat(TlsContexts.cipherSuites("mixed mode, emulated-client, sharing", server)).containsExactly(CHACHA20, AES_128,
                "TLS_AES_256_GCM_SHA384");
        assertThat(TlsContexts.cipherSuites("mixed mode, emulated-client", server).get(0)).isEqualTo(CHACHA20);
        assertThat(TlsContexts.cipherSuites("interpreted mode, sharing", server).get(0)).isEqualTo(CHACHA20);
        assertThat(TlsContexts.cipherSuites("mixed mode", "OpenJDK Client VM").get(0)).isEqualTo(CHACHA20);
    }

    @Test
    void theJvmSaysEmulatedClientWithTheUnitsCompilerFlagAndNotWithout() throws Exception {
        // the contract the order rests on, asked of the JDK the tests run on
        assertThat(TlsContexts.cipherSuites(vmInfo("-XX:TieredStopAtLevel=1"), "").get(0)).isEqualTo(CHACHA20);
        assertThat(TlsContexts.cipherSuites(vmInfo("-XX:TieredStopAtLevel=4"), "").get(0)).isEqualTo(AES_128);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = io.netty.handler.ssl.SslProvider.class, names = {"JDK", "OPENSSL"})
    void theAgentsOrderDecidesWhateverTheSchedulerPrefers(io.netty.handler.ssl.SslProvider provider) throws Exception {
        DevCertificateAuthority ca = TlsFixtures.ca("suites CA");
        TlsFixtures.Paths agent = TlsFixtures.write(dir, "agent", ca, TlsFixtures.leaf(ca, "agent-1"));
        TlsFixtures.Paths scheduler = TlsFixtures.write(dir, "scheduler", ca, TlsFixtures.leaf(ca, "scheduler-1"));
        Path caFile = TlsFixtures.writeCa(dir, "ca", ca.certificate());
        TlsContexts server = TlsContexts.build(TlsContexts.Role.AGENT_LISTEN, TlsSettings.load(agent.cert(), agent.key(),
                caFile, List.of(), 5000, Instant.now()), provider);
        // the scheduler on the JDK's TLS, whose offered order the test sets
        TlsContexts client = TlsContexts.build(TlsContexts.Role.SCHEDULER, TlsSettings.load(scheduler.cert(), scheduler.key(),
                caFile, List.of(), 5000, Instant.now()), io.netty.handler.ssl.SslProvider.JDK);
        List<String> order = TlsContexts.cipherSuites(provider);
        for (List<String> offered : List.of(order, reversed(order))) {
            SSLEngine s = server.newHandler(ByteBufAllocator.DEFAULT).engine();
            SSLEngine c = client.newHandler(ByteBufAllocator.DEFAULT, "localhost", 1).engine();
            if (provider == io.netty.handler.ssl.SslProvider.JDK) {
                assertThat(s.getEnabledCipherSuites()).containsExactlyElementsOf(order);
            } // BoringSSL lists TLS 1.2 suites here, unused with TLS 1.3 only; its TLS 1.3 order is fixed, AES-GCM first
            SSLParameters p = c.getSSLParameters();
            p.setCipherSuites(offered.toArray(String[]::new));
            c.setSSLParameters(p);
            handshake(c, s);
            // the JDK's TLS as server: the agent's order (the JIT makes one suite far cheaper); BoringSSL follows the
            // client's first choice, which is fine: all three run at native speed there
            String expected = provider == io.netty.handler.ssl.SslProvider.JDK ? order.get(0) : offered.get(0);
            assertThat(s.getSession().getCipherSuite()).as("offered " + offered).isEqualTo(expected);
            assertThat(c.getSession().getCipherSuite()).isEqualTo(expected);
            assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
    }

    private static List<String> reversed(List<String> l) {
        List<String> r = new ArrayList<>(l);
        java.util.Collections.reverse(r);
        return r;
    }

    /** {@code java.vm.info} of a JVM started with {@code flag}. */
    private static String vmInfo(String flag) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), flag,
                "-XshowSettings:properties", "-version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        Matcher m = Pattern.compile("java\\.vm\\.info = (.*)").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return m.group(1).trim();
    }

    /** A handshake in memory, the two engines passing records back and forth. */
    private static void handshake(SSLEngine client, SSLEngine server) throws Exception {
        ByteBuffer toServer = ByteBuffer.allocate(1 << 17);
        ByteBuffer toClient = ByteBuffer.allocate(1 << 17);
        ByteBuffer app = ByteBuffer.allocate(1 << 17);
        ByteBuffer none = ByteBuffer.allocate(0);
        client.beginHandshake();
        server.beginHandshake();
        for (int i = 0; i < 100 && !(done(client) && done(server)); i++) {
            client.wrap(none, toServer);
            toServer.flip();
            server.unwrap(toServer, app);
            toServer.compact();
            tasks(server);
            server.wrap(none, toClient);
            toClient.flip();
            client.unwrap(toClient, app);
            toClient.compact();
            tasks(client);
        }
        assertThat(done(client) && done(server)).as("handshake finished").isTrue();
    }

    private static boolean done(SSLEngine e) {
        return e.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING;
    }

    private static void tasks(SSLEngine e) {
        for (Runnable r; (r = e.getDelegatedTask()) != null; ) {
            r.run();
        }
    }
}

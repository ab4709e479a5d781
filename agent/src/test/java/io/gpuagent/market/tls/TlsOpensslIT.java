package io.gpuagent.market.tls;

import io.gpuagent.market.netty.TlsContexts;
import io.gpuagent.market.netty.TlsPeer;
import io.gpuagent.devtools.DevCertificateAuthority;
import io.gpuagent.devtools.DevTlsFiles;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The development CA's files as the reference implementation reads them: {@code openssl verify},
 * {@code x509 -text}, {@code pkey}, and a real handshake from {@code openssl s_client} to the agent's
 * listen context. Needs the openssl command (Debian: {@code apt-get install openssl}); fails, never
 * skips, without it.
 */
class TlsOpensslIT {
    @TempDir
    static Path dir;

    static Path tls;
    static EventLoopGroup group;

    @BeforeAll
    static void files() throws Exception {
        try {
            Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0).as("openssl version").isTrue();
        } catch (IOException e) {
            throw new AssertionError("this integration test needs the openssl command: apt-get install openssl "
                    + "(or dnf install openssl); " + e.getMessage(), e);
        }
        tls = dir.resolve("tls");
        Instant now = Instant.now();
        DevCertificateAuthority ca = DevCertificateAuthority.create("openssl CA", now.minus(Duration.ofHours(1)),
                now.plus(Duration.ofDays(3650)));
        DevCertificateAuthority.Issued agent = ca.issue("agent-1", List.of("localhost", "agent-1.example"),
                List.of("127.0.0.1", "::1"), now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(365)));
        DevCertificateAuthority.Issued scheduler = ca.issue("scheduler-1", List.of("localhost"), List.of("127.0.0.1"),
                now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(365)));
        DevTlsFiles.write(tls, ca, agent, scheduler, false);
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    record Run(int exit, String output) {
    }

    private static Run openssl(String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(tls.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("openssl " + String.join(" ", args) + " finished").isTrue();
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void opensslVerifiesBothLeavesForTheirPurposesAgainstTheCa() throws Exception {
        Run r = openssl("", "verify", "-CAfile", "ca.pem", "agent.pem", "scheduler.pem");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("agent.pem: OK").contains("scheduler.pem: OK");
        assertThat(openssl("", "verify", "-purpose", "sslserver", "-CAfile", "ca.pem", "agent.pem").exit()).isZero();
        assertThat(openssl("", "verify", "-purpose", "sslclient", "-CAfile", "ca.pem", "agent.pem").exit())
                .as("dial-out: the agent is a TLS client too").isZero();
        assertThat(openssl("", "verify", "-purpose", "sslclient", "-CAfile", "ca.pem", "scheduler.pem").exit()).isZero();
        String agentLeafOnly = Files.readString(tls.resolve("agent.pem")).split("(?<=-----END CERTIFICATE-----\n)")[0];
        Files.writeString(dir.resolve("agent-leaf.pem"), agentLeafOnly);
        assertThat(openssl("", "verify", "-CAfile", dir.resolve("agent-leaf.pem").toString(), "scheduler.pem").exit())
                .as("the agent's leaf is no CA: verifying the scheduler against it must fail").isNotZero();
    }

    @Test
    void opensslReadsTheExtensionsAndTheKeys() throws Exception {
        Run text = openssl("", "x509", "-noout", "-text", "-in", "agent.pem");
        assertThat(text.exit()).as(text.output()).isZero();
        assertThat(text.output()).contains("Version: 3 (0x2)", "ecdsa-with-SHA256", "ASN1 OID: prime256v1",
                "CA:FALSE", "Digital Signature", "TLS Web Server Authentication, TLS Web Client Authentication",
                "DNS:localhost, DNS:agent-1.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
                "X509v3 Subject Key Identifier", "X509v3 Authority Key Identifier");
        Run ca = openssl("", "x509", "-noout", "-text", "-in", "ca.pem");
        assertThat(ca.output()).contains("CA:TRUE, pathlen:0", "Certificate Sign, CRL Sign");
        for (String key : List.of(DevTlsFiles.CA_KEY, DevTlsFiles.AGENT_KEY, DevTlsFiles.SCHEDULER_KEY)) {
            Run k = openssl("", "pkey", "-noout", "-in", key);
            assertThat(k.exit()).as(key + ": " + k.output()).isZero();
        }
        Run fp = openssl("", "x509", "-noout", "-fingerprint", "-sha256", "-in", "agent.pem");
        X509Certificate agent = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(Files.newInputStream(tls.resolve("agent.pem")));
        assertThat(fp.output().strip()).isEqualToIgnoringCase("sha256 Fingerprint=" + Fingerprints.sha256(agent));
    }

    @Test
    void opensslSClientCompletesMutualTlsWithTheAgentsListenContext() throws Exception {
        TlsSettings settings = TlsSettings.load(tls.resolve("agent.pem"), tls.resolve("agent-key.pem"),
                tls.resolve("ca.pem"), List.of(), 10_000, Instant.now());
        TlsContexts contexts = TlsContexts.agentListen(settings);
        BlockingQueue<Object> outcomes = new LinkedBlockingQueue<>();
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel c) {
                        SslHandler h = contexts.newHandler(c);
                        h.handshakeFuture().addListener(f -> outcomes.add(f.isSuccess() ? TlsPeer.of(c) : f.cause()));
                        c.pipeline().addLast(h);
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        try {
            String port = Integer.toString(((InetSocketAddress) server.localAddress()).getPort());
            Run ok = openssl("", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_3", "-CAfile", "ca.pem",
                    "-cert", "scheduler.pem", "-key", "scheduler-key.pem", "-verify_return_error", "-verify_ip", "127.0.0.1");
            assertThat(ok.output()).contains("Verify return code: 0 (ok)").contains("TLSv1.3");
            Object seen = outcomes.poll(30, TimeUnit.SECONDS);
            assertThat(seen).as("server side of openssl's handshake").isInstanceOf(TlsPeer.class);
            assertThat(((TlsPeer) seen).commonName()).isEqualTo("scheduler-1");

            Run tls12 = openssl("", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_2", "-CAfile", "ca.pem",
                    "-cert", "scheduler.pem", "-key", "scheduler-key.pem");
            assertThat(tls12.exit()).as("TLS 1.2 is refused: " + tls12.output()).isNotZero();
            assertThat(outcomes.poll(30, TimeUnit.SECONDS)).isInstanceOf(Throwable.class);
        } finally {
            server.close().sync();
        }
    }
}

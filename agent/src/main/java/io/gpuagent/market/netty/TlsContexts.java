package io.gpuagent.market.netty;

import io.gpuagent.market.tls.PeerTrustManager;
import io.gpuagent.market.tls.TlsSettings;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;

import java.security.GeneralSecurityException;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * The Netty {@link SslContext} of one role on the scheduler link, and the {@link SslHandler}s made
 * from it. All roles: TLS 1.3 only, BoringSSL (netty-tcnative, bundled for Linux x86-64 and arm64)
 * where it loads and the JDK's TLS elsewhere ({@link #provider()}), this side's certificate always
 * presented, the peer verified by {@link PeerTrustManager} against the
 * configured CA and/or pins only.
 *
 * <table>
 *   <caption>roles</caption>
 *   <tr><th>role</th><th>TLS side</th><th>peer's certificate</th><th>host name checked</th></tr>
 *   <tr><td>{@link Role#AGENT_LISTEN}</td><td>server</td><td>required (ClientAuth.REQUIRE)</td><td>no: clients are authenticated by certificate only</td></tr>
 *   <tr><td>{@link Role#AGENT_DIAL_OUT}</td><td>client</td><td>required</td><td>yes, unless pins are configured</td></tr>
 *   <tr><td>{@link Role#SCHEDULER}</td><td>client</td><td>required</td><td>yes, unless pins are configured</td></tr>
 * </table>
 *
 * <p>Cipher suites: the three of TLS 1.3 (both AES-GCM and ChaCha20-Poly1305); with the JDK's TLS
 * in the order chosen for the JIT this JVM runs with ({@link #CIPHER_SUITES}), with BoringSSL
 * AES-GCM first ({@link #NATIVE_CIPHER_SUITES}). BoringSSL moved a tunnel's bytes 2.8 times as fast
 * as the JDK's TLS under the unit's C1-only JIT (docs/benchmarks.md, issue 10).
 *
 * <p>Put the handler first in the pipeline: {@code ch.pipeline().addLast("tls", contexts.newHandler(ch))}
 * (server) or {@code newHandler(ch, host, port)} (client), then the frame decoder. The handshake
 * timeout is already set on it; when it fires the handler closes the channel and fails
 * {@link SslHandler#handshakeFuture()} with {@code SslHandshakeTimeoutException}. After the handshake,
 * {@link TlsPeer#of(Channel)} says who the peer is.
 */
public final class TlsContexts {
    /** TLS 1.3 only: 1.2 and older are refused in the handshake. */
    public static final String PROTOCOL = "TLSv1.3";

    private static final String AES_128 = "TLS_AES_128_GCM_SHA256";
    private static final String AES_256 = "TLS_AES_256_GCM_SHA384";
    private static final String CHACHA20 = "TLS_CHACHA20_POLY1305_SHA256";

    /**
     * The TLS 1.3 cipher suites, in this side's order of preference (a TLS server's order decides).
     * AES-GCM first on a JVM with the C2 compiler, whose AES and GHASH intrinsics make it the
     * cheapest by far; ChaCha20-Poly1305 first on a JVM without it, such as the agent's own unit
     * ({@code -XX:TieredStopAtLevel=1}): there AES-GCM runs as plain Java, about 19 us for a
     * 700-byte record against 5 us for ChaCha20-Poly1305 (docs/benchmarks.md, issue 13). The same
     * three suites either way; only their order differs.
     */
    public static final List<String> CIPHER_SUITES = cipherSuites(System.getProperty("java.vm.info", ""),
            System.getProperty("java.vm.name", ""));

    /**
     * With BoringSSL the order is the C2 one whatever this JVM's JIT: its AES-GCM uses the CPU's AES
     * instructions.
     */
    static final List<String> NATIVE_CIPHER_SUITES = List.of(AES_128, AES_256, CHACHA20);

    /** The system property that chooses the TLS implementation: {@code auto} (default), {@code openssl}, {@code jdk}. */
    public static final String PROVIDER_PROPERTY = "gpuagent.tls.provider";

    /**
     * The TLS implementation of every role: BoringSSL (netty-tcnative, bundled for x86-64 and arm64
     * Linux) when it loads, else the JDK's; {@value #PROVIDER_PROPERTY} = {@code jdk} or
     * {@code openssl} forces one ({@code openssl} where it cannot load is an error naming why).
     */
    public static SslProvider provider() {
        String p = System.getProperty(PROVIDER_PROPERTY, "auto").trim().toLowerCase(java.util.Locale.ROOT);
        switch (p) {
            case "jdk":
                return SslProvider.JDK;
            case "openssl":
                if (!io.netty.handler.ssl.OpenSsl.isAvailable()) {
                    throw new IllegalStateException(PROVIDER_PROPERTY + "=openssl but BoringSSL does not load here: "
                            + io.netty.handler.ssl.OpenSsl.unavailabilityCause());
                }
                return SslProvider.OPENSSL;
            case "auto":
            case "":
                return io.netty.handler.ssl.OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
            default:
                throw new IllegalStateException(PROVIDER_PROPERTY + " is \"" + p + "\": it is auto, openssl or jdk");
        }
    }

    /** The TLS implementation behind {@code ctx}, for the log: "BoringSSL (...)" or "JDK". */
    public static String describe(SslContext ctx) {
        return ctx instanceof io.netty.handler.ssl.OpenSslContext ? "BoringSSL (" + io.netty.handler.ssl.OpenSsl.versionString()
                + ")" : "JDK";
    }

    /** Which end of the link this context serves. */
    public enum Role {
        /** The agent accepts the scheduler's connections ({@code market.listen}): TLS server. */
        AGENT_LISTEN(false),
        /** The agent connects out to the marketplace ({@code market.dial}): TLS client. */
        AGENT_DIAL_OUT(true),
        /** The scheduler connecting to an agent (tests, tools): TLS client with the scheduler's certificate. */
        SCHEDULER(true),
        /** The marketplace accepting agents that dial out (tests, tools): TLS server requiring the agent's certificate. */
        MARKETPLACE(false);

        private final boolean client;

        Role(boolean client) {
            this.client = client;
        }

        public boolean isClient() {
            return client;
        }
    }

    private final Role role;
    private final SslContext context;
    private final long handshakeTimeoutMs;
    private final boolean verifiesHostname;

    private TlsContexts(Role role, SslContext context, long handshakeTimeoutMs, boolean verifiesHostname) {
        this.role = role;
        this.context = context;
        this.handshakeTimeoutMs = handshakeTimeoutMs;
        this.verifiesHostname = verifiesHostname;
    }

    /** The agent as TLS server for {@code market.listen}: requires and verifies the scheduler's certificate. */
    public static TlsContexts agentListen(TlsSettings settings) throws SSLException {
        return build(Role.AGENT_LISTEN, settings);
    }

    /** The agent as TLS client for {@code market.dial}: presents its certificate, verifies the marketplace's. */
    public static TlsContexts agentDialOut(TlsSettings settings) throws SSLException {
        return build(Role.AGENT_DIAL_OUT, settings);
    }

    /** The scheduler's side, connecting to a listening agent with the scheduler's certificate (tests, tools). */
    public static TlsContexts scheduler(TlsSettings settings) throws SSLException {
        return build(Role.SCHEDULER, settings);
    }

    /** The marketplace's side, accepting agents that dial out (tests, tools). */
    public static TlsContexts marketplace(TlsSettings settings) throws SSLException {
        return build(Role.MARKETPLACE, settings);
    }

    /**
     * The order of {@link #CIPHER_SUITES} for a JVM that says this of itself: {@code java.vm.info}
     * reads "emulated-client" when only C1 compiles ({@code TieredStopAtLevel=1}) and "interpreted
     * mode" with no compiler; a client VM has no C2 at all.
     */
    static List<String> cipherSuites(String vmInfo, String vmName) {
        boolean withoutC2 = vmInfo.contains("emulated-client") || vmInfo.contains("interpreted mode")
                || vmName.contains("Client VM");
        return withoutC2 ? List.of(CHACHA20, AES_128, AES_256) : List.of(AES_128, AES_256, CHACHA20);
    }

    /** A context for {@code role} from {@code settings}, with the TLS implementation {@link #provider()} chooses. */
    public static TlsContexts build(Role role, TlsSettings settings) throws SSLException {
        return build(role, settings, provider());
    }

    /** The suites, in order, that a context of {@code provider} enables. */
    public static List<String> cipherSuites(SslProvider provider) {
        return provider == SslProvider.JDK ? CIPHER_SUITES : NATIVE_CIPHER_SUITES;
    }

    /** A context for {@code role} from {@code settings} on {@code provider} ({@code JDK} or {@code OPENSSL}). */
    public static TlsContexts build(Role role, TlsSettings settings, SslProvider provider) throws SSLException {
        PeerTrustManager trust;
        try {
            trust = PeerTrustManager.of(settings.trustedCas(), settings.pins());
        } catch (GeneralSecurityException e) {
            throw new SSLException("cannot build the trust manager from tls_ca: " + e.getMessage(), e);
        }
        SslContextBuilder b = role.isClient()
                ? SslContextBuilder.forClient().keyManager(settings.key(), settings.chain())
                : SslContextBuilder.forServer(settings.key(), settings.chain()).clientAuth(ClientAuth.REQUIRE);
        // Pins name the exact certificate expected, so the host name adds nothing and would break
        // pinning a marketplace reached by an address its certificate does not list.
        boolean hostname = role.isClient() && settings.pins().isEmpty();
        SslContext ctx = b.sslProvider(provider)
                .protocols(PROTOCOL)
                .ciphers(cipherSuites(provider), IdentityCipherSuiteFilter.INSTANCE)
                .trustManager(trust)
                .endpointIdentificationAlgorithm(hostname ? "HTTPS" : null)
                .build();
        return new TlsContexts(role, ctx, settings.handshakeTimeoutMs(), hostname);
    }

    public Role role() {
        return role;
    }

    /** The Netty context, for callers that build their own handlers; prefer {@link #newHandler}. */
    public SslContext sslContext() {
        return context;
    }

    public long handshakeTimeoutMs() {
        return handshakeTimeoutMs;
    }

    /** Whether a client role checks the peer's certificate against the host name it dialled. */
    public boolean verifiesHostname() {
        return verifiesHostname;
    }

    /** A server-side handler ({@link Role#AGENT_LISTEN}) with the handshake timeout set. */
    public SslHandler newHandler(Channel channel) {
        return newHandler(channel.alloc());
    }

    /** A server-side handler ({@link Role#AGENT_LISTEN}) with the handshake timeout set. */
    public SslHandler newHandler(ByteBufAllocator alloc) {
        if (role.isClient()) {
            throw new IllegalStateException(role + " is a TLS client: pass the peer's host and port");
        }
        return withTimeout(context.newHandler(alloc));
    }

    /**
     * A client-side handler with the handshake timeout set.
     *
     * @param peerHost the host name (or IP literal) dialled: sent as SNI and, without pins, checked
     *                 against the peer certificate's subjectAltName
     * @param peerPort the port dialled
     */
    public SslHandler newHandler(Channel channel, String peerHost, int peerPort) {
        return newHandler(channel.alloc(), peerHost, peerPort);
    }

    /** See {@link #newHandler(Channel, String, int)}. */
    public SslHandler newHandler(ByteBufAllocator alloc, String peerHost, int peerPort) {
        if (!role.isClient()) {
            throw new IllegalStateException(role + " is the TLS server: use newHandler(channel)");
        }
        return withTimeout(context.newHandler(alloc, peerHost, peerPort));
    }

    private SslHandler withTimeout(SslHandler handler) {
        handler.setHandshakeTimeoutMillis(handshakeTimeoutMs);
        return handler;
    }
}

package io.gpuagent.market.tls;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Decides whether a peer's certificate chain is trusted, the same way on both ends of the link:
 * <ol>
 *   <li>with a CA configured, the chain must lead to it by PKIX (signatures, validity, basic
 *       constraints, key usage and the TLS extended key usage of the peer's role); only that CA is a
 *       trust anchor, never the JDK's {@code cacerts}. When the engine asks for endpoint
 *       identification (dial-out without pins), the PKIX trust manager checks the host name too;</li>
 *   <li>with pins configured, the peer's leaf certificate must also be pinned (SHA-256 of its DER):
 *       CA <em>and</em> pin, so a pin narrows what the CA admits and never widens it;</li>
 *   <li>with pins only, the leaf must be pinned and within its validity period.</li>
 * </ol>
 */
public final class PeerTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager caTrust; // null: pins only
    private final Set<String> pins;
    private final X509Certificate[] acceptedIssuers;

    private PeerTrustManager(X509ExtendedTrustManager caTrust, Set<String> pins, X509Certificate[] acceptedIssuers) {
        this.caTrust = caTrust;
        this.pins = Set.copyOf(pins);
        this.acceptedIssuers = acceptedIssuers;
    }

    public static PeerTrustManager of(List<X509Certificate> cas, Set<String> pins) throws GeneralSecurityException {
        if (cas.isEmpty() && pins.isEmpty()) {
            throw new IllegalArgumentException("a CA or pins are required");
        }
        if (cas.isEmpty()) {
            return new PeerTrustManager(null, pins, new X509Certificate[0]);
        }
        KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
        try {
            anchors.load(null, null);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("an empty in-memory key store cannot fail to load", e);
        }
        for (int i = 0; i < cas.size(); i++) {
            anchors.setCertificateEntry("ca-" + i, cas.get(i));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(anchors);
        for (TrustManager tm : tmf.getTrustManagers()) {
            if (tm instanceof X509ExtendedTrustManager x) {
                return new PeerTrustManager(x, pins, cas.toArray(X509Certificate[]::new));
            }
        }
        throw new IllegalStateException("the JDK's PKIX TrustManagerFactory has no X509ExtendedTrustManager");
    }

    /** The CA's own check, when a CA is configured. */
    @FunctionalInterface
    private interface CaCheck {
        void run() throws CertificateException;
    }

    /** Every overload does the same: a chain, the CA's verdict (when a CA is set), then the pins. */
    private void verify(X509Certificate[] chain, String side, CaCheck ca) throws CertificateException {
        requireChain(chain);
        if (caTrust != null) {
            ca.run();
        }
        afterCa(chain, side);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        verify(chain, "client", () -> caTrust.checkClientTrusted(chain, authType, engine));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        verify(chain, "server", () -> caTrust.checkServerTrusted(chain, authType, engine));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        verify(chain, "client", () -> caTrust.checkClientTrusted(chain, authType, socket));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        verify(chain, "server", () -> caTrust.checkServerTrusted(chain, authType, socket));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        verify(chain, "client", () -> caTrust.checkClientTrusted(chain, authType));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        verify(chain, "server", () -> caTrust.checkServerTrusted(chain, authType));
    }

    /** The CA names a server sends in its CertificateRequest, so clients pick the right certificate. */
    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return acceptedIssuers.clone();
    }

    private static void requireChain(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the peer sent no certificate");
        }
    }

    private void afterCa(X509Certificate[] chain, String role) throws CertificateException {
        X509Certificate leaf = chain[0];
        if (caTrust == null) { // PKIX did not run: the validity period is still ours to check
            try {
                leaf.checkValidity();
            } catch (CertificateExpiredException e) {
                throw new CertificateException("the " + role + "'s certificate " + TlsSettings.subject(leaf)
                        + " expired on " + leaf.getNotAfter().toInstant(), e);
            } catch (CertificateNotYetValidException e) {
                throw new CertificateException("the " + role + "'s certificate " + TlsSettings.subject(leaf)
                        + " is not valid before " + leaf.getNotBefore().toInstant() + " (a clock wrong on either side?)", e);
            }
        }
        if (!pins.isEmpty() && !pins.contains(Fingerprints.canonicalSha256(leaf))) {
            throw new CertificateException("the " + role + "'s certificate " + TlsSettings.subject(leaf) + " (SHA-256 "
                    + Fingerprints.sha256(leaf) + ") is not in tls_pins");
        }
    }
}

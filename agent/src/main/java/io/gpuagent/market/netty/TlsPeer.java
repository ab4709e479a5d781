package io.gpuagent.market.netty;

import io.gpuagent.market.tls.Fingerprints;
import io.gpuagent.market.tls.TlsSettings;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who is on the other end of a completed handshake: for logs, metrics labels and the protocol's
 * hello (the scheduler's identity is its certificate, not anything it says).
 *
 * @param commonName        the peer leaf's subject CN; empty when it has none
 * @param subject           the peer leaf's full subject (RFC 2253)
 * @param sha256Fingerprint the peer leaf's SHA-256 fingerprint, {@code AB:CD:...}, as tls_pins accepts it
 * @param protocol          the negotiated protocol ({@code TLSv1.3})
 * @param cipherSuite       the negotiated cipher suite
 * @param certificate       the peer's leaf certificate
 */
public record TlsPeer(String commonName, String subject, String sha256Fingerprint, String protocol, String cipherSuite,
                      X509Certificate certificate) {

    /**
     * The peer of a channel whose pipeline has an {@link SslHandler} that finished its handshake.
     *
     * @throws SSLPeerUnverifiedException when there is no handler, the handshake is not done, or the peer sent no certificate
     */
    public static TlsPeer of(Channel channel) throws SSLPeerUnverifiedException {
        SslHandler handler = channel.pipeline().get(SslHandler.class);
        if (handler == null) {
            throw new SSLPeerUnverifiedException("no TLS on this channel (plaintext development mode?)");
        }
        return of(handler);
    }

    /** The peer of a handler that finished its handshake; see {@link #of(Channel)}. */
    public static TlsPeer of(SslHandler handler) throws SSLPeerUnverifiedException {
        if (!handler.handshakeFuture().isSuccess()) {
            throw new SSLPeerUnverifiedException("the TLS handshake has not completed");
        }
        SSLSession session = handler.engine().getSession();
        Certificate[] certs = session.getPeerCertificates();
        if (certs.length == 0 || !(certs[0] instanceof X509Certificate leaf)) {
            throw new SSLPeerUnverifiedException("the peer sent no X.509 certificate");
        }
        return new TlsPeer(commonName(leaf), TlsSettings.subject(leaf), Fingerprints.sha256(leaf), session.getProtocol(),
                session.getCipherSuite(), leaf);
    }

    /** The subject's CN (the most specific one when there are several); empty when it has none. */
    static String commonName(X509Certificate cert) {
        try {
            String cn = "";
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    cn = rdn.getValue().toString(); // getRdns() starts at the root: the last CN is the most specific
                }
            }
            return cn;
        } catch (InvalidNameException e) {
            return "";
        }
    }

    /** One line for logs: {@code CN=scheduler-1 sha256=AB:CD:... TLSv1.3 TLS_AES_128_GCM_SHA256}. */
    @Override
    public String toString() {
        return "CN=" + commonName + " sha256=" + sha256Fingerprint + " " + protocol + " " + cipherSuite;
    }
}

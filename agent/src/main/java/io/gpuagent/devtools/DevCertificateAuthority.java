package io.gpuagent.devtools;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.List;

/**
 * A development certificate authority: an EC P-256 key and a self-signed CA certificate
 * (basicConstraints CA:TRUE, pathLen 0, critical) that issues leaf certificates for the agent and
 * the scheduler (EC P-256 keys; keyUsage digitalSignature; extendedKeyUsage serverAuth and
 * clientAuth, since the agent is a TLS server in listen mode and a TLS client in dial-out mode;
 * subjectAltName DNS and IP entries). Built with the JDK and {@link CertificateBuilder} only: no
 * BouncyCastle, no {@code sun.*} classes.
 *
 * <p>For development and tests: anyone holding the CA key can mint certificates every agent that
 * trusts this CA accepts. Production uses the operator's own CA or pins (docs/tls.md).
 */
public final class DevCertificateAuthority {
    /** A certificate and its private key. */
    public record Issued(X509Certificate certificate, PrivateKey key) {
    }

    private final String commonName;
    private final X509Certificate certificate;
    private final KeyPair keys;

    private DevCertificateAuthority(String commonName, X509Certificate certificate, KeyPair keys) {
        this.commonName = commonName;
        this.certificate = certificate;
        this.keys = keys;
    }

    /** A new CA with a fresh key, valid from {@code notBefore} to {@code notAfter}. */
    public static DevCertificateAuthority create(String commonName, Instant notBefore, Instant notAfter)
            throws GeneralSecurityException {
        KeyPair keys = newKeyPair();
        X509Certificate cert = new CertificateBuilder()
                .subject(commonName, keys.getPublic())
                .issuer(commonName, keys.getPublic())
                .validity(notBefore, notAfter)
                .ca(true)
                .sign(keys.getPrivate());
        return new DevCertificateAuthority(commonName, cert, keys);
    }

    /** A fresh EC P-256 (secp256r1) key pair. */
    public static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /**
     * A leaf certificate signed by this CA, with a fresh key.
     *
     * @param dnsNames    subjectAltName DNS entries (host names a client may dial)
     * @param ipAddresses subjectAltName IP entries, as literals ({@code 127.0.0.1}, {@code ::1})
     * @throws IllegalArgumentException when an IP entry is not an IP literal or a DNS name is not ASCII
     */
    public Issued issue(String commonName, List<String> dnsNames, List<String> ipAddresses, Instant notBefore,
                        Instant notAfter) throws GeneralSecurityException {
        return issue(commonName, newKeyPair(), dnsNames, ipAddresses, notBefore, notAfter);
    }

    /** A leaf for the given key pair (tests use it for RSA keys). */
    public Issued issue(String commonName, KeyPair leafKeys, List<String> dnsNames, List<String> ipAddresses, Instant notBefore,
                 Instant notAfter) throws GeneralSecurityException {
        X509Certificate cert = new CertificateBuilder()
                .subject(commonName, leafKeys.getPublic())
                .issuer(this.commonName, keys.getPublic())
                .validity(notBefore, notAfter)
                .dns(dnsNames)
                .ips(ipAddresses)
                .sign(keys.getPrivate());
        return new Issued(cert, leafKeys.getPrivate());
    }

    public X509Certificate certificate() {
        return certificate;
    }

    public PrivateKey key() {
        return keys.getPrivate();
    }
}

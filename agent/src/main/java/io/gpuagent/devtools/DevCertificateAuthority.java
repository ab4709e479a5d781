package io.gpuagent.devtools;

import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A development certificate authority: an EC P-256 key and a self-signed CA certificate
 * (basicConstraints CA:TRUE, pathLen 0, critical; keyUsage digitalSignature, keyCertSign, cRLSign,
 * critical; subjectKeyIdentifier) that issues leaf certificates for the agent and the scheduler
 * (EC P-256 keys; basicConstraints CA:FALSE, critical; keyUsage digitalSignature, critical;
 * extendedKeyUsage serverAuth and clientAuth, since the agent is a TLS server in listen mode and a
 * TLS client in dial-out mode; subjectAltName DNS and IP entries; subject and authority key
 * identifiers). Every certificate is X.509 v3, signed with ecdsa-with-SHA256, named
 * {@code O=gpu-agent development, CN=<name>} (UTF8String), valid to the second, with a 16-byte
 * random serial.
 *
 * <p>Built with Bouncy Castle's certificate builder (bcpkix) on the JDK's own crypto providers:
 * no Bouncy Castle provider is registered, and the certificates are read back with the JDK.
 *
 * <p>For development and tests: anyone holding the CA key can mint certificates every agent that
 * trusts this CA accepts. Production uses the operator's own CA or pins (docs/tls.md).
 */
public final class DevCertificateAuthority {
    /** A certificate and its private key. */
    public record Issued(X509Certificate certificate, PrivateKey key) {
    }

    private static final String ORGANIZATION = "gpu-agent development";
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final X500Name name;
    private final X509Certificate certificate;
    private final KeyPair keys;

    private DevCertificateAuthority(X500Name name, X509Certificate certificate, KeyPair keys) {
        this.name = name;
        this.certificate = certificate;
        this.keys = keys;
    }

    /** A new CA with a fresh key, valid from {@code notBefore} to {@code notAfter}. */
    public static DevCertificateAuthority create(String commonName, Instant notBefore, Instant notAfter)
            throws GeneralSecurityException {
        KeyPair keys = newKeyPair();
        X500Name name = name(commonName);
        JcaX509ExtensionUtils ids = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder b = builder(name, name, keys.getPublic(), notBefore, notAfter);
        try {
            // CA:TRUE, pathLen 0: this CA signs leaves only
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ids.createSubjectKeyIdentifier(keys.getPublic()));
            // self-signed: no authorityKeyIdentifier
        } catch (CertIOException e) {
            throw new IllegalStateException("an extension could not be encoded", e);
        }
        return new DevCertificateAuthority(name, sign(b, keys.getPrivate()), keys);
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

    /** A leaf for the given key pair (tests use it for RSA keys), otherwise as the method above. */
    public Issued issue(String commonName, KeyPair leafKeys, List<String> dnsNames, List<String> ipAddresses,
                        Instant notBefore, Instant notAfter) throws GeneralSecurityException {
        X509v3CertificateBuilder b = builder(name, name(commonName), leafKeys.getPublic(), notBefore, notAfter);
        List<GeneralName> sans = new ArrayList<>();
        for (String d : dnsNames) {
            sans.add(new GeneralName(GeneralName.dNSName, new DERIA5String(ascii(d.toLowerCase(Locale.ROOT)))));
        }
        for (String ip : ipAddresses) {
            sans.add(new GeneralName(GeneralName.iPAddress, new DEROctetString(ipAddress(ip))));
        }
        JcaX509ExtensionUtils ids = new JcaX509ExtensionUtils();
        try {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            // both: the agent is a TLS server in listen mode and a TLS client in dial-out mode
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                    new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            if (!sans.isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
            }
            b.addExtension(Extension.subjectKeyIdentifier, false, ids.createSubjectKeyIdentifier(leafKeys.getPublic()));
            // the key identifier only (RFC 5280 4.2.1.1 method 1), no issuer name and serial
            b.addExtension(Extension.authorityKeyIdentifier, false, ids.createAuthorityKeyIdentifier(keys.getPublic()));
        } catch (CertIOException e) {
            throw new IllegalStateException("an extension could not be encoded", e);
        }
        return new Issued(sign(b, keys.getPrivate()), leafKeys.getPrivate());
    }

    public X509Certificate certificate() {
        return certificate;
    }

    public PrivateKey key() {
        return keys.getPrivate();
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, PublicKey key, Instant notBefore,
                                                    Instant notAfter) {
        if (!notAfter.isAfter(notBefore)) {
            throw new IllegalArgumentException("notAfter " + notAfter + " is not after notBefore " + notBefore);
        }
        // Time picks UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280 4.1.2.5), in whole seconds
        return new JcaX509v3CertificateBuilder(issuer, serial(), time(notBefore), time(notAfter), subject, key);
    }

    private static Time time(Instant instant) {
        return new Time(Date.from(instant.truncatedTo(ChronoUnit.SECONDS)), Locale.ROOT);
    }

    /** Signs with ecdsa-with-SHA256 (the JDK's provider) and reads the result back with the JDK. */
    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey issuerKey) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign with " + issuerKey.getAlgorithm() + ": " + e.getMessage(), e);
        }
    }

    /** {@code O=gpu-agent development, CN=<cn>}, both UTF8String, in that order. */
    private static X500Name name(String commonName) {
        return new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, new DERUTF8String(ORGANIZATION))
                .addRDN(BCStyle.CN, new DERUTF8String(commonName))
                .build();
    }

    /** 16 random bytes, top bit clear: positive and at most 20 octets (RFC 5280 4.1.2.2). */
    private static BigInteger serial() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        bytes[0] &= 0x7f;
        bytes[0] |= 0x01 << 6; // never a short serial: keeps every certificate's serial 16 bytes long
        return new BigInteger(1, bytes);
    }

    /** An IA5String's contents; anything outside ASCII is refused rather than mangled. */
    private static String ascii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0x7f) {
                throw new IllegalArgumentException("not ASCII (IA5String): " + s);
            }
        }
        return s;
    }

    /** An IP literal's 4 or 16 bytes; a host name is refused (it would need DNS, and belongs in dns). */
    private static byte[] ipAddress(String literal) {
        if (!IPV4.matcher(literal).matches() && !IPV6.matcher(literal).matches()) {
            throw new IllegalArgumentException("not an IP address literal: " + literal);
        }
        try {
            return InetAddress.getByName(literal).getAddress(); // a literal: parsed, never resolved
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address literal: " + literal, e);
        }
    }
}

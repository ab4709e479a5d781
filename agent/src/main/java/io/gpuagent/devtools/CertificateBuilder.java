package io.gpuagent.devtools;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Builds and signs one X.509 v3 certificate (RFC 5280) with {@link Der}, signed with
 * ecdsa-with-SHA256. Layout:
 * <pre>
 * Certificate     ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 * TBSCertificate  ::= SEQUENCE { version [0] EXPLICIT 2 (v3), serialNumber, signature AlgorithmIdentifier,
 *                                issuer Name, validity, subject Name, subjectPublicKeyInfo,
 *                                extensions [3] EXPLICIT SEQUENCE OF Extension }
 * Extension       ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 * </pre>
 * The subjectPublicKeyInfo is the JDK key's own X.509 encoding ({@link PublicKey#getEncoded()}).
 */
final class CertificateBuilder {
    static final String OID_CN = "2.5.4.3";
    static final String OID_O = "2.5.4.10";
    static final String OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2";
    static final String OID_BASIC_CONSTRAINTS = "2.5.29.19";
    static final String OID_KEY_USAGE = "2.5.29.15";
    static final String OID_EXT_KEY_USAGE = "2.5.29.37";
    static final String OID_SUBJECT_ALT_NAME = "2.5.29.17";
    static final String OID_SUBJECT_KEY_ID = "2.5.29.14";
    static final String OID_AUTHORITY_KEY_ID = "2.5.29.35";
    static final String OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    static final String OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

    /** keyUsage bits (RFC 5280 4.2.1.3). */
    static final int DIGITAL_SIGNATURE = 0;
    static final int KEY_CERT_SIGN = 5;
    static final int CRL_SIGN = 6;

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
    private static final SecureRandom RANDOM = new SecureRandom();

    private String subjectCn;
    private String organization = "gpu-agent development";
    private String issuerCn;
    private String issuerOrganization = organization;
    private PublicKey publicKey;
    private PublicKey issuerPublicKey;
    private Instant notBefore;
    private Instant notAfter;
    private boolean ca;
    private final List<String> dnsNames = new ArrayList<>();
    private final List<String> ipAddresses = new ArrayList<>();

    CertificateBuilder subject(String cn, PublicKey key) {
        this.subjectCn = cn;
        this.publicKey = key;
        return this;
    }

    CertificateBuilder issuer(String cn, PublicKey key) {
        this.issuerCn = cn;
        this.issuerPublicKey = key;
        return this;
    }

    CertificateBuilder validity(Instant from, Instant to) {
        if (!to.isAfter(from)) {
            throw new IllegalArgumentException("notAfter " + to + " is not after notBefore " + from);
        }
        this.notBefore = from;
        this.notAfter = to;
        return this;
    }

    CertificateBuilder ca(boolean isCa) {
        this.ca = isCa;
        return this;
    }

    CertificateBuilder dns(List<String> names) {
        dnsNames.addAll(names);
        return this;
    }

    CertificateBuilder ips(List<String> addresses) {
        for (String a : addresses) {
            ipAddress(a); // validates now, not at signing time
        }
        ipAddresses.addAll(addresses);
        return this;
    }

    /** Signs with the issuer's EC private key and parses the result back with the JDK. */
    X509Certificate sign(PrivateKey issuerKey) throws GeneralSecurityException {
        Objects.requireNonNull(subjectCn, "subject");
        Objects.requireNonNull(issuerCn, "issuer");
        Objects.requireNonNull(notBefore, "validity");
        byte[] algorithm = Der.sequence(Der.oid(OID_ECDSA_SHA256)); // parameters absent (RFC 5758 3.2)
        byte[] tbs = Der.sequence(
                Der.explicit(0, Der.integer(2)),
                Der.integer(serial()),
                algorithm,
                name(issuerCn, issuerOrganization),
                Der.sequence(Der.time(notBefore), Der.time(notAfter)),
                name(subjectCn, organization),
                publicKey.getEncoded(),
                Der.explicit(3, extensions()));
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(issuerKey);
        signer.update(tbs);
        byte[] signature = signer.sign(); // already DER: ECDSA-Sig-Value ::= SEQUENCE { r, s }
        byte[] der = Der.sequence(tbs, algorithm, Der.bitString(signature));
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der));
    }

    /** 16 random bytes, top bit clear: positive and at most 20 octets (RFC 5280 4.1.2.2). */
    private static BigInteger serial() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        bytes[0] &= 0x7f;
        bytes[0] |= 0x01 << 6; // never a short serial: keeps every certificate's serial 16 bytes long
        return new BigInteger(1, bytes);
    }

    private static byte[] name(String cn, String o) {
        return Der.sequence(
                Der.set(Der.sequence(Der.oid(OID_O), Der.utf8String(o))),
                Der.set(Der.sequence(Der.oid(OID_CN), Der.utf8String(cn))));
    }

    private byte[] extensions() throws GeneralSecurityException {
        List<byte[]> ext = new ArrayList<>();
        if (ca) {
            // CA:TRUE, pathLen 0: this CA signs leaves only
            ext.add(extension(OID_BASIC_CONSTRAINTS, true, Der.sequence(Der.bool(true), Der.integer(0))));
            ext.add(extension(OID_KEY_USAGE, true, Der.namedBits(DIGITAL_SIGNATURE, KEY_CERT_SIGN, CRL_SIGN)));
        } else {
            ext.add(extension(OID_BASIC_CONSTRAINTS, true, Der.sequence()));
            ext.add(extension(OID_KEY_USAGE, true, Der.namedBits(DIGITAL_SIGNATURE)));
            // both: the agent is a TLS server in listen mode and a TLS client in dial-out mode
            ext.add(extension(OID_EXT_KEY_USAGE, false, Der.sequence(Der.oid(OID_SERVER_AUTH), Der.oid(OID_CLIENT_AUTH))));
        }
        if (!dnsNames.isEmpty() || !ipAddresses.isEmpty()) {
            List<byte[]> names = new ArrayList<>();
            for (String d : dnsNames) {
                names.add(Der.implicitPrimitive(2, Der.ascii(d.toLowerCase(Locale.ROOT)))); // dNSName [2] IMPLICIT IA5String
            }
            for (String ip : ipAddresses) {
                names.add(Der.implicitPrimitive(7, ipAddress(ip))); // iPAddress [7] IMPLICIT OCTET STRING
            }
            ext.add(extension(OID_SUBJECT_ALT_NAME, false, Der.sequence(names.toArray(byte[][]::new))));
        }
        ext.add(extension(OID_SUBJECT_KEY_ID, false, Der.octetString(keyIdentifier(publicKey))));
        if (!ca || !issuerPublicKey.equals(publicKey)) {
            ext.add(extension(OID_AUTHORITY_KEY_ID, false,
                    Der.sequence(Der.implicitPrimitive(0, keyIdentifier(issuerPublicKey)))));
        }
        return Der.sequence(ext.toArray(byte[][]::new));
    }

    private static byte[] extension(String oid, boolean critical, byte[] value) {
        return critical ? Der.sequence(Der.oid(oid), Der.bool(true), Der.octetString(value))
                : Der.sequence(Der.oid(oid), Der.octetString(value));
    }

    /**
     * RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits. For the short
     * length forms of EC P-256 and RSA keys, that is the tail of the SPKI after the BIT STRING's
     * header and unused-bits byte; found by reading the SPKI's outer structure.
     */
    static byte[] keyIdentifier(PublicKey key) throws GeneralSecurityException {
        byte[] spki = key.getEncoded();
        int[] outer = header(spki, 0);             // SEQUENCE
        int[] alg = header(spki, outer[0]);        // AlgorithmIdentifier
        int bitStringAt = alg[0] + alg[1];
        int[] bits = header(spki, bitStringAt);    // BIT STRING
        byte[] keyBits = Arrays.copyOfRange(spki, bits[0] + 1, bits[0] + bits[1]);
        return MessageDigest.getInstance("SHA-1").digest(keyBits);
    }

    /** {contents offset, contents length} of the TLV at {@code at}. */
    private static int[] header(byte[] der, int at) {
        int len = der[at + 1] & 0xff;
        int offset = at + 2;
        if (len >= 0x80) {
            int n = len & 0x7f;
            len = 0;
            for (int i = 0; i < n; i++) {
                len = (len << 8) | (der[offset + i] & 0xff);
            }
            offset += n;
        }
        return new int[] {offset, len};
    }

    /** An IP literal's 4 or 16 bytes; a host name is refused (it would need DNS, and belongs in dns). */
    static byte[] ipAddress(String literal) {
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

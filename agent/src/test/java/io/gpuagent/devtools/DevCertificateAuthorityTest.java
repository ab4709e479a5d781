package io.gpuagent.devtools;

import io.gpuagent.market.tls.TlsSettings;
import io.gpuagent.testsupport.TlsFixtures;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.Certificate;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.TBSCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The development CA's certificates as the JDK, PKIX and Bouncy Castle's ASN.1 parser read them, and the files it writes. */
class DevCertificateAuthorityTest {
    @TempDir
    Path dir;

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** The subject's most specific CN, read as the agent's TlsPeer reads it. */
    private static String commonName(X509Certificate c) throws InvalidNameException {
        String cn = "";
        for (Rdn rdn : new LdapName(c.getSubjectX500Principal().getName()).getRdns()) {
            if (rdn.getType().equalsIgnoreCase("CN")) {
                cn = rdn.getValue().toString();
            }
        }
        return cn;
    }

    /** The DER contents of an extension (the OCTET STRING the JDK returns, unwrapped). */
    private static String extension(X509Certificate c, String oid) {
        byte[] wrapped = c.getExtensionValue(oid);
        return wrapped == null ? null : hex(ASN1OctetString.getInstance(wrapped).getOctets());
    }

    /**
     * What the hand-written DER encoder's tests used to pin, read back from the certificates:
     * OIDs, booleans, integers, named bits, empty sequences, long-form lengths and the two time
     * types as X.690 and RFC 5280 require them.
     */
    @Test
    void certificatesEncodeTheirFieldsAsX690AndRfc5280Require() throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.create("der CA", Instant.parse("2049-12-31T23:59:59Z"),
                Instant.parse("2050-01-01T00:00:00Z"));
        X509Certificate c = ca.certificate();
        byte[] der = c.getEncoded();
        assertThat(hex(der)).as("the outer SEQUENCE: long form, two length bytes").startsWith("3082");
        assertThat(((der[2] & 0xff) << 8 | (der[3] & 0xff)) + 4).isEqualTo(der.length);
        assertThat(hex(der)).as("id-ecPublicKey").contains("06072a8648ce3d0201");
        assertThat(extension(c, "2.5.29.19")).as("CA:TRUE (BOOLEAN 0101ff), pathLen INTEGER 0").isEqualTo("30060101ff020100");
        assertThat(extension(c, "2.5.29.15")).as("digitalSignature, keyCertSign, cRLSign").isEqualTo("03020186");
        TBSCertificate tbs = Certificate.getInstance(der).getTBSCertificate();
        assertThat(new String(tbs.getStartDate().getEncoded(), StandardCharsets.US_ASCII))
                .as("UTCTime until 2049").isEqualTo("\u0017\r491231235959Z");
        assertThat(new String(tbs.getEndDate().getEncoded(), StandardCharsets.US_ASCII))
                .as("GeneralizedTime from 2050").isEqualTo("\u0018\u000f20500101000000Z");
        assertThat(hex(tbs.getSerialNumber().getEncoded())).as("16 bytes, positive without a leading zero").startsWith("0210");
        assertThat(extension(c, "2.5.29.35")).as("self-signed: no authority key id").isNull();

        DevCertificateAuthority.Issued leaf = ca.issue("leaf", List.of("localhost"), List.of("127.0.0.1"),
                Instant.parse("2049-12-31T23:59:59Z"), Instant.parse("2050-01-01T00:00:00Z"));
        X509Certificate l = leaf.certificate();
        assertThat(extension(l, "2.5.29.19")).as("CA:FALSE is the default: an empty SEQUENCE").isEqualTo("3000");
        assertThat(extension(l, "2.5.29.15")).as("digitalSignature: 7 unused bits").isEqualTo("03020780");
        assertThat(hex(l.getEncoded())).as("subjectAltName's OID").contains("0603551d11");
        assertThat(extension(l, "2.5.29.17")).as("dNSName [2] localhost, iPAddress [7] 127.0.0.1")
                .isEqualTo("3011" + "8209" + hex("localhost".getBytes(StandardCharsets.US_ASCII)) + "8704" + "7f000001");
        // key identifiers: SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 method 1); the leaf names its CA's
        byte[] caKeyId = MessageDigest.getInstance("SHA-1").digest(
                SubjectPublicKeyInfo.getInstance(c.getPublicKey().getEncoded()).getPublicKeyData().getBytes());
        assertThat(extension(c, "2.5.29.14")).isEqualTo("0414" + hex(caKeyId));
        assertThat(extension(l, "2.5.29.35")).as("keyIdentifier [0] only").isEqualTo("30168014" + hex(caKeyId));
    }

    @Test
    void caCertificateIsSelfSignedCaWithPathLengthZero() throws Exception {
        DevCertificateAuthority ca = TlsFixtures.ca("test CA");
        X509Certificate c = ca.certificate();
        c.verify(c.getPublicKey());
        assertThat(c.getVersion()).isEqualTo(3);
        assertThat(c.getBasicConstraints()).as("CA:TRUE, pathLen 0").isZero();
        assertThat(c.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");
        assertThat(c.getKeyUsage()).as("digitalSignature, keyCertSign, cRLSign")
                .containsExactly(true, false, false, false, false, true, true, false, false);
        assertThat(c.getSubjectX500Principal()).isEqualTo(c.getIssuerX500Principal());
        assertThat(c.getSigAlgName()).isEqualTo("SHA256withECDSA");
        assertThat(commonName(c)).isEqualTo("test CA");
        BigInteger serial = c.getSerialNumber();
        assertThat(serial.signum()).isPositive();
        assertThat(serial.bitLength()).as("16 random bytes").isBetween(121, 127);
    }

    @Test
    void leafCarriesSansAndBothTlsUsagesAndValidatesByPkixToItsCa() throws Exception {
        DevCertificateAuthority ca = TlsFixtures.ca("test CA");
        DevCertificateAuthority.Issued leaf = ca.issue("agent-1", List.of("agent-1.example", "localhost"),
                List.of("10.0.0.7", "::1"), TlsFixtures.YESTERDAY, TlsFixtures.NEXT_YEAR);
        X509Certificate c = leaf.certificate();
        c.verify(ca.certificate().getPublicKey());
        assertThat(c.getBasicConstraints()).as("not a CA").isEqualTo(-1);
        assertThat(c.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        List<String> sans = new ArrayList<>();
        for (List<?> san : c.getSubjectAlternativeNames()) {
            sans.add(san.get(0) + ":" + san.get(1));
        }
        assertThat(sans).containsExactly("2:agent-1.example", "2:localhost", "7:10.0.0.7", "7:0:0:0:0:0:0:0:1");
        assertThat(c.getIssuerX500Principal()).isEqualTo(ca.certificate().getSubjectX500Principal());
        assertThat(c.getNotAfter().toInstant()).isEqualTo(TlsFixtures.NEXT_YEAR.with(java.time.temporal.ChronoField.NANO_OF_SECOND, 0));

        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(ca.certificate(), null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(cf.generateCertPath(List.of(c)), params);

        // the encoding round-trips byte for byte through the JDK's parser
        X509Certificate reparsed = (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(c.getEncoded()));
        assertThat(reparsed).isEqualTo(c);
        assertThat(InetAddress.getByName("::1").getAddress()).hasSize(16);
    }

    @Test
    void aHostNameIsRefusedAsAnIpEntry() {
        assertThatThrownBy(() -> TlsFixtures.ca("x").issue("a", List.of(), List.of("agent.example"),
                TlsFixtures.YESTERDAY, TlsFixtures.NEXT_YEAR))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("agent.example");
    }

    @Test
    void filesAreWrittenWithPrivateKeysAndAPrivateDirectoryAndReloadAsTlsSettings() throws Exception {
        DevCertificateAuthority ca = TlsFixtures.ca("files CA");
        Path tls = dir.resolve("tls");
        DevTlsFiles.write(tls, ca, TlsFixtures.leaf(ca, "agent"), TlsFixtures.leaf(ca, "scheduler"), false);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls))).isEqualTo("rwx------");
        for (String file : DevTlsFiles.ALL) {
            // certificates too: everything under the state directory is the agent user's only (issue 16)
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve(file)))).as(file).isEqualTo("rw-------");
        }
        try (var s = Files.list(tls)) {
            assertThat(s.map(p -> p.getFileName().toString())).as("no temporary files left").containsExactlyInAnyOrderElementsOf(DevTlsFiles.ALL);
        }
        TlsSettings agent = TlsSettings.load(tls.resolve(DevTlsFiles.AGENT), tls.resolve(DevTlsFiles.AGENT_KEY),
                tls.resolve(DevTlsFiles.CA), List.of(), 1000, Instant.now());
        assertThat(agent.chain()).hasSize(2);
        assertThat(agent.chain().get(1)).isEqualTo(ca.certificate());
        assertThat(agent.trustedCas()).containsExactly(ca.certificate());
        assertThat(agent.warnings()).isEmpty();
    }

    @Test
    void anExistingDirectoryKeepsItsModeAndTheKeysInItAreStillPrivate() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        DevCertificateAuthority ca = TlsFixtures.ca("cwd");
        DevTlsFiles.write(dir, ca, TlsFixtures.leaf(ca, "a"), TlsFixtures.leaf(ca, "s"), false);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).as("--dir . is not chmodded").isEqualTo("rwxr-xr-x");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(DevTlsFiles.CA_KEY)))).isEqualTo("rw-------");
    }

    @Test
    void writingOverExistingFilesWithoutOverwriteChangesNothing() throws Exception {
        DevCertificateAuthority ca = TlsFixtures.ca("first");
        DevTlsFiles.write(dir, ca, TlsFixtures.leaf(ca, "a"), TlsFixtures.leaf(ca, "s"), false);
        byte[] before = Files.readAllBytes(dir.resolve(DevTlsFiles.CA_KEY));
        DevCertificateAuthority other = TlsFixtures.ca("second");
        assertThatThrownBy(() -> DevTlsFiles.write(dir, other, TlsFixtures.leaf(other, "a"), TlsFixtures.leaf(other, "s"), false))
                .isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
        assertThat(Files.readAllBytes(dir.resolve(DevTlsFiles.CA_KEY))).isEqualTo(before);
        DevTlsFiles.write(dir, other, TlsFixtures.leaf(other, "a"), TlsFixtures.leaf(other, "s"), true);
        assertThat(Files.readAllBytes(dir.resolve(DevTlsFiles.CA_KEY))).isNotEqualTo(before);
    }
}

package io.gpuagent.devtools;

import io.gpuagent.market.tls.TlsSettings;
import io.gpuagent.testsupport.TlsFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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

/** The DER encoder against X.690's examples, and the certificates it builds as the JDK reads them. */
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

    @Test
    void derEncodesLengthsIntegersOidsBitsAndTimesAsX690Requires() {
        assertThat(hex(Der.oid("1.2.840.10045.2.1"))).isEqualTo("06072a8648ce3d0201");
        assertThat(hex(Der.oid("2.5.29.17"))).isEqualTo("0603551d11");
        assertThat(hex(Der.integer(127))).isEqualTo("02017f");
        assertThat(hex(Der.integer(128))).as("a leading zero keeps it positive").isEqualTo("02020080");
        assertThat(hex(Der.integer(0))).isEqualTo("020100");
        assertThat(hex(Der.bool(true))).isEqualTo("0101ff");
        assertThat(hex(Der.octetString(new byte[127])).substring(0, 4)).isEqualTo("047f");
        assertThat(hex(Der.octetString(new byte[200])).substring(0, 6)).as("long form, one byte").isEqualTo("0481c8");
        assertThat(hex(Der.octetString(new byte[300])).substring(0, 8)).as("long form, two bytes").isEqualTo("0482012c");
        assertThat(hex(Der.namedBits(0))).as("digitalSignature: 7 unused bits").isEqualTo("03020780");
        assertThat(hex(Der.namedBits(0, 5, 6))).as("digitalSignature, keyCertSign, cRLSign").isEqualTo("03020186");
        assertThat(hex(Der.sequence())).isEqualTo("3000");
        assertThat(new String(Der.time(Instant.parse("2049-12-31T23:59:59Z")), java.nio.charset.StandardCharsets.US_ASCII))
                .as("UTCTime until 2049").isEqualTo("\u0017\r491231235959Z");
        assertThat(new String(Der.time(Instant.parse("2050-01-01T00:00:00Z")), java.nio.charset.StandardCharsets.US_ASCII))
                .as("GeneralizedTime from 2050").isEqualTo("\u0018\u000f20500101000000Z");
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
        for (String key : List.of(DevTlsFiles.CA_KEY, DevTlsFiles.AGENT_KEY, DevTlsFiles.SCHEDULER_KEY)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve(key)))).as(key).isEqualTo("rw-------");
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve(DevTlsFiles.AGENT)))).isEqualTo("rw-r--r--");
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

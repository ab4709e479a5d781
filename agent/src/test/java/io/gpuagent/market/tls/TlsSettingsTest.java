package io.gpuagent.market.tls;

import io.gpuagent.devtools.DevCertificateAuthority;
import io.gpuagent.devtools.DevTlsFiles;
import io.gpuagent.market.tls.TlsSetupException.Problem;
import io.gpuagent.testsupport.TlsFixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loading one side's TLS material: every refusal names the file and the fix, and leaves nothing half-loaded. */
class TlsSettingsTest {
    @TempDir
    static Path dir;

    static DevCertificateAuthority ca;
    static TlsFixtures.Paths agent;
    static TlsFixtures.Paths scheduler;
    static Path caFile;

    @BeforeAll
    static void files() throws Exception {
        ca = TlsFixtures.ca("settings CA");
        agent = TlsFixtures.write(dir, "agent", ca, TlsFixtures.leaf(ca, "agent"));
        scheduler = TlsFixtures.write(dir, "scheduler", ca, TlsFixtures.leaf(ca, "scheduler"));
        caFile = TlsFixtures.writeCa(dir, "ca", ca.certificate());
    }

    private static TlsSettings load(Path cert, Path key, Path caPath, List<String> pins) throws TlsSetupException {
        return TlsSettings.load(cert, key, caPath, pins, 5000, Instant.now());
    }

    private static TlsSetupException refused(Problem problem, Path file, ThrowingLoad load) {
        try {
            load.run();
        } catch (TlsSetupException e) {
            assertThat(e.problem()).as(e.getMessage()).isEqualTo(problem);
            assertThat(e.file()).isEqualTo(file);
            if (file != null) {
                assertThat(e.getMessage()).as("names the file").contains(file.toString());
            }
            return e;
        }
        throw new AssertionError("expected " + problem);
    }

    interface ThrowingLoad {
        void run() throws TlsSetupException;
    }

    @Test
    void loadsChainKeyCaAndCanonicalPins() throws Exception {
        String pin = Fingerprints.sha256(TlsFixtures.leaf(ca, "x").certificate());
        TlsSettings s = load(agent.cert(), agent.key(), caFile, List.of(pin, pin.replace(":", "").toLowerCase()));
        assertThat(s.leaf().getSubjectX500Principal().getName()).contains("CN=agent");
        assertThat(s.chain()).hasSize(2);
        assertThat(s.key().getAlgorithm()).isEqualTo("EC");
        assertThat(s.pins()).as("both spellings are one pin").containsExactly(pin.replace(":", "").toLowerCase());
        assertThat(s.handshakeTimeoutMs()).isEqualTo(5000);
        assertThat(s.warnings()).isEmpty();
    }

    @Test
    void theDefaultConfigHasNoFilesAndSaysHowToGetThem() throws Exception {
        var market = io.gpuagent.config.ConfigLoader.load(null, java.util.Map.of(), List.of()).market();
        TlsSetupException e = refused(Problem.MISSING, null, () -> TlsSettings.fromConfig(market, Instant.now()));
        assertThat(e.getMessage()).contains("market.tls_cert").contains("gpu-agent tls init");
    }

    @Test
    void aMissingFileIsNamedWithHowToCreateIt() {
        Path nope = dir.resolve("nope.pem");
        TlsSetupException e = refused(Problem.MISSING, nope, () -> load(nope, agent.key(), caFile, List.of()));
        assertThat(e.getMessage()).contains("gpu-agent tls init");
        refused(Problem.MISSING, nope, () -> load(agent.cert(), nope, caFile, List.of()));
        refused(Problem.MISSING, nope, () -> load(agent.cert(), agent.key(), nope, List.of()));
    }

    @Test
    void aKeyReadableByOthersIsRefusedWithTheChmodThatFixesIt() throws Exception {
        Path key = dir.resolve("loose-key.pem");
        Files.copy(agent.key(), key);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        TlsSetupException e = refused(Problem.KEY_PERMISSIONS, key, () -> load(agent.cert(), key, caFile, List.of()));
        assertThat(e.getMessage()).contains("chmod 600 " + key).contains("rw-r--r--");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r-----"));
        refused(Problem.KEY_PERMISSIONS, key, () -> load(agent.cert(), key, caFile, List.of()));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("r--------"));
        assertThat(load(agent.cert(), key, caFile, List.of()).key()).as("0400 is fine").isNotNull();
    }

    @Test
    void filesThatAreNotPemOrHoldTheWrongKindOfKeyAreRefused() throws Exception {
        Path junk = dir.resolve("junk.pem");
        Files.writeString(junk, "hello\n");
        refused(Problem.NOT_PEM, junk, () -> load(junk, agent.key(), caFile, List.of()));
        refused(Problem.NOT_PEM, junk, () -> load(agent.cert(), agent.key(), junk, List.of()));
        Files.setPosixFilePermissions(junk, PosixFilePermissions.fromString("rw-------"));
        refused(Problem.NOT_PEM, junk, () -> load(agent.cert(), junk, caFile, List.of()));

        Path der = dir.resolve("agent.der");
        Files.write(der, TlsFixtures.leaf(ca, "d").certificate().getEncoded());
        TlsSetupException e = refused(Problem.NOT_PEM, der, () -> load(der, agent.key(), caFile, List.of()));
        assertThat(e.getMessage()).contains("openssl x509 -inform der");

        Path sec1 = dir.resolve("sec1-key.pem");
        Files.writeString(sec1, "-----BEGIN EC PRIVATE KEY-----\nMAA=\n-----END EC PRIVATE KEY-----\n");
        Files.setPosixFilePermissions(sec1, PosixFilePermissions.fromString("rw-------"));
        e = refused(Problem.UNSUPPORTED_KEY, sec1, () -> load(agent.cert(), sec1, caFile, List.of()));
        assertThat(e.getMessage()).contains("openssl pkcs8 -topk8 -nocrypt -in " + sec1);

        Path encrypted = dir.resolve("enc-key.pem");
        Files.writeString(encrypted, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n");
        Files.setPosixFilePermissions(encrypted, PosixFilePermissions.fromString("rw-------"));
        refused(Problem.UNSUPPORTED_KEY, encrypted, () -> load(agent.cert(), encrypted, caFile, List.of()));
    }

    @Test
    void aKeyThatIsNotTheLeafsIsRefused() {
        TlsSetupException e = refused(Problem.KEY_MISMATCH, scheduler.key(),
                () -> load(agent.cert(), scheduler.key(), caFile, List.of()));
        assertThat(e.getMessage()).contains("CN=agent").contains("leaf must come first");
    }

    @Test
    void aChainWithTheCaFirstIsRefusedAsAKeyMismatch() throws Exception {
        Path reversed = dir.resolve("reversed.pem");
        Files.writeString(reversed, DevTlsFiles.certificates(ca.certificate()) + Files.readString(agent.cert()));
        refused(Problem.KEY_MISMATCH, agent.key(), () -> load(reversed, agent.key(), caFile, List.of()));
    }

    @Test
    void rsaKeysLoadToo() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair rsa = g.generateKeyPair();
        TlsFixtures.Paths p = TlsFixtures.write(dir, "rsa", ca, ca.issue("rsa", rsa, List.of("localhost"), List.of(),
                TlsFixtures.YESTERDAY, TlsFixtures.NEXT_YEAR));
        assertThat(load(p.cert(), p.key(), caFile, List.of()).key().getAlgorithm()).isEqualTo("RSA");
    }

    @Test
    void anExpiredOwnCertificateIsRefusedANotYetValidOneNamesTheClockAndOneExpiringSoonWarns() throws Exception {
        Instant now = Instant.now();
        TlsFixtures.Paths expired = TlsFixtures.write(dir, "expired", ca,
                ca.issue("old", List.of(), List.of(), now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1))));
        TlsSetupException e = refused(Problem.EXPIRED, expired.cert(), () -> load(expired.cert(), expired.key(), caFile, List.of()));
        assertThat(e.getMessage()).contains("expired on").contains("tls init --force");

        TlsFixtures.Paths future = TlsFixtures.write(dir, "future", ca,
                ca.issue("new", List.of(), List.of(), now.plus(Duration.ofDays(2)), now.plus(Duration.ofDays(30))));
        e = refused(Problem.NOT_YET_VALID, future.cert(), () -> load(future.cert(), future.key(), caFile, List.of()));
        assertThat(e.getMessage()).contains("clock");

        TlsFixtures.Paths soon = TlsFixtures.write(dir, "soon", ca,
                ca.issue("soon", List.of(), List.of(), now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(5))));
        TlsSettings s = load(soon.cert(), soon.key(), caFile, List.of());
        assertThat(s.warnings()).singleElement().asString().contains("expires on").contains(soon.cert().toString());
    }

    @Test
    void aCaThatDidNotSignOurOwnCertificateIsFineAndAnExpiredCaWarns() throws Exception {
        DevCertificateAuthority other = TlsFixtures.ca("the scheduler's CA");
        Path otherCa = TlsFixtures.writeCa(dir, "other-ca", other.certificate());
        TlsSettings s = load(agent.cert(), agent.key(), otherCa, List.of());
        assertThat(s.trustedCas()).containsExactly(other.certificate());
        assertThat(s.warnings()).isEmpty();

        Instant now = Instant.now();
        DevCertificateAuthority old = DevCertificateAuthority.create("old CA", now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)));
        Path bundle = TlsFixtures.writeCa(dir, "bundle", old.certificate(), ca.certificate());
        s = load(agent.cert(), agent.key(), bundle, List.of());
        assertThat(s.trustedCas()).hasSize(2);
        assertThat(s.warnings()).singleElement().asString().contains("old CA").contains("expired");
    }

    @Test
    void pinsAloneAreEnoughButNeitherCaNorPinsIsRefusedAndABadPinIsNamed() throws Exception {
        String pin = Fingerprints.sha256(TlsFixtures.leaf(ca, "p").certificate());
        assertThat(load(agent.cert(), agent.key(), null, List.of(pin)).trustedCas()).isEmpty();
        refused(Problem.NO_TRUST, null, () -> load(agent.cert(), agent.key(), null, List.of()));
        TlsSetupException e = refused(Problem.BAD_PIN, null, () -> load(agent.cert(), agent.key(), caFile, List.of("abc")));
        assertThat(e.getMessage()).contains("\"abc\"").contains("gpu-agent tls fingerprint");
    }
}

package io.gpuagent.testsupport;

import io.gpuagent.devtools.DevCertificateAuthority;
import io.gpuagent.devtools.DevTlsFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** Certificates and files for the TLS tests, made with the development CA. */
public final class TlsFixtures {
    public static final Instant NOW = Instant.now();
    public static final Instant YESTERDAY = NOW.minus(Duration.ofDays(1));
    public static final Instant NEXT_YEAR = NOW.plus(Duration.ofDays(365));

    private TlsFixtures() {
    }

    public static DevCertificateAuthority ca(String name) throws GeneralSecurityException {
        return DevCertificateAuthority.create(name, YESTERDAY, NOW.plus(Duration.ofDays(3650)));
    }

    /** A leaf valid from yesterday for a year, naming localhost and the loopback addresses. */
    public static DevCertificateAuthority.Issued leaf(DevCertificateAuthority ca, String cn) throws GeneralSecurityException {
        return ca.issue(cn, List.of("localhost"), List.of("127.0.0.1", "::1"), YESTERDAY, NEXT_YEAR);
    }

    /** The certificate (then the CA's) and the key as PEM files {@code <name>.pem} and {@code <name>-key.pem} (0600). */
    public static Paths write(Path dir, String name, DevCertificateAuthority ca, DevCertificateAuthority.Issued leaf)
            throws IOException, GeneralSecurityException {
        Path cert = dir.resolve(name + ".pem");
        Path key = dir.resolve(name + "-key.pem");
        Files.writeString(cert, DevTlsFiles.certificates(leaf.certificate(), ca.certificate()), StandardCharsets.US_ASCII);
        Files.writeString(key, DevTlsFiles.key(leaf.key()), StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        return new Paths(cert, key);
    }

    public static Path writeCa(Path dir, String name, X509Certificate... cas) throws IOException, GeneralSecurityException {
        Path p = dir.resolve(name + ".pem");
        Files.writeString(p, DevTlsFiles.certificates(cas), StandardCharsets.US_ASCII);
        return p;
    }

    /** A certificate file and its key file. */
    public record Paths(Path cert, Path key) {
    }
}

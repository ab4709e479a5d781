package io.gpuagent.devtools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * The files {@code gpu-agent tls init} writes into one directory (created with mode 0700):
 * <pre>
 * ca.pem              the development CA's certificate            0644  tls_ca on both sides
 * ca-key.pem          its private key (PKCS#8)                    0600  keep private; only to issue more
 * agent.pem           the agent's certificate, then the CA's      0644  tls_cert of the agent
 * agent-key.pem       the agent's private key (PKCS#8)            0600  tls_key of the agent
 * scheduler.pem       the scheduler's certificate, then the CA's  0644  the scheduler's certificate
 * scheduler-key.pem   the scheduler's private key (PKCS#8)        0600  the scheduler's key
 * </pre>
 * Each file is written to a temporary name with its final mode, then renamed, so a reader never sees
 * half a file or a key with a loose mode. Nothing is written when any of the six exists and
 * overwriting was not asked for.
 */
public final class DevTlsFiles {
    public static final String CA = "ca.pem";
    public static final String CA_KEY = "ca-key.pem";
    public static final String AGENT = "agent.pem";
    public static final String AGENT_KEY = "agent-key.pem";
    public static final String SCHEDULER = "scheduler.pem";
    public static final String SCHEDULER_KEY = "scheduler-key.pem";
    public static final List<String> ALL = List.of(CA, CA_KEY, AGENT, AGENT_KEY, SCHEDULER, SCHEDULER_KEY);

    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> KEY_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> CERT_MODE = PosixFilePermissions.fromString("rw-r--r--");

    private DevTlsFiles() {
    }

    /** Which of the six files already exist in {@code dir}. */
    public static List<Path> existing(Path dir) {
        List<Path> found = new ArrayList<>();
        for (String name : ALL) {
            Path p = dir.resolve(name);
            if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                found.add(p);
            }
        }
        return found;
    }

    /**
     * Writes the six files.
     *
     * @param overwrite replace files that exist; when false and any exists, nothing is written
     * @throws FileAlreadyExistsException naming the first file that exists, when not overwriting
     */
    public static void write(Path dir, DevCertificateAuthority ca, DevCertificateAuthority.Issued agent,
                             DevCertificateAuthority.Issued scheduler, boolean overwrite) throws IOException {
        List<Path> present = existing(dir);
        if (!overwrite && !present.isEmpty()) {
            throw new FileAlreadyExistsException(present.get(0).toString(), null,
                    present.size() + " of the TLS files exist already");
        }
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, attributes(DIR_MODE));
            Files.setPosixFilePermissions(dir, DIR_MODE); // the umask may have narrowed it; never widened
        }
        // an existing directory keeps its mode (--dir . must not chmod the owner's working directory):
        // the keys in it are 0600 whatever the directory's mode
        try {
            writeAtomically(dir.resolve(CA_KEY), key(ca.key()), KEY_MODE);
            writeAtomically(dir.resolve(AGENT_KEY), key(agent.key()), KEY_MODE);
            writeAtomically(dir.resolve(SCHEDULER_KEY), key(scheduler.key()), KEY_MODE);
            writeAtomically(dir.resolve(CA), certificates(ca.certificate()), CERT_MODE);
            writeAtomically(dir.resolve(AGENT), certificates(agent.certificate(), ca.certificate()), CERT_MODE);
            writeAtomically(dir.resolve(SCHEDULER), certificates(scheduler.certificate(), ca.certificate()), CERT_MODE);
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("a certificate this process just built cannot be encoded", e);
        }
    }

    /** PEM of the certificates, in order (a chain: leaf first). */
    public static String certificates(X509Certificate... chain) throws CertificateEncodingException {
        StringBuilder sb = new StringBuilder();
        for (X509Certificate c : chain) {
            sb.append(pem("CERTIFICATE", c.getEncoded()));
        }
        return sb.toString();
    }

    /** PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}) of a JDK private key. */
    public static String key(PrivateKey key) {
        if (!"PKCS#8".equals(key.getFormat())) {
            throw new IllegalArgumentException("not a PKCS#8 key: " + key.getFormat());
        }
        return pem("PRIVATE KEY", key.getEncoded());
    }

    /** One PEM block (RFC 7468): base64 in lines of 64, as openssl writes it. */
    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    private static void writeAtomically(Path target, String text, Set<PosixFilePermission> mode) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        // created with its final mode: a key is never readable by others, not even for a moment
        Files.createFile(tmp, attributes(mode));
        Files.setPosixFilePermissions(tmp, mode); // the umask may have narrowed it (certificates are public)
        Files.writeString(tmp, text, StandardCharsets.US_ASCII);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static FileAttribute<Set<PosixFilePermission>> attributes(Set<PosixFilePermission> mode) {
        return PosixFilePermissions.asFileAttribute(mode);
    }
}
